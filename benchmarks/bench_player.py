"""Live player timing: send-time error against the schedule, accumulated drift, and arrival
spread at a JACK receiver, with the clock in its own process (the default) and in a thread of
the busy parent (in_process=True), idle and under the TUI's kind of load.

Each run starts a private JACK server (dummy driver, 48 kHz, --period frames), plays a dense
groove (sixteenth hats, clock out on: 24 pulses per beat) for --seconds, and reads back the
clock's own record of (deadline, sent) per message. Two receivers listen: a libjack client
(ctypes, its own process) that stamps arrivals with perf_counter_ns, the clock of the
deadlines; and jack_midi_dump, whose frame stamps are JACK's own timeline. Load ('busy'): the
parent runs a pure-Python busy thread and a thread that samples the drum VAE (or, before its
preset exists, a small torch MLP) in a loop, as the TUI does. One row per run, with
os.getloadavg() before and after and the scheduling the clock was granted.

    python benchmarks/bench_player.py [--seconds 30] [--bpm 120 180] [--modes process thread]
        [--loads idle busy] [--grooves straight timed] [--period 64] [--jack-rt] [--no-rt] [--nice -5]

`--grooves timed` plays the same groove with seeded micro-timing on every hit (offsets up to
+-0.45 of a sixteenth, early downbeats included); first, the scheduler's own cost per step
(Sequencer.step_events, straight vs timed) is printed, measured in this process.

The figures in reports/README.md: `--jack-rt` (SCHED_FIFO clock, the product default where allowed) and
`--jack-rt --no-rt --nice 0 --modes process` (what an unprivileged user gets).
"""

from __future__ import annotations

import argparse
import ctypes
import difflib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

# The jack_midi_dump reader is shared with the live tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import jack_dump  # noqa: E402

GROOVE = """
KK X.......x.x.....
SN ....X..o....X..o
CH xxxxxxxxxxxxxx.x
OH ..............x.
"""


