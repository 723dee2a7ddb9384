"""Peak memory of opening a 1,000,000-bar drum dataset and streaming one epoch of batches.

Writes a synthetic dataset (random sparse bars) to a temp folder, then in fresh subprocesses
measures peak RSS (VmHWM) of: loading it eagerly, loading it memory-mapped,
memory-mapped plus one pass over 1024-bar float32 batches, and memory-mapped plus one shuffled
epoch of 256-bar batches through trainers.batches.DrumRows (the trainers' loader; it imports
torch, so it has its own baseline: `import torch` and the loader, no data), beside a bare
`import numpy` baseline.
Usage: python benchmarks/bench_dataset_memory.py [--bars 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROBE = r"""
import sys, time
import numpy as np
from drumfont.drums.dataset import DrumDataset
mode, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "torch-baseline":
    import torch  # what the trainers' loader imports, before any data
    from drumfont.trainers.batches import DrumRows
elif mode != "baseline":
    d = DrumDataset.load(path, mmap=(mode != "eager"))
    if mode == "mmap+epoch":
        total = 0
        for start in range(0, len(d), 1024):
            total += int((np.asarray(d.velocities[start:start + 1024]) > 0).astype(np.float32).sum())
    elif mode == "mmap+shuffled":
        # what the trainers do: a seeded shuffle of the training rows, 256-bar float batches
        from drumfont.trainers.batches import DrumRows
        from drumfont.trainers.distributed import Dist, epoch_batches
        rows = DrumRows.of(d, 0)
        total = 0.0
        for idx in epoch_batches(len(rows), 256, epoch=0, seed=0, d=Dist()):
            hits, vel, genre = rows.batch(idx)
            total += float(hits.sum())
    else:
        _ = int(d.velocities[::997].sum())
# VmHWM (peak resident set of this address space) rather than ru_maxrss, which Linux carries
# over from the parent across fork+exec.
# RssAnon is memory the process owns; file-backed pages of a memory map are page cache the
# kernel can drop, and readahead makes them look larger than what was touched.
status = {k: v.split()[0] for k, _, v in (l.partition(":") for l in open("/proc/self/status")) if v.split()}
print(int(status["VmHWM"]) / 1024, int(status["RssAnon"]) / 1024, time.perf_counter() - t)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bars", type=int, default=1_000_000)
    args = ap.parse_args()
    from drumfont.drums.dataset import DrumDataset, stratified_split

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.npz"
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        vel = np.zeros((args.bars, 16, 9), np.uint8)
        for start in range(0, args.bars, 100_000):  # chunked to keep the writer's own peak low
            chunk = vel[start:start + 100_000]
            chunk[rng.random(chunk.shape) < 0.15] = 100
        genre = (np.arange(args.bars) % 5).astype(np.int16)
        d = DrumDataset(vel, genre, stratified_split(genre, 0.1, rng),
                        sources=[])
        d.save(path)
        del d, vel
        print(f"wrote {args.bars:,} bars ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - t:.1f} s")
        print(f"{'mode':<12} {'peak RSS MB':>12} {'anon MB at end':>15} {'seconds':>8}")
        for mode in ("baseline", "eager", "mmap", "mmap+epoch", "torch-baseline", "mmap+shuffled"):
            out = subprocess.run([sys.executable, "-c", PROBE, mode, str(path)], capture_output=True,
                                 text=True, check=True).stdout.split()
            print(f"{mode:<12} {float(out[0]):>12.0f} {float(out[1]):>15.0f} {float(out[2]):>8.2f}")


if __name__ == "__main__":
    main()
