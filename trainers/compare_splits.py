"""How much a random-by-bar validation split flatters the drum VAE, against a split by file.

    python -m drumfont.trainers.compare_splits --data gmd.npz --out runs/splits --epochs 20 --seeds 0 1

From one dataset, two copies that differ only in `split`: the old rule (each genre's bars drawn
at random, `stratified_split`) and the new one (whole files, `grouped_split`), both at
--val-share of each genre's bars and --split-seed. The VAE trainer (trainers/train_vae.py, its
defaults, --threads 1) runs on each for every seed; a run whose checkpoint is already in OUT is
not trained again, so an interrupted comparison resumes. Per split: the last validation record of
each run's history (hit F1, cell accuracy, velocity MAE, ...) and the share of validation bars
whose exact hit grid also occurs in training. A markdown table goes to stdout and OUT/splits.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from drumfont.drums.dataset import TRAIN, VAL, DrumDataset, grouped_split, stratified_split

KEYS = ("hit_f1", "cell_accuracy", "zeros_baseline_accuracy", "velocity_mae", "bce")


def resplit(data: DrumDataset, how: str, val_share: float, seed: int) -> DrumDataset:
    """The same bars with a fresh TRAIN/VAL split, by bar or by file."""
    rng = np.random.default_rng(seed)
    split = (stratified_split(data.genre, val_share, rng) if how == "bar"
             else grouped_split(data.genre, data.sources.file_index, val_share, rng))
    return DrumDataset(data.velocities, data.genre, split, data.genres, data.sources, data.offsets, data.fill)


def leak(data: DrumDataset) -> float:
    """Share of validation bars whose hit grid is also a training bar's."""
    keys = [row.tobytes() for row in np.packbits((data.velocities > 0).reshape(len(data), -1), axis=1)]
    train = {k for k, s in zip(keys, data.split) if s == TRAIN}
    val = [k for k, s in zip(keys, data.split) if s == VAL]
    return float(np.mean([k in train for k in val])) if val else float("nan")


def last_val(history: Path) -> dict:
    """The last validation record of a trainer's JSON-lines history."""
    records = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    return [r["val"] for r in records if "val" in r][-1]


def main(argv: list[str] | None = None) -> int:
    from drumfont.trainers import train_vae  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="a dataset with sources (e.g. from `drumfont data gmd`)")
    p.add_argument("--out", required=True, help="folder for the split datasets, runs and splits.md")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--val-share", type=float, default=0.2)
    p.add_argument("--split-seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = DrumDataset.load(args.data)
    rows = []
    for how in ("bar", "file"):
        ds = resplit(data, how, args.val_share, args.split_seed)
        path = out / f"gmd-{how}.npz"
        if not path.exists():
            ds.save(path)
        runs = []
        for seed in args.seeds:
            ckpt = out / f"{how}-s{seed}.pt"
            if not ckpt.exists():
                train_vae.main(["--data", str(path), "--out", str(ckpt), "--epochs", str(args.epochs),
                                "--seed", str(seed), "--threads", "1", "--no-progress", "--force"])
            runs.append(last_val(ckpt.with_suffix(".jsonl")))
        files = ds.sources.file_index
        straddle = len(set(files[ds.split == TRAIN]) & set(files[ds.split == VAL]))
        rows.append((how, int((ds.split == VAL).sum()), straddle, leak(ds),
                     {k: (np.mean([r[k] for r in runs]), np.std([r[k] for r in runs])) for k in KEYS}))
    lines = [f"VAE trained {args.epochs} epochs on {args.data}, seeds {args.seeds} (mean ± sd over seeds); "
             f"validation {args.val_share:.0%} of each genre's bars",
             "", "| split | val bars | files on both sides | val grids also in train | "
             + " | ".join(KEYS) + " |", "|---" * (4 + len(KEYS)) + "|"]
    for how, n_val, straddle, share, m in rows:
        lines.append(f"| by {how} | {n_val} | {straddle} | {share:.1%} | "
                     + " | ".join(f"{m[k][0]:.3f} ± {m[k][1]:.3f}" for k in KEYS) + " |")
    text = "\n".join(lines) + "\n"
    (out / "splits.md").write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