def start_jack(period: int, realtime: bool) -> tuple[subprocess.Popen, dict]:
    name = f"bench-{os.getpid()}-{uuid.uuid4().hex[:4]}"
    env = dict(os.environ, JACK_DEFAULT_SERVER=name)
    rt = ["-R", "-P", "70"] if realtime else ["--no-realtime"]
    proc = subprocess.Popen(["jackd", *rt, "-n", name, "-d", "dummy", "-r", "48000", "-p", str(period)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    for _ in range(200):
        res = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True)
        if "system:capture_1" in res.stdout:
            os.environ["JACK_DEFAULT_SERVER"] = name
            return proc, env
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("jackd did not start")


def stop_proc(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Load:
    """The TUI's kind of load in this process: a busy Python thread + model sampling."""

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)
        self.stop = threading.Event()
        self.samples = 0
        self.spins = 0
        try:
            from drumfont import drums

            model = drums.load() if drums.preset_available() else None
        except Exception:
            model = None
        if model is not None:
            self.what = "drum VAE sample(16)"
            self.step = lambda: model.sample("rock", 16, seed=self.samples)
        else:
            net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                      torch.nn.ReLU(), torch.nn.Linear(256, 144))
            gen = torch.Generator().manual_seed(0)

            def step():
                with torch.no_grad():
                    return torch.sigmoid(net(torch.randn(16, 64, generator=gen))).bernoulli(generator=gen)
            self.what = "torch MLP 64-256-256-144, batch 16"
            self.step = step

    def _busy(self) -> None:
        while not self.stop.is_set():
            x = 0
            for i in range(10_000):  # pure Python: holds the GIL as a redraw would
                x += i * i
            self.spins += 1

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.step()
            self.samples += 1

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self._busy, daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def record_monitor(env: dict, source: str) -> tuple[subprocess.Popen, object]:
    name = f"rx{uuid.uuid4().hex[:5]}"
    out = tempfile.TemporaryFile()
    proc = subprocess.Popen(["jack_midi_dump", "-a", name], env=env, stdout=out, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if f"{name}:input" in subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout:
            break
        time.sleep(0.05)
    subprocess.run(["jack_connect", source, f"{name}:input"], env=env, check=True)
    return proc, out


def parse_dump(out) -> list[tuple[int, tuple[int, ...]]]:
    """(JACK frame, message bytes) of each line jack_midi_dump wrote to the file `out`."""
    out.seek(0)
    return jack_dump.parse_dump(out.read())


class _MidiEvent(ctypes.Structure):
    _fields_ = [("time", ctypes.c_uint32), ("size", ctypes.c_size_t),
                ("buffer", ctypes.POINTER(ctypes.c_ubyte))]


def receiver_main(name: str, source: str, out_path: str) -> None:
    """A JACK MIDI input client (libjack through ctypes) that stamps each arriving message with
    time.perf_counter_ns() -- the clock the player's deadlines use -- in its process callback.
    Runs as its own process (`--receiver`) until SIGTERM, then saves (ns, status) rows."""
    jack = ctypes.CDLL("libjack.so.0")
    jack.jack_client_open.restype = ctypes.c_void_p
    jack.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    jack.jack_port_register.restype = ctypes.c_void_p
    jack.jack_port_register.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                                        ctypes.c_ulong]
    jack.jack_port_get_buffer.restype = ctypes.c_void_p
    jack.jack_port_get_buffer.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    jack.jack_midi_get_event_count.restype = ctypes.c_uint32
    jack.jack_midi_get_event_count.argtypes = [ctypes.c_void_p]
    jack.jack_midi_event_get.argtypes = [ctypes.POINTER(_MidiEvent), ctypes.c_void_p, ctypes.c_uint32]
    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)
    jack.jack_set_process_callback.argtypes = [ctypes.c_void_p, callback_type, ctypes.c_void_p]
    jack.jack_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    jack.jack_activate.argtypes = [ctypes.c_void_p]
    jack.jack_client_close.argtypes = [ctypes.c_void_p]
    status = ctypes.c_int(0)
    client = jack.jack_client_open(name.encode(), 1, ctypes.byref(status))  # 1 = JackNoStartServer
    if not client:
        raise SystemExit(f"receiver: cannot open a JACK client (status {status.value})")
    port = jack.jack_port_register(client, b"input", b"8 bit raw midi", 1, 0)  # 1 = JackPortIsInput
    rows: list[tuple[int, int]] = []
    ev = _MidiEvent()
    now = time.perf_counter_ns

    def process(nframes, _arg):
        t = now()
        buf = jack.jack_port_get_buffer(port, nframes)
        for i in range(jack.jack_midi_get_event_count(buf)):
            if jack.jack_midi_event_get(ctypes.byref(ev), buf, i) == 0 and ev.size:
                rows.append((t, ev.buffer[0]))
        return 0

    cb = callback_type(process)
    jack.jack_set_process_callback(client, cb, None)
    jack.jack_activate(client)
    if jack.jack_connect(client, source.encode(), f"{name}:input".encode()) != 0:
        raise SystemExit(f"receiver: cannot connect {source}")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    while not done.wait(0.2):
        pass
    jack.jack_client_close(client)
    np.save(out_path, np.array(rows, dtype=np.int64).reshape(-1, 2))


