"""Peak memory of `drumfont render` by song length: a chain of N bars written as a .mid with
drumfont's own writer, rendered by the CLI in a fresh process, its peak RSS read from the kernel
(os.wait4's ru_maxrss, the child alone). `render` streams the audio into the file in blocks, so
the figure should not grow with the song; beside it, what the whole song would take as one
float32 array (what render held before it streamed: 7.7 GB for 10,000 bars at 120 BPM).

    python benchmarks/bench_render_memory.py [--bars 16 10000] [--bpm 120] [--format flac]

The rendered files go to a temp folder and are deleted (10,000 bars of FLAC are about 3 GB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drumfont.drums import rules as grooves  # noqa: E402
from drumfont.score.midifile import ExportOptions, write_midi  # noqa: E402


def peak_rss(argv: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one command run to its end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    return usage.ru_maxrss / 1024, wall  # ru_maxrss is in KB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bars", type=int, nargs="+", default=[16, 10_000])
    ap.add_argument("--bpm", type=float, default=120.0)
    ap.add_argument("--format", choices=("flac", "wav"), default="flac")
    ap.add_argument("--rate", type=int, default=48000)
    args = ap.parse_args()
    print(f"render of N rule-corpus rock bars at {args.bpm:g} BPM, {args.rate} Hz, 24-bit .{args.format}")
    print(f"{'bars':>7} {'audio':>9} {'peak RSS':>10} {'one float32 array':>18} {'wall':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for bars in args.bars:
            song = Path(tmp) / f"{bars}.mid"
            write_midi(song, grooves.generate("rock", bars, np.random.default_rng(0)), ExportOptions(bpm=args.bpm))
            out = Path(tmp) / f"{bars}.{args.format}"
            rss, wall = peak_rss([sys.executable, "-m", "drumfont", "render", str(song), "-o", str(out),
                                  "--bpm", f"{args.bpm:g}", "--rate", str(args.rate)])
            seconds = bars * 4 * 60 / args.bpm
            whole = seconds * args.rate * 2 * 4 / 2**20
            print(f"{bars:>7,} {seconds / 60:>7.1f} m {rss:>7.0f} MB {whole:>15,.0f} MB {wall:>7.1f} s", flush=True)
            out.unlink()


if __name__ == "__main__":
    main()
