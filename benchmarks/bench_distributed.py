"""Training throughput with 1 and 2 processes: the drum VAE on a synthetic 100,000-bar set
(patterns/s) and the letter GAN on the font set (images/s).

Each configuration is a real run of the trainer: one plain process (`python -m drumfont.trainers.X`) and
`torchrun --nproc_per_node 2` (gloo on CPU), each rank with one torch thread, one epoch. The
figure is the epoch's training time from the run's own history (data loading, start-up and
evaluation excluded), so it is the loop's throughput. The configurations take turns in every
round and the best of --reps is kept, so that a busy spell on a shared machine hits all alike;
the load average is printed beside the figures, since on a loaded 2-core machine a second
process has no idle core to run on.

    python benchmarks/bench_distributed.py [--bars 100000] [--reps 2] [--models vae gan]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(module: str, nproc: int, flags: list[str]) -> float:
    """Run a trainer; return its wall time (the figures come from its history)."""
    if nproc == 1:
        cmd = [sys.executable, "-m", module]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
               "--master_port", str(free_port()), "-m", module]
    t = time.perf_counter()
    res = subprocess.run(cmd + flags, cwd=ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd + flags)} failed:\n{res.stderr[-3000:]}")
    return time.perf_counter() - t


def synthetic_drums(path: Path, bars: int) -> None:
    """Random sparse bars in five labelled genres, 10% validation."""
    from drumfont.drums.dataset import DrumDataset, stratified_split

    rng = np.random.default_rng(0)
    vel = np.where(rng.random((bars, 16, 9)) < 0.15, rng.integers(40, 128, (bars, 16, 9)), 0).astype(np.uint8)
    genre = (np.arange(bars) % 5).astype(np.int16)
    DrumDataset(vel, genre, stratified_split(genre, 0.1, rng)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--vae-batch", type=int, default=256, help="global batch of the VAE")
    ap.add_argument("--gan-batch", type=int, default=64, help="global batch of the GAN")
    ap.add_argument("--models", nargs="+", default=["vae", "gan"], choices=["vae", "gan"], help="what to time")
    args = ap.parse_args()

    from drumfont.letters.data import TRAIN, build_fonts

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        drums, fonts = tmp / "drums.npz", tmp / "fonts.npz"
        synthetic_drums(drums, args.bars)
        font_data = build_fonts(seed=0)
        font_data.save(fonts)
        n_images = int((font_data.split == TRAIN).sum())
        n_bars = int(round(args.bars * 0.9))
        print(f"{args.bars:,} synthetic bars ({n_bars:,} train), {n_images:,} training letter images; "
              f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start")

        def vae(nproc: int, rep: int) -> float:
            out = tmp / f"vae{nproc}-{rep}.pt"
            launch("drumfont.trainers.train_vae", nproc,
                   ["--data", str(drums), "--out", str(out), "--epochs", "1", "--val-every", "1",
                    "--batch-size", str(args.vae_batch), "--no-progress", "--device", "cpu", "--threads", "1"])
            first = json.loads(out.with_suffix(".jsonl").read_text().splitlines()[0])
            return n_bars / first["seconds"]

        def gan(nproc: int, rep: int) -> float:
            run = tmp / f"gan{nproc}-{rep}"
            launch("drumfont.trainers.train_gan", nproc,
                   ["--run-dir", str(run), "--data", str(fonts), "--epochs", "1", "--eval-every", "1",
                    "--eval-samples", "260", "--batch-size", str(args.gan_batch), "--no-log-steps",
                    "--no-progress", "--device", "cpu", "--threads", "1"])
            rec = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
            epoch = next(r for r in rec if r.get("type") == "epoch")
            steps = n_images // args.gan_batch
            return steps * args.gan_batch / epoch["seconds"]

        runs = [(name, unit, fn) for key, name, unit, fn in
                (("vae", f"VAE, {args.bars // 1000}k synthetic bars", "patterns/s", vae),
                 ("gan", "GAN, font set", "images/s", gan)) if key in args.models]
        best: dict[tuple[str, int], float] = {}
        loads: list[float] = []
        for rep in range(args.reps):
            for name, _, fn in runs:
                for nproc in (1, 2):
                    rate = fn(nproc, rep)
                    loads.append(os.getloadavg()[0])
                    best[name, nproc] = max(best.get((name, nproc), 0.0), rate)
                    print(f"  round {rep + 1}: {name}, {nproc} process(es): {rate:,.0f}", flush=True)

    print(f"\nbest of {args.reps}; load average during the runs {min(loads):.2f}..{max(loads):.2f} "
          f"(1-minute, {os.cpu_count()} CPUs)")
    print(f"{'':28}{'unit':>12}{'1 process':>12}{'2 processes':>13}{'speed-up':>10}")
    for name, unit, _ in runs:
        one, two = best[name, 1], best[name, 2]
        print(f"{name:28}{unit:>12}{one:>12,.0f}{two:>13,.0f}{two / one:>9.2f}x")


if __name__ == "__main__":
    main()
