"""Light and instant (issue 20): what a command costs before it does anything, measured beside its
peers in one run (the machine is shared: ratios are the figures).

    python benchmarks/bench_light.py [--reps 5] [--before PYTHON] [--ort PATH] [--install]

- start-up: `drumfont export --style rock -n 16` beside a bare `python -c "import numpy"` (and
  `import torch` where installed), paired runs interleaved, medians; with --before, the same
  command under another interpreter whose `drumfont` is the code to compare (e.g. main's venv).
- studio: `drumfont tui --no-midi --no-audio` in a pseudo-terminal (80x24) until its first frame
  is on screen (the transport line, drawn with the first frame), and until the VAE is loaded
  (the status line's "engine: vae").
- sampling: the drum VAE through the numpy runtime beside the same preset in torch (the path
  before: torch's sampler, torch threads 1 and default), 1 bar and 1,000 bars, medians.
- runtime: numpy (the drumfont.nn layers) vs ONNX Runtime for the VAE decoder: import + first
  inference in a fresh process, the bytes each adds to an install (--ort: a folder holding
  onnxruntime, e.g. made by `pip install --target DIR onnxruntime onnx`; torch exports the model).
- install (--install, minutes): site-packages of `pip install .` in a clean venv; with --before
  also of the checkout at --before-src with torch installed first, as .ci/run did.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import platform
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {load:.1f}, Python {platform.python_version()}"


# --- start-up ----------------------------------------------------------------------------------

def wall(cmd: list[str], cwd: str) -> float:
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {res.stderr.strip()[-300:]}")
    return took


def startup(reps: int, before: str | None) -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        export = ["-m", "drumfont", "export", "--style", "rock", "-n", "16", "--out", "x", "--seed", "0", "--force"]
        cmds = {"python -c 'import numpy'": [py, "-c", "import numpy"],
                "drumfont export --style rock -n 16": [py, *export]}
        if before:
            cmds["before: drumfont export --style rock -n 16"] = [before, *export]
        if shutil.which(py) and subprocess.run([py, "-c", "import torch"], capture_output=True).returncode == 0:
            cmds["python -c 'import torch'"] = [py, "-c", "import torch"]
        for cmd in cmds.values():  # warm the file cache
            wall(cmd, tmp)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(reps):
            for name, cmd in cmds.items():
                times[name].append(wall(cmd, tmp))
    base = statistics.median(times["python -c 'import numpy'"])
    print(f"start-up (medians of {reps} interleaved runs):")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:46s} {med:6.3f} s  {med / base:5.1f}x import numpy")


# --- the studio --------------------------------------------------------------------------------

def tui_once(marks: tuple[bytes, ...], python: str = sys.executable, timeout: float = 60.0) -> dict[bytes, float]:
    """Seconds from spawning `drumfont tui` in an 80x24 pty until each mark is on screen."""
    with tempfile.TemporaryDirectory() as tmp:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
        t0 = time.perf_counter()
        proc = subprocess.Popen([python, "-m", "drumfont", "tui", "--no-midi", "--no-audio",
                                 "--data-dir", tmp], stdin=slave, stdout=slave, stderr=slave, env=env,
                                start_new_session=True, cwd=tmp)
        os.close(slave)
        seen: dict[bytes, float] = {}
        buf = b""
        try:
            while len(seen) < len(marks) and time.perf_counter() - t0 < timeout:
                ready, _, _ = select.select([master], [], [], 0.05)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    buf += chunk
                    # a terminal's answer to Textual's queries keeps it from waiting on them
                    if b"\x1b[6n" in chunk:
                        os.write(master, b"\x1b[1;1R")
                    now = time.perf_counter() - t0
                    for m in marks:
                        if m not in seen and m in buf:
                            seen[m] = now
        finally:
            os.write(master, b"q")
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            os.close(master)
    return seen


def studio(reps: int, before: str | None) -> None:
    marks = (b"BPM", b"engine: vae")
    pythons = {"": sys.executable, **({"before: ": before} if before else {})}
    runs: dict[str, list[dict[bytes, float]]] = {k: [] for k in pythons}
    for i in range(reps + 1):  # interleaved; the first round warms the file cache
        for k, py in pythons.items():
            r = tui_once(marks, py)
            if i:
                runs[k].append(r)
    print(f"studio (medians of {reps} starts, 80x24 pseudo-terminal, interleaved):")
    for k in pythons:
        for m, label in zip(marks, ("first frame (the transport line)", "VAE loaded (status 'engine: vae')")):
            got = [r[m] for r in runs[k] if m in r]
            name = k + label
            if len(got) < len(runs[k]):
                print(f"  {name:46s} not seen in {len(runs[k]) - len(got)} of {len(runs[k])} starts")
            if got:
                print(f"  {name:46s} {statistics.median(got):6.3f} s  (min {min(got):.3f}, max {max(got):.3f})")


# --- sampling ----------------------------------------------------------------------------------

def interleaved_ms(fns: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """(median, min) milliseconds of each function, run in turn `repeat` times: on a shared machine
    the peers see the same load."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    return {k: (statistics.median(v), min(v)) for k, v in times.items()}


