"""Studio responsiveness: (1) time from the sample key to the new grid drawn on screen;
(2) the live player's timing while the UI is busy, beside the same player with the UI idle.

    python benchmarks/bench_tui.py [--presses 30] [--seconds 8] [--engine rules|vae|both]

(1) runs the app headless (Textual's test driver renders every frame as a real terminal would)
and stamps the moment StepGrid renders the new bar. (2) runs the real player: its own clock
process on a MIDI port when a MIDI system starts (a JACK dummy server is started if `jackd` is
there and nothing else is), else the in-process clock on a recording port (said in the output).
Lateness = time a message was sent - its deadline, from the player's own timing record.
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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drumfont.tui import session as st  # noqa: E402
from drumfont.tui.app import make_app, open_live_player  # noqa: E402
from drumfont.tui.widgets import StepGrid  # noqa: E402


def _pct(xs, q):
    return float(np.percentile(np.asarray(xs), q)) if len(xs) else float("nan")


# --- (1) sample key -> grid on screen --------------------------------------------------------

async def sample_latency(engine: st.Engine, presses: int) -> list[float]:
    """Milliseconds from pressing `s` to StepGrid rendering the new bar, per press."""
    drawn: list[tuple[int, object]] = []
    original = StepGrid.render

    def stamped(self):
        out = original(self)
        drawn.append((time.perf_counter_ns(), self.pattern))
        return out

    StepGrid.render = stamped
    try:
        app = make_app(Path(tempfile.mkdtemp()) / "data", engine=engine, midi=False)
        out = []
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            for _ in range(presses):
                before = app.studio.current
                t0 = time.perf_counter_ns()
                await pilot.press("s")
                while True:
                    hit = [t for t, p in drawn if t > t0 and p is app.studio.current and p is not before]
                    if hit:
                        out.append((hit[0] - t0) / 1e6)
                        break
                    await asyncio.sleep(0.001)
                drawn.clear()
    finally:
        StepGrid.render = original
    return out


# --- (2) player timing, UI idle vs busy ------------------------------------------------------

def _start_jack() -> subprocess.Popen | None:
    if not shutil.which("jackd"):
        return None
    proc = subprocess.Popen(["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    return proc if proc.poll() is None else None


def _factory(where: list[str], in_process: bool = False):
    def make(transport):
        from drumfont.errors import LiveMidiError
        from drumfont.live import RecordingPort

        if in_process:  # the clock as a thread of the UI's own process, for comparison
            where.append("in-process clock thread on a RecordingPort")
            return open_live_player(transport, port=RecordingPort(), record_timing=True)
        try:  # the real thing: its own clock process on the virtual 'drumfont' port
            p = open_live_player(transport, record_timing=True)
            where.append(f"clock process, port {p.port_name!r}")
        except LiveMidiError as exc:
            p = open_live_player(transport, port=RecordingPort(), record_timing=True)
            where.append(f"in-process clock on a RecordingPort (no MIDI system: {str(exc)[:60]}...)")
        return p
    return make


async def player_timing(seconds: float, busy: bool, engine: st.Engine, where: list[str],
                        in_process: bool = False) -> np.ndarray:
    """Lateness (ms) of every note-on the player sent while the app ran `seconds`."""
    app = make_app(Path(tempfile.mkdtemp()) / "data", engine=engine, player_factory=_factory(where, in_process))
    async with app.run_test(size=(80, 24)) as pilot:
        end = time.monotonic() + 20
        while app.player is None and time.monotonic() < end:
            await pilot.pause(0.05)
        if app.player is None:
            raise SystemExit(f"the player did not open: {app.player_reason}")
        await pilot.press("right_curly_bracket", "right_curly_bracket")  # 140 BPM
        await pilot.press("space")
        end = time.monotonic() + seconds
        keys = ["s", "l", "x", "j", "plus", "r", "tab", "tab", "tab", "question_mark", "escape"]
        i = 0
        while time.monotonic() < end:
            if busy:  # a producer hammering keys: sampling, editing, switching views
                await pilot.press(keys[i % len(keys)])
                i += 1
            else:
                await asyncio.sleep(0.05)
        await pilot.press("space")
        rec = app.player.timing()
    notes = rec[(rec[:, 2] & 0xF0) == 0x90]
    return (notes[:, 1] - notes[:, 0]) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presses", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--engine", choices=("rules", "vae", "both"), default="both")
    ap.add_argument("--preset", default=None, help="a VAE checkpoint (default: the shipped preset)")
    args = ap.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {sys.platform}")

    engines = []
    if args.engine in ("rules", "both"):
        engines.append(st.RulesEngine())
    if args.engine in ("vae", "both"):
        e = st.load_engine(args.preset)
        if e.name == "vae":
            engines.append(e)
        else:
            print(f"vae: skipped ({e.reason})")
    for e in engines:
        asyncio.run(sample_latency(e, 3))  # warm up (imports, first forward)
        ms = asyncio.run(sample_latency(e, args.presses))
        print(f"sample key -> new grid on screen [{e.name}]: median {statistics.median(ms):.1f} ms, "
              f"p90 {_pct(ms, 90):.1f} ms, max {max(ms):.1f} ms over {len(ms)} presses")

    jack = None
    try:
        from drumfont.live.ports import list_ports
        if not any("outputs" in v for v in list_ports().values()):
            jack = _start_jack()
    except Exception:
        jack = _start_jack()
    try:
        where: list[str] = []
        engine = engines[-1] if engines else st.RulesEngine()
        idle = asyncio.run(player_timing(args.seconds, False, engine, where))
        busy = asyncio.run(player_timing(args.seconds, True, engine, where))
        print(f"player: {where[-1]}; engine for the busy UI: {engine.name}")
        thread = asyncio.run(player_timing(args.seconds, True, engine, where, in_process=True))
        for name, lat in (("UI idle", idle), ("UI busy", busy), ("UI busy, clock as a thread", thread)):
            print(f"player lateness, {name}: median {np.median(lat):.3f} ms, p99 {_pct(lat, 99):.3f} ms, "
                  f"max {lat.max():.3f} ms over {len(lat)} note-ons")
        print(f"busy/idle p99 ratio: {_pct(busy, 99) / max(_pct(idle, 99), 1e-6):.2f}; "
              f"thread/process p99 under a busy UI: {_pct(thread, 99) / max(_pct(busy, 99), 1e-6):.1f}")
    finally:
        if jack is not None:
            jack.terminate()
            jack.wait(5)


if __name__ == "__main__":
    main()
