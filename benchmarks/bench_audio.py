"""The built-in drum kit, measured: (1) render time, (2) onsets in the rendered audio against
the MIDI notes, (3) every voice sounds and a muted one does not, (4) underruns of the studio's
live audio over a minute with the UI busy sampling, (5) key press -> first sample out.

    python benchmarks/bench_audio.py [--seconds 60] [--presses 20] [--skip-live]

(1)-(3) need FluidSynth only. (4)-(5) start a private JACK server (dummy driver, 48 kHz, 256-frame
periods; real-time scheduling where the OS grants it, as a JACK user's would be) and record the
kit's JACK output with a JACK client (tests/jack_audio.py): every figure comes from the audio or
from the backend, never from the renderer's own bookkeeping.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from drumfont.audio import onsets as ons  # noqa: E402
from drumfont.audio import render as r  # noqa: E402
from drumfont.audio.synth import Kit  # noqa: E402
from drumfont.drums import rules  # noqa: E402
from drumfont.score.genres import RULE_GENRES as GENRES  # the rule corpus plays these
from drumfont.score.midifile import ExportOptions  # noqa: E402
from drumfont.score.notemap import GM  # noqa: E402
from drumfont.score.pattern import N_VOICES, VOICES, Pattern, to_text  # noqa: E402


def _wall(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t


# --- (1) render time -------------------------------------------------------------------------

def render_time(repeats: int = 5) -> None:
    pats = rules.generate("rock", 16, np.random.default_rng(0))
    opts = ExportOptions(bpm=120.0, swing=54.0)
    tmp = Path(tempfile.mkdtemp())
    inproc, cpu = [], []
    for i in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        r.write_audio(tmp / f"in{i}.wav", pats, opts)
        inproc.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"(1) render 16 bars at 120 BPM to WAV, in process (synth start + render + encode + write): "
          f"wall median {statistics.median(inproc):.3f} s (min {min(inproc):.3f}), CPU time median "
          f"{statistics.median(cpu):.3f} s, over {repeats}")
    bar = tmp / "bar.txt"
    bar.write_text(to_text(pats[0]))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    py = sys.executable
    cmds = {
        "import torch (bare)": [py, "-c", "import torch"],
        "render --pattern --bars 16": [py, "-m", "drumfont", "render", "--pattern", str(bar), "--bars", "16",
                                       "-o", str(tmp / "p.wav"), "--force"],
        "render --style rock -n 16 (VAE)": [py, "-m", "drumfont", "render", "--style", "rock", "-n", "16",
                                            "--seed", "0", "-o", str(tmp / "s.wav"), "--force"],
    }
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeats):   # interleaved, so that load changes hit every command alike
        for k, c in cmds.items():
            times[k].append(_wall(c, env))
    base = statistics.median(times["import torch (bare)"])
    for k, ts in times.items():
        med = statistics.median(ts)
        print(f"    whole command  {k:34s} median {med:.2f} s  = {med / base:.2f}x bare import torch")


# --- (2) onsets ----------------------------------------------------------------------------

def onset_accuracy(bars: int = 16) -> None:
    rate = 48000
    stem_n = stem_miss = stem_extra = 0
    stem_err: list[float] = []
    mix_n = mix_miss = mix_extra = 0
    mix_err: list[float] = []
    for g in GENRES:
        pats = rules.generate(g, bars, np.random.default_rng(0))
        opts = ExportOptions(bpm=120.0, swing=54.0)
        events, _ = r.timed_notes(pats, opts)
        expected = ons.distinct_times(np.array([t for t, _, v in events if v > 0]))
        mix = r.render_patterns(pats, opts, r.RenderOptions(loop=False))
        err, miss, extra = ons.match_onsets(expected, ons.detect_onsets(mix, rate))
        mix_n, mix_miss, mix_extra = mix_n + len(expected), mix_miss + miss, mix_extra + extra
        mix_err += err[~np.isnan(err)].tolist()
        for v in range(N_VOICES):
            others = tuple(u for u in range(N_VOICES) if u != v)
            ev, _ = r.timed_notes(pats, opts, others)
            exp_v = ons.distinct_times(np.array([t for t, _, vel in ev if vel > 0]))
            if not len(exp_v):
                continue
            stem = r.render_patterns(pats, opts, r.RenderOptions(loop=False, muted=others))
            err, miss, extra = ons.match_onsets(exp_v, ons.detect_onsets(stem, rate))
            stem_n, stem_miss, stem_extra = stem_n + len(exp_v), stem_miss + miss, stem_extra + extra
            stem_err += err[~np.isnan(err)].tolist()
    e = np.abs(np.array(stem_err)) * 1000
    print(f"(2) onsets, {len(GENRES)} genres x {bars} bars at 120 BPM, swing 54 %, detector on the audio:")
    print(f"    per voice (each voice's stem): {stem_n - stem_miss}/{stem_n} notes found within ±5 ms, "
          f"|error| median {np.median(e):.2f} ms, p99 {np.percentile(e, 99):.2f} ms, max {e.max():.2f} ms; "
          f"{stem_extra} extra detections")
    m = np.abs(np.array(mix_err)) * 1000
    print(f"    full mix: {mix_n - mix_miss}/{mix_n} onsets found within ±5 ms (max {m.max():.2f} ms), "
          f"{mix_miss} missed (quiet notes under louder ones), {mix_extra} extra")


# --- (3) per voice ---------------------------------------------------------------------------

def per_voice() -> None:
    print("(3) every voice alone at velocity 100 (peak before normalising) and muted:")
    opts = ExportOptions(bpm=120.0)
    kit = Kit()
    try:
        for v in range(N_VOICES):
            kit.silence()
            kit.render(4800)
            kit.note_on(GM.note(v), 100)
            peak = float(np.abs(kit.render(48000)).max())
            alone = Pattern.empty().with_velocity(0, v, 100)
            muted = r.render_patterns([alone], opts, r.RenderOptions(muted=(v,)))
            print(f"    {VOICES[v]:10s} note {GM.note(v):3d}: peak {20 * np.log10(peak):6.1f} dBFS -> "
                  f"{'sounds' if peak > 1e-4 else 'SILENT'}; muted: peak "
                  f"{'0 (silent)' if not np.any(muted) else f'{np.abs(muted).max():.2g} (NOT silent)'}")
    finally:
        kit.close()


# --- (4)-(5) live, through JACK ----------------------------------------------------------------

def _start_jack(name: str) -> tuple[subprocess.Popen, Path, str]:
    log = Path(tempfile.mkstemp(prefix="jackd-", suffix=".log")[1])
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    for mode in (["-R"], ["--no-realtime"]):
        proc = subprocess.Popen(["jackd", *mode, "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                                env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        time.sleep(2)
        if proc.poll() is None:
            return proc, log, mode[0]
    raise SystemExit(f"jackd did not start: {log.read_text()[-400:]}")


async def live(seconds: float, presses: int, engine, log: Path) -> None:
    from jack_audio import JackRecorder, kit_ports

    from drumfont.tui.app import make_app, open_live_player

    factory = partial(open_live_player, audio_device="JACK")
    app = make_app(Path(tempfile.mkdtemp()) / "data", engine=engine, player_factory=factory, midi=False,
                   audio=True)
    async with app.run_test(size=(80, 24)) as pilot:
        end = time.monotonic() + 30
        while app.player is None and time.monotonic() < end:
            await pilot.pause(0.05)
        if app.player is None:
            raise SystemExit(f"the player did not open: {app.player_reason}")
        while not app._engine_ready.is_set() and time.monotonic() < end + 60:
            await pilot.pause(0.1)      # the drum model loads in a worker: let that finish first
        await pilot.pause(2.0)
        p = app.player
        print(f"    kit on {p.audio_name!r}, clock process at {p.priority}; notes sound "
              f"{p.audio_delay_ms:.1f} ms after their deadline (one block + output latency + 3 ms)")
        # (5) key -> first sample: press v with the transport stopped, find the onset it made
        rec = JackRecorder(kit_ports(), presses * 0.6 + 5)
        stamps = []
        for _ in range(presses):
            await pilot.pause(0.3)
            t0 = time.perf_counter_ns()
            await pilot.press("v")
            stamps.append(t0)
            await pilot.pause(0.25)
        await pilot.pause(0.3)
        audio = rec.stop()
        found = rec.perf_ns(ons.detect_onsets(audio, rec.rate))
        lat = []
        for t0 in stamps:
            after = found[(found > t0) & (found < t0 + 250e6)]
            if len(after):
                lat.append((after[0] - t0) / 1e6)
        lat_a = np.array(lat)
        print(f"(5) key press -> first sample out (v, audition), recorded at the JACK graph, {len(lat)}/{presses} "
              f"presses heard: median {np.median(lat_a):.1f} ms, p90 {np.percentile(lat_a, 90):.1f} ms, "
              f"max {lat_a.max():.1f} ms; + the output latency PortAudio reports, "
              f"{p.audio_delay_ms - 256 / 48 - 3:.1f} ms, to the DAC")
        # (4) a minute of playing with the UI busy sampling
        under0, late0 = p.audio_counts()
        xruns0 = log.read_text(errors="replace").count("XRun")
        await pilot.press("right_curly_bracket", "right_curly_bracket", "space")
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            await pilot.press("s")          # sample a new bar: inference + redraw + a new pattern
            await pilot.pause(0.05)
            n += 1
        await pilot.pause(1.0)              # the counters are copied a few times a second
        under, late = p.audio_counts()
        xruns = log.read_text(errors="replace").count("XRun") - xruns0
        await pilot.press("space")
        print(f"(4) {seconds:g} s playing at 140 BPM while the UI sampled {n} new bars "
              f"({n / seconds:.1f}/s, engine {app.engine.name}): buffer underruns reported by the backend: "
              f"{under - under0}; notes struck late: {late - late0}; longest audio callback "
              f"{p.audio_callback_ms():.2f} ms of its {256 / 48:.2f} ms block; the JACK server's own "
              f"timer logged {xruns} xruns in the same {seconds:g} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--skip-live", action="store_true")
    ap.add_argument("--live-only", action="store_true")
    ap.add_argument("--server", default=None, help="use this running JACK server (48 kHz, 256 frames) "
                    "instead of starting one; its xruns are then not counted")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    if not args.live_only:
        render_time()
        onset_accuracy()
        per_voice()
    if args.skip_live:
        return
    if not shutil.which("jackd"):
        print("(4)-(5) skipped: jackd is not installed")
        return
    if args.server:
        proc, mode, name = None, "(already running)", args.server
        log = Path(tempfile.mkstemp(prefix="jackd-", suffix=".log")[1])
    else:
        name = f"drumfont-bench-{uuid.uuid4().hex[:6]}"
        proc, log, mode = _start_jack(name)
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        from drumfont.tui import session as st

        try:
            from drumfont import drums

            engine = st.VaeEngine(drums.load()) if drums.preset_available() else st.RulesEngine()
        except ImportError:
            engine = st.RulesEngine()
        print(f"(4)-(5) JACK dummy server {mode}, 48 kHz, 256-frame periods")
        asyncio.run(live(args.seconds, args.presses, engine, log))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(5)
        xruns = log.read_text(errors="replace").count("XRun")
        print(f"    the JACK server itself logged {xruns} xruns over the run (its own timer waking late)")
        log.unlink()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