def sampling(repeat: int = 60) -> None:
    from drumfont import drums

    model = drums.load()
    fns = {}
    for n in (1, 1000):
        fns[f"numpy runtime, {n} bar(s), Patterns"] = lambda n=n: model.sample("rock", n, seed=1)
        fns[f"numpy runtime, {n} bar(s), arrays"] = lambda n=n: model.sample_arrays("rock", n, seed=1)
    try:
        import torch

        from drumfont.checkpoint import build_model
        from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig
        from drumfont.nn import preset as presets
        from drumfont.paths import preset_path
    except ImportError:
        torch = None
    if torch is not None:
        twin = build_model(presets.load(preset_path(drums.PRESET_NAME), "vae"), HierarchicalVAE, HVAEConfig,
                           "vae", config_key="model")
        g = model._genre("rock")
        mean, chol = torch.tensor(model._mean), torch.tensor(model._chol)

        def torch_sample(n: int, threads: int):  # the path before: DrumModel.sample_arrays on torch's sampler
            torch.set_num_threads(threads)
            gen = torch.Generator().manual_seed(1)
            with torch.inference_mode():
                eps = torch.randn((n, model.config.z_high), generator=gen)
                z_high = mean[g] + eps @ chol[g].T
                hits, vel, off = twin.sample(n, gen, 1.0, z_high=z_high)
                return hits.numpy() > 0, vel.numpy(), off.numpy()
        for n in (1, 1000):
            fns[f"torch {torch.__version__}, 1 thread, {n} bar(s), arrays"] = lambda n=n: torch_sample(n, 1)
    print(f"sampling, the shipped drum VAE, interleaved x{repeat} (median / min):")
    for name, (med, low) in interleaved_ms(fns, repeat).items():
        print(f"  {name:52s} {med:8.3f} / {low:8.3f} ms")
    if torch is None:
        print("  (torch not installed: no torch beside it)")
        return
    # torch's default (a thread per core) last and alone: its idle threads spin and would slow the peers
    threads = os.cpu_count() or 1
    alone = {f"torch, {threads} threads (its default), {n} bar(s), arrays": (lambda n=n: torch_sample(n, threads))
             for n in (1, 1000)}
    for name, (med, low) in interleaved_ms(alone, repeat).items():
        print(f"  {name:52s} {med:8.3f} / {low:8.3f} ms")


# --- numpy vs ONNX Runtime ---------------------------------------------------------------------

# The decoder from drumfont.nn's layers, as drums/nets.py's HVAE.decode builds it (that module
# would also import the drums package, whose .mid code is no part of the runtime).
NUMPY_FIRST = """
import time; t = time.perf_counter()
import numpy as np
from drumfont.nn import layers as L, preset
s = preset.load({preset!r}, "vae")["state_dict"]
dec_in = L.Linear(s, "dec_in"); d1 = L.ConvTranspose1d(s, "dec.1", stride=2, padding=1)
d3 = L.ConvTranspose1d(s, "dec.3", stride=2, padding=1)
heads = [L.Conv1d(s, n, padding=1) for n in ("hit_head", "vel_head", "offset_head")]
t_import = time.perf_counter() - t
h = L.leaky_relu(dec_in(np.zeros((1, 16), np.float32)).reshape(1, 64, 4).transpose(0, 2, 1))
h = L.leaky_relu(d3(L.leaky_relu(d1(h))))
out = heads[0](h), L.sigmoid(heads[1](h)), np.tanh(heads[2](h))
print(t_import, time.perf_counter() - t)
"""
ORT_FIRST = """
import time; t = time.perf_counter()
import numpy as np
import onnxruntime as ort
s = ort.InferenceSession({model!r}, providers=["CPUExecutionProvider"])
t_import = time.perf_counter() - t
s.run(None, {{"zh": np.zeros((1, 4), np.float32), "zl": np.zeros((1, 12), np.float32)}})
print(t_import, time.perf_counter() - t)
"""


