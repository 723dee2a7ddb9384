"""Import throughput: drumfont's importer on both cores beside pretty_midi merely parsing the
same files, in the same run.

Writes the built-in corpus as a few hundred minute-long drum files (32 bars each, chained
corpus bars at assorted tempos and swing) into a temp folder, then times, best of --reps:
drumfont's `library.import_library` (process pool, all cores, dataset file written included),
drumfont's `read_midi` on one core, and `pretty_midi.PrettyMIDI(path)` on one core.

    python benchmarks/bench_import.py [--files 300] [--bars 32] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def write_files(folder: Path, n_files: int, bars: int) -> int:
    from drumfont.drums import rules
    from drumfont.score.midifile import ExportOptions, to_midi_bytes

    data = rules.build_corpus(seed=0)
    rng = np.random.default_rng(0)
    total = 0
    for i in range(n_files):
        idx = rng.choice(len(data), size=bars, replace=False)
        opts = ExportOptions(bpm=float(rng.integers(85, 135)), swing=float(rng.choice([50, 54, 58, 62])))
        (folder / f"groove-{i:04d}.mid").write_bytes(to_midi_bytes([data.pattern(int(j)) for j in idx], opts))
        total += bars
    return total


def time_interleaved(fns: list, reps: int) -> list[float]:
    """Best time of each function, the functions taking turns in every round, so that a busy
    spell on a shared machine hits all of them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--bars", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    import pretty_midi

    from drumfont.drums import library
    from drumfont.score.midifile import read_midi

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "lib"
        folder.mkdir()
        bars = write_files(folder, args.files, args.bars)
        files = sorted(folder.glob("*.mid"))
        size = sum(f.stat().st_size for f in files)
        print(f"{len(files)} files, {bars} bars, {size / 2**20:.1f} MiB, {os.cpu_count()} CPUs, "
              f"{args.workers} workers, best of {args.reps}, load average {os.getloadavg()[0]:.1f} at start")

        def drumfont_pool() -> None:
            rep = library.import_library([folder], Path(tmp) / "out.npz", workers=args.workers, force=True)
            assert rep.bars == bars and not rep.bad, rep.summary()

        def drumfont_serial() -> None:
            n = sum(len(read_midi(f).patterns) for f in files)
            assert n == bars

        def pm_parse() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pretty_midi warns about tempo meta on track 2
                for f in files:
                    pretty_midi.PrettyMIDI(str(f))

        names = [f"drumfont import_library ({args.workers} procs)", "drumfont read_midi (1 core)",
                 "pretty_midi.PrettyMIDI parse (1 core)"]
        rows = list(zip(names, time_interleaved([drumfont_pool, drumfont_serial, pm_parse], args.reps)))
    pm = rows[-1][1]
    print(f"{'':40}{'seconds':>9}{'files/s':>10}{'bars/s':>10}{'vs pretty_midi':>16}")
    for name, t in rows:
        print(f"{name:40}{t:>9.3f}{len(files) / t:>10.0f}{bars / t:>10.0f}{pm / t:>15.1f}x")


if __name__ == "__main__":
    main()
