"""Speed of the phrase model in process: a 4-bar phrase, a 64-bar song, a continuation, and the
1-bar model beside them on the same machine in the same run.

    python benchmarks/bench_phrase.py [--preset PATH] [--repeat N]

Prints the median and 90th-percentile wall time of each call through the phrase API (Pattern
objects included), after a few uncounted warm-up calls, and the load average while it ran; targets from issue #19: a 4-bar phrase <= 5 ms, a 64-bar song
<= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time


def timed_ms(fn, repeat: int, warm: int = 5) -> tuple[float, float]:
    """Median and 90th percentile of `repeat` calls, after `warm` calls that are not counted (the
    first calls of each shape pay for allocations: a 4-bar phrase took 10 ms in a first row)."""
    for i in range(warm):
        fn(10_000 + i)
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default=None, help="phrase checkpoint (default: the shipped one)")
    p.add_argument("--repeat", type=int, default=50, help="calls per measurement (the song: a fifth of them)")
    args = p.parse_args()

    import torch

    from drumfont import drums
    from drumfont.drums import phrase_engine

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    model = phrase_engine.load(args.preset)
    bar = drums.load()
    torch.set_num_threads(1)
    model.sample("rock", 4, seed=0)  # warm-up
    form = "intro:8,verse:16,chorus:16,verse:16,outro:8"
    played = model.sample("funk", 4, "none", seed=1)
    rows = [
        ("4-bar phrase, fill end", lambda i: model.sample("rock", 4, "end", seed=i), args.repeat, 5.0),
        ("8-bar phrase", lambda i: model.sample("rock", 8, "end", seed=i), args.repeat, None),
        ("64-bar song (5 sections)", lambda i: model.song("rock", form, seed=i), max(3, args.repeat // 5), 100.0),
        ("continue 4 bars after 4", lambda i: model.continue_(played, 4, "funk", seed=i), args.repeat, None),
        ("re-roll a 4-bar fill", lambda i: model.regenerate_fill(played, "funk", seed=i), args.repeat, None),
        ("1-bar model: 4 bars", lambda i: bar.sample("rock", 4, seed=i), args.repeat, None),
    ]
    print(f"{'call':28s} {'median':>9s} {'p90':>9s}")
    for name, fn, repeat, target in rows:
        ms, p90 = timed_ms(fn, repeat)
        goal = f"   target <= {target:g} ms {'ok' if ms <= target else 'MISSED'}" if target else ""
        print(f"{name:28s} {ms:6.2f} ms {p90:6.2f} ms{goal}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
