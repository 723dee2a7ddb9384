"""Speed of humanize and drumify: one bar in process, and a 64-bar file from the shell against a
bare `python -c "import torch"` run beside it (the ratio is the figure; the machine is shared).

    python benchmarks/bench_groove.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def best_ms(fn, repeats: int) -> float:
    """Median of `repeats` timed calls, in ms (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def shell_s(argv: list[str], repeats: int) -> float:
    """Median wall time of a command, in seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(argv, check=True, env=env, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    import torch

    from drumfont.drums import groove, rules
    from drumfont.score.midifile import ExportOptions, to_midi_bytes

    torch.set_num_threads(1)
    bar = rules.generate("rock", 1, np.random.default_rng(0))[0]
    h, d = groove.load("humanize"), groove.load("drumify")
    taps = groove.taps_of(bar)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; torch threads 1")
    print(f"humanize, 1 bar in process: {best_ms(lambda: groove.humanize([bar], 'rock', 1.0, 1.0, 0, h), args.repeats):.2f} ms")
    print(f"drumify, 1 bar in process:  {best_ms(lambda: groove.drumify(taps, 'rock', 1, 1.0, 0, d), args.repeats):.2f} ms")
    # At temperature 0 drumify averages its hit probability over 32 draws of z (one batch).
    print(f"drumify, 1 bar in process at T=0:  {best_ms(lambda: groove.drumify(taps, 'rock', 1, 0.0, 0, d), args.repeats):.2f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.mid"
        bars = rules.generate("rock", 64, np.random.default_rng(1))
        src.write_bytes(to_midi_bytes(bars, ExportOptions()))
        py = sys.executable
        runs = {
            "bare import torch": [py, "-c", "import torch"],
            "drumfont humanize (64 bars)": [py, "-m", "drumfont", "humanize", str(src), "-o", f"{tmp}/h.mid",
                                            "--style", "rock", "--seed", "0", "--force"],
            "drumfont drumify (64 bars)": [py, "-m", "drumfont", "drumify", str(src), "-o", f"{tmp}/d.mid",
                                           "--style", "rock", "--seed", "0", "--force"],
        }
        # Interleaved, so that a load spike hits every command alike.
        times: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(args.repeats):
            for name, argv in runs.items():
                times[name].append(shell_s(argv, 1))
        base = statistics.median(times["bare import torch"])
        for name, ts in times.items():
            m = statistics.median(ts)
            print(f"{name}: {m:.2f} s  ({m / base:.2f}x bare import torch)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