def start_receiver(source: str) -> tuple[subprocess.Popen, str]:
    path = tempfile.mktemp(suffix=".npy")
    name = f"rx{uuid.uuid4().hex[:5]}"
    proc = subprocess.Popen([sys.executable, __file__, "--receiver", name, source, path],
                            stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the JACK receiver did not start")
    return proc, path


def groove(kind: str):
    """The benchmark's groove, straight or with seeded micro-timing on every hit."""
    from drumfont.score.pattern import from_text

    bar = from_text(GROOVE)
    if kind == "timed":
        bar = bar.with_offsets(np.random.default_rng(0).uniform(-0.45, 0.45, bar.velocities.shape))
    return bar


def step_cost_us(kind: str, steps: int = 200_000) -> float:
    """Microseconds per Sequencer.step_events call (what the clock runs once a sixteenth)."""
    from drumfont.live.schedule import Sequencer

    seq = Sequencer(pattern=groove(kind), swing=58)
    t0 = time.perf_counter()
    for step in range(steps):
        seq.step_events(step)
    return (time.perf_counter() - t0) / steps * 1e6


def pct(x: np.ndarray) -> str:
    return f"{np.percentile(x, 50):7.3f} {np.percentile(x, 99):7.3f} {x.max():7.3f}"


def one_run(mode: str, load: str, bpm: float, seconds: float, env: dict, nice: int, rt: bool,
            wall_receiver: bool = True, kind: str = "straight") -> dict:
    from drumfont.live import Player, PortSpec

    tag = uuid.uuid4().hex[:5]
    spec = PortSpec(virtual=f"b{tag}", backend="jack", client_name=f"bench{tag}")
    bars = max(1, round(seconds * bpm / 240))
    player = Player(port=spec, bpm=bpm, clock_out=True, bars=bars, in_process=(mode == "thread"),
                    record_timing=True, nice=nice, realtime=rt).open()
    mon, out = record_monitor(env, f"{spec.client_name}:{spec.virtual}")
    rx_proc, rx_path = start_receiver(f"{spec.client_name}:{spec.virtual}") if wall_receiver else (None, "")
    time.sleep(0.2)
    player.set_pattern(groove(kind))
    la0 = os.getloadavg()[0]
    t0 = time.monotonic()
    ctx = Load() if load == "busy" else None
    what = ctx.what if ctx else ""
    if ctx:
        ctx.__enter__()
    try:
        player.start()
        while not player.ended():
            time.sleep(0.1)
    finally:
        if ctx:
            ctx.__exit__(None, None, None)
    wall = time.monotonic() - t0
    la1 = os.getloadavg()[0]
    rec = player.timing()
    player.close()
    time.sleep(0.2)
    stop_proc(mon)
    got = parse_dump(out)
    if rx_proc is not None:
        stop_proc(rx_proc)
        wall_rx = np.load(rx_path)
        os.unlink(rx_path)
    else:
        wall_rx = np.zeros((0, 2), np.int64)

    deadline, sent, status = rec[:, 0], rec[:, 1], rec[:, 2]
    err_ms = (sent - deadline) / 1e6
    # drift: the late-run median error minus the early-run median error (5 s windows)
    t_rel = (deadline - deadline[0]) / 1e9
    early, late = err_ms[t_rel < 5], err_ms[t_rel > t_rel[-1] - 5]
    drift_ms = float(np.median(late) - np.median(early))
    # the schedule itself: first to last clock pulse against the nominal length
    clocks = deadline[status == 0xF8]
    nominal_ns = (len(clocks) - 1) * 60e9 / bpm / 24
    sched_dev_ns = float(clocks[-1] - clocks[0] - nominal_ns)
    # receiver: pair messages by status sequence, then frame stamps vs deadlines
    sm = difflib.SequenceMatcher(a=status.tolist(), b=[m[0] for _, m in got], autojunk=False)
    pairs = [(i + k, j + k) for i, j, n in sm.get_matching_blocks() for k in range(n)]
    lost = len(status) - len(pairs)
    rx = np.array([got[j][0] for _, j in pairs], dtype=np.float64) / 48_000 * 1e3     # ms, receiver clock
    dl = np.array([deadline[i] for i, _ in pairs], dtype=np.float64) / 1e6             # ms, schedule
    slope, icpt = np.polyfit(dl - dl[0], rx, 1)
    resid = np.abs(rx - (slope * (dl - dl[0]) + icpt))
    # receiver in wall-clock time: arrival (perf_counter_ns in its process callback) - deadline
    sm2 = difflib.SequenceMatcher(a=status.tolist(), b=wall_rx[:, 1].tolist(), autojunk=False)
    pairs2 = [(i + k, j + k) for i, j, n in sm2.get_matching_blocks() for k in range(n)]
    arrive = np.array([(wall_rx[j, 0] - deadline[i]) / 1e6 for i, j in pairs2] or [np.nan])
    return dict(mode=mode, load=load, bpm=bpm, kind=kind, wall=wall, n=len(err_ms), err=pct(np.abs(err_ms)),
                late=int((np.abs(err_ms) > 1.0).sum()),
                arrive=pct(arrive), spread=float(np.percentile(arrive, 99) - np.percentile(arrive, 1)),
                lost2=len(status) - len(pairs2),
                drift=drift_ms, sched=sched_dev_ns, rx=pct(resid), rate_ppm=(slope - 1) * 1e6, lost=lost,
                la=f"{la0:.2f}->{la1:.2f}", what=what, samples=ctx.samples if ctx else 0,
                prio=player.priority)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--receiver":
        receiver_main(*sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--bpm", type=float, nargs="+", default=[120.0, 180.0])
    ap.add_argument("--modes", nargs="+", default=["process", "thread"], choices=["process", "thread"])
    ap.add_argument("--loads", nargs="+", default=["idle", "busy"], choices=["idle", "busy"])
    ap.add_argument("--grooves", nargs="+", default=["straight"], choices=["straight", "timed"])
    ap.add_argument("--period", type=int, default=64, help="JACK period in frames (64 = 1.33 ms)")
    ap.add_argument("--nice", type=int, default=-5,
                    help="clock process nice value where SCHED_FIFO is refused")
    ap.add_argument("--no-rt", action="store_true", help="do not ask for SCHED_FIFO for the clock process")
    ap.add_argument("--jack-rt", action="store_true",
                    help="run jackd with -R (real-time) instead of --no-realtime")
    ap.add_argument("--no-wall-receiver", action="store_true",
                    help="leave out the Python receiver (its real-time callback competes for the CPUs)")
    args = ap.parse_args()
    if not shutil.which("jackd") or not shutil.which("jack_midi_dump"):
        raise SystemExit("needs jackd and jack_midi_dump (apt install jackd2)")
    costs = "  ".join(f"{kind} {step_cost_us(kind):.1f} us" for kind in ("straight", "timed"))
    print(f"# scheduler cost per sixteenth (Sequencer.step_events, load {os.getloadavg()[0]:.1f}): {costs}")
    jack, env = start_jack(args.period, args.jack_rt)
    jack_mode = "-R" if args.jack_rt else "no RT"
    print(f"# {os.cpu_count()} CPUs, JACK dummy 48 kHz period {args.period} ({jack_mode}), "
          f"clock {'no SCHED_FIFO, ' if args.no_rt else ''}nice {args.nice}, uid {os.getuid()}. "
          "All in ms. send: |sent - deadline| in the clock; >1ms: messages sent more than 1 ms late; "
          "drift: late minus early median send error; sched ns: first-to-last pulse deadline minus "
          "nominal; arrive: perf_counter at a JACK receiver's process callback minus deadline, spread "
          "= p99 - p1; frames: jack_midi_dump frame stamps, residual after a linear fit to the "
          "schedule (dummy-driver clock)")
    print(f"{'mode':8} {'load':5} {'groove':8} {'bpm':>4} {'msgs':>6}  {'send p50    p99     max':24} {'>1ms':>4} "
          f"{'drift':>7} {'sched ns':>8}  {'arrive p50  p99     max':24} {'spread':>6} {'lost':>4}  "
          f"{'frames p50 p99     max':24} {'ppm':>6} {'lost':>4}  loadavg")
    try:
        for mode in args.modes:
            for load in args.loads:
                for bpm, kind in [(b, k) for b in args.bpm for k in args.grooves]:
                    r = one_run(mode, load, bpm, args.seconds, env, args.nice, not args.no_rt,
                                not args.no_wall_receiver, kind)
                    load_note = f"  [{r['what']}: {r['samples']} batches]" if r['what'] else ""
                    print(f"{r['mode']:8} {r['load']:5} {r['kind']:8} {r['bpm']:4.0f} {r['n']:6d}  {r['err']:24} "
                          f"{r['late']:4d} {r['drift']:7.3f} {r['sched']:8.1f}  {r['arrive']:24} "
                          f"{r['spread']:6.3f} {r['lost2']:4d}  {r['rx']:24} {r['rate_ppm']:6.0f} "
                          f"{r['lost']:4d}  {r['la']}  {r['prio']}{load_note}", flush=True)
    finally:
        stop_proc(jack)


if __name__ == "__main__":
    main()
