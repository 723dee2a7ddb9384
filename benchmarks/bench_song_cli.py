"""Wall time of `drumfont song` for a 32-bar form beside `drumfont export -n 1`, the same engine, in
the same run, alternating so that a busy machine slows both alike (median of --reps each). Issue
#19's target: the song <= 1.5x the one-bar export. Also a `--rules` pair (no torch), and, with
--audio, the song with its audio rendered beside it.

    python benchmarks/bench_song_cli.py [--reps 7] [--audio] [--phrase-preset PATH]

Without the shipped phrase model (or --phrase-preset) the song is the engine's fallback (bar 1 of
each section played again, a rule fill); with one, the phrase model is loaded and plays it.

A whole command is measured (interpreter start, imports, model load, sampling, writing), since that
is what a user waits for; the in-process figures of the phrase model are bench_phrase.py's.
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

FORM = "intro:4,verse:8,chorus:8,outro:4,verse:4,end:4"   # 32 bars, six sections


def once(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--audio", action="store_true", help="also time the song with --audio")
    ap.add_argument("--phrase-preset", default=None, help="a phrase model checkpoint for the song")
    args = ap.parse_args()
    py = sys.executable
    print(f"median wall time of {args.reps} runs each, alternating ({py}); load average "
          f"{os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (("default engine", []), ("--rules", ["--rules"])):
            song = [py, "-m", "drumfont", "song", "--style", "rock", "--form", FORM, "-o",
                    str(Path(tmp) / "song.mid"), "--force", "--seed", "1", *extra]
            if args.phrase_preset and not extra:
                song += ["--phrase-preset", args.phrase_preset]
            export = [py, "-m", "drumfont", "export", "--style", "rock", "-n", "1", "--out",
                      str(Path(tmp) / "exp"), "--force", "--seed", "1", *extra]
            runs: dict[str, list[float]] = {"song": [], "export": []}
            for _ in range(args.reps):
                runs["export"].append(once(export))
                runs["song"].append(once(song))
            s, e = statistics.median(runs["song"]), statistics.median(runs["export"])
            print(f"  {label:15} song (32 bars) {s * 1000:7.0f} ms   export -n 1 {e * 1000:7.0f} ms   "
                  f"ratio {s / e:.2f}x (target <= 1.5x: {'ok' if s / e <= 1.5 else 'MISSED'})")
            if args.audio and not extra:
                a = statistics.median(once(song + ["--audio"]) for _ in range(max(1, args.reps // 2)))
                print(f"  {'':15} song --audio  {a * 1000:7.0f} ms")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