def folder_mb(path: Path, bytecode: bool = True) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()
               and (bytecode or "__pycache__" not in f.parts)) / 2**20


def runtimes(ort_path: str, reps: int) -> None:
    from drumfont.paths import preset_path

    path = str(preset_path("drums_vae.safetensors"))

    with tempfile.TemporaryDirectory() as tmp:
        model = str(Path(tmp) / "decoder.onnx")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([ort_path, os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, "-c", (
            "import sys, torch, warnings; warnings.simplefilter('ignore')\n"
            "from drumfont.checkpoint import build_model\nfrom drumfont.drums.hvae import HierarchicalVAE, HVAEConfig\n"
            "from drumfont.nn import preset\n"
            f"m = build_model(preset.load({path!r}, 'vae'), HierarchicalVAE, HVAEConfig, 'v', config_key='model')\n"
            "class D(torch.nn.Module):\n    def __init__(s, m): super().__init__(); s.m = m\n"
            "    def forward(s, zh, zl): return s.m.decode(zh, zl)\n"
            f"torch.onnx.export(D(m), (torch.zeros(1, 4), torch.zeros(1, 12)), {model!r}, input_names=['zh', 'zl'],"
            " dynamo=False)\n")], env=env, check=True, capture_output=True)
        runs: dict[str, list[tuple[float, float]]] = {"numpy (drumfont.nn)": [], "ONNX Runtime": []}
        for _ in range(reps + 1):
            for name, code in (("numpy (drumfont.nn)", NUMPY_FIRST.format(preset=path)),
                               ("ONNX Runtime", ORT_FIRST.format(model=model))):
                out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
                runs[name].append(tuple(float(x) for x in out.stdout.split()))
    import onnxruntime  # noqa: F401  (its folder, for the size)

    ort_dir = Path(sys.modules["onnxruntime"].__file__).parent
    print(f"runtime for the VAE decoder (fresh process, medians of {reps}; import includes loading the model):")
    for name, rs in runs.items():
        rs = rs[1:]
        print(f"  {name:22s} import {statistics.median(r[0] for r in rs):6.3f} s   "
              f"import + first inference {statistics.median(r[1] for r in rs):6.3f} s")
    import safetensors

    st = Path(safetensors.__file__).parent
    print(f"  install size added: numpy runtime {folder_mb(st):.1f} MB (safetensors; numpy is there anyway), "
          f"ONNX Runtime {folder_mb(ort_dir):.0f} MB (onnxruntime alone; protobuf and flatbuffers besides)")


# --- install size --------------------------------------------------------------------------------

def site_packages_mb(venv: Path, bytecode: bool = True) -> float:
    sp = next(venv.glob("lib/python*/site-packages"))
    return folder_mb(sp, bytecode)


def install(before_src: str | None) -> None:
    print("install size (site-packages of a clean venv):")
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "light"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        base, base_src = site_packages_mb(venv), site_packages_mb(venv, False)
        subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", str(ROOT)], check=True)
        print(f"  pip install .                                   {site_packages_mb(venv) - base:7.0f} MB "
              f"({site_packages_mb(venv, False) - base_src:.0f} MB without the bytecode pip compiles; a bare "
              f"venv's pip and setuptools, {base:.0f} MB, not counted)")
        if before_src:
            venv = Path(tmp) / "before"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
            subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", before_src], check=True)
            print(f"  before: torch==2.13.0 then pip install {before_src}  {site_packages_mb(venv) - base:7.0f} MB "
                  f"({site_packages_mb(venv, False) - base_src:.0f} MB without bytecode)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--before", default=None, help="a Python whose drumfont is the code to compare against")
    p.add_argument("--before-src", default=None, help="with --install: a checkout to install the same way, torch first")
    p.add_argument("--ort", default=None, help="a folder holding onnxruntime and onnx (pip install --target)")
    p.add_argument("--install", action="store_true", help="measure pip install . in a clean venv (minutes)")
    p.add_argument("--only", nargs="*", default=None, choices=("startup", "studio", "sampling", "runtime", "install"))
    args = p.parse_args()
    only = set(args.only or ("startup", "studio", "sampling", "runtime") + (("install",) if args.install else ()))
    print(f"machine: {machine()}")
    if "startup" in only:
        startup(args.reps, args.before)
    if "studio" in only:
        studio(args.reps, args.before)
    if "sampling" in only:
        sampling()
    if "runtime" in only and args.ort:
        sys.path.insert(0, args.ort)
        runtimes(args.ort, args.reps)
    if "install" in only:
        install(args.before_src)


if __name__ == "__main__":
    main()
