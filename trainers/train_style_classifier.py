"""Train the evaluation-only genre classifier on drum bars, top to bottom.

    python -m trainers.train_style_classifier [--data corpus.npz] [--out presets/style_classifier.pt]

Its validation accuracy is the ceiling for the VAE's classifier-agreement and transfer measures.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from trainers.common import History, add_dataclass_args, dataclass_from_args, progress, seed_everything


@dataclass
class TrainConfig:
    """Optimisation settings of the classifier."""

    epochs: int = field(default=40, metadata={"help": "passes over the training bars"})
    batch_size: int = field(default=64, metadata={"help": "bars per step"})
    lr: float = field(default=2e-3, metadata={"help": "Adam learning rate"})
    weight_decay: float = field(default=1e-4, metadata={"help": "Adam weight decay"})
    seed: int = field(default=0, metadata={"help": "seed of init and shuffling"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads"})


def accuracy(model, hits, genre) -> float:
    """Share of bars whose arg-max genre is the label."""
    import torch

    model.eval()
    with torch.no_grad():
        pred = model(hits).argmax(-1)
    model.train()
    return float((pred == genre).float().mean())


def train(model_cfg, cfg: TrainConfig, data_path: str | None, out: Path, force: bool = False,
          show_progress: bool = True, log=print, history_path: Path | None = None) -> float:
    """Train, write the checkpoint, return the validation accuracy."""
    import torch

    from drumfont.checkpoint import save_checkpoint
    from drumfont.corpus.dataset import TRAIN, VAL
    from drumfont.errors import DrumfontError
    from drumfont.models.style_classifier import StyleClassifier
    from drumfont.writes import check_writable
    from trainers.train_vae import load_data

    check_writable(out, force)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    ds = load_data(data_path)
    if not ds.labelled:
        raise DrumfontError("the style classifier needs a dataset with a genre on every bar")
    tr, va = ds.subset(TRAIN), ds.subset(VAL)
    x_tr, y_tr = torch.from_numpy(tr.hits), torch.from_numpy(tr.genre.astype(np.int64))
    x_va, y_va = torch.from_numpy(va.hits), torch.from_numpy(va.genre.astype(np.int64))
    model_cfg = dataclasses.replace(model_cfg, n_genres=len(ds.genres))
    model = StyleClassifier(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    history = History(history_path or out.with_suffix(".jsonl"))
    history.path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    val_acc = 0.0
    for epoch in progress(range(cfg.epochs), total=cfg.epochs, desc="style classifier", enabled=show_progress):
        perm = torch.randperm(len(x_tr), generator=gen)
        total = 0.0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            loss = torch.nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx) / len(perm)
        val_acc = accuracy(model, x_va, y_va)
        history.write({"epoch": epoch, "loss": total, "val_acc": val_acc,
                       "train_acc": accuracy(model, x_tr, y_tr), "seconds": time.perf_counter() - t0})
    config = {"model": model_cfg.to_dict(), "train": dataclasses.asdict(cfg), "data": data_path}
    save_checkpoint(out, "style_classifier", config, model.state_dict(),
                    extras={"genres": list(ds.genres)}, metrics={"val_acc": val_acc}, force=force)
    log(f"wrote {out}: validation accuracy {val_acc:.3f} ({len(va)} bars, {time.perf_counter() - t0:.1f} s)")
    return val_acc


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse flags and train; user errors become one line and exit code 2."""
    from drumfont.errors import DrumfontError
    from drumfont.models.style_classifier import StyleClassifierConfig

    p = argparse.ArgumentParser(prog=prog, description="Train the evaluation-only drum genre classifier.")
    p.add_argument("--data", default=None, help="dataset file (.npz); default: the built-in genre corpus")
    p.add_argument("--out", default="runs/style_classifier.pt", help="checkpoint to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--history", default=None, help="JSON-lines history (default: --out with .jsonl)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_dataclass_args(p, TrainConfig)
    add_dataclass_args(p, StyleClassifierConfig, prefix="model-")
    args = p.parse_args(argv)
    try:
        train(dataclass_from_args(StyleClassifierConfig, args, "model-"), dataclass_from_args(TrainConfig, args),
              args.data, Path(args.out), force=args.force, show_progress=not args.no_progress,
              log=lambda m: print(m, file=sys.stderr),
              history_path=Path(args.history) if args.history else None)
    except DrumfontError as exc:
        print(f"drumfont: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
