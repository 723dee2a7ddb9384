"""A nightly-length fuzzing run of every door (the targets of tests/fuzz_targets.py, random
rather than derandomised, as long as asked): prints per door the inputs tried, the distinct
exceptions found that are not a DrumfontError (with one input each, saved for the seed
corpus), the slowest input, and the time taken.

    python benchmarks/fuzz_nightly.py --minutes 10 [--doors midi pattern ...] [--save DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzz_targets as ft  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from drumfont.errors import DrumfontError  # noqa: E402


def fuzz(name: str, seconds: float, save: Path | None) -> dict:
    """Run one door for about `seconds`; never stops at a failure, counts them instead."""
    target, strategy = ft.TARGETS[name]
    found: dict[tuple[str, str], object] = {}
    stats = {"inputs": 0, "drumfont_errors": 0, "slowest": 0.0}
    end = time.monotonic() + seconds

    @settings(max_examples=200, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy())
    def run(value):
        if time.monotonic() > end:
            return
        stats["inputs"] += 1
        t0 = time.perf_counter()
        try:
            target(value)
        except DrumfontError:
            stats["drumfont_errors"] += 1
        except Exception as exc:  # the finding: anything else
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            found.setdefault((type(exc).__name__, f"{Path(frame.filename).name}:{frame.lineno}"), value)
        stats["slowest"] = max(stats["slowest"], time.perf_counter() - t0)

    t0 = time.perf_counter()
    while time.monotonic() < end:  # Hypothesis ends a run when it thinks it has seen enough
        run()
    stats["seconds"] = time.perf_counter() - t0
    stats["exceptions"] = found
    if save and found:
        save.mkdir(parents=True, exist_ok=True)
        for i, ((kind, where), value) in enumerate(found.items()):
            data = value if isinstance(value, bytes) else repr(value).encode()
            (save / f"{name}-{kind}-{where.replace(':', '-')}-{i}.bin").write_bytes(data)
    return stats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="total time, shared equally by the doors")
    p.add_argument("--doors", nargs="+", default=list(ft.TARGETS), choices=list(ft.TARGETS))
    p.add_argument("--save", type=Path, default=None, help="write each finding's input here")
    args = p.parse_args()
    per_door = args.minutes * 60 / len(args.doors)
    print(f"{'door':14s} {'inputs':>8s} {'DrumfontError':>14s} {'other exceptions':>17s} {'slowest s':>10s} {'time s':>7s}")
    total_inputs, total_found, t0 = 0, 0, time.perf_counter()
    for name in args.doors:
        s = fuzz(name, per_door, args.save)
        total_inputs += s["inputs"]
        total_found += len(s["exceptions"])
        print(f"{name:14s} {s['inputs']:8d} {s['drumfont_errors']:14d} {len(s['exceptions']):17d} "
              f"{s['slowest']:10.3f} {s['seconds']:7.1f}", flush=True)
        for (kind, where) in s["exceptions"]:
            print(f"    {kind} at {where}")
    print(f"total: {total_inputs} inputs, {total_found} distinct exceptions other than DrumfontError, "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
