"""Build time of the built-in genre corpus (rules -> MIDI -> importer -> dataset bytes).

    python benchmarks/bench_corpus.py [--reps 5]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    from drumfont.drums import rules

    times = []
    for seed in range(args.reps):
        t = time.perf_counter()
        data = rules.build_corpus(seed=seed)
        data.to_bytes()
        times.append(time.perf_counter() - t)
    print(f"build_corpus: {len(data)} bars, median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s over {args.reps} seeds (target < 5 s)")


if __name__ == "__main__":
    main()
