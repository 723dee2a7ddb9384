"""Train the evaluation-only genre classifier on drum bars, top to bottom.

    python -m drumfont.trainers.train_style_classifier [--data corpus.npz] [--out presets/style_classifier.pt]

Its validation accuracy is the ceiling for the VAE's classifier-agreement and transfer measures.

Under `torchrun --nproc_per_node N -m trainers.train_style_classifier ...` it trains with DDP:
--batch-size is the global batch, each rank takes its shard of the same global batches one
process sees (trainers/distributed.py), so without dropout (--model-dropout 0) the N-process loss
curve is the 1-process one up to float rounding; with dropout each rank draws its own masks.
Accuracies are counted over all ranks' shares of the bars; rank 0 alone writes history and file.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.atomic import check_writable
from drumfont.checkpoint import save_checkpoint
from drumfont.drums.dataset import TRAIN, VAL
from drumfont.errors import DrumfontError
from drumfont.trainers.batches import DrumRows
from drumfont.trainers.common import History, add_dataclass_args, dataclass_from_args, progress, seed_everything
from drumfont.trainers.distributed import (
    Dist,
    barrier,
    epoch_batches,
    on_main,
    reduce_mean,
    reduce_sum,
    run_main,
    seed_epoch,
    setup,
    unwrap,
    wrap,
)
from drumfont.trainers.export_preset import checkpoint_and_preset, export
from drumfont.validate import CHECKPOINT_OUT, OneLineParser


@dataclass
class TrainConfig:
    """Optimisation settings of the classifier."""

    epochs: int = field(default=40, metadata={"help": "passes over the training bars"})
    batch_size: int = field(default=64, metadata={"help": "bars per step, over all processes (global batch)"})
    lr: float = field(default=2e-3, metadata={"help": "Adam learning rate"})
    weight_decay: float = field(default=1e-4, metadata={"help": "Adam weight decay"})
    seed: int = field(default=0, metadata={"help": "seed of init and shuffling"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads"})
    balance: bool = field(default=True, metadata={
        "help": "weigh genres by inverse frequency (real data is mostly rock; the judge must not be)"})


def accuracy(model, rows, d: Dist, chunk: int = 8192) -> float:
    """Share of a split's bars (a trainers.batches.DrumRows) whose arg-max genre is the label;
    each rank counts every world_size-th bar, in chunks, and the counts are summed."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    model.eval()
    right = torch.zeros(2, dtype=torch.float64)
    with torch.no_grad():
        for idx in torch.arange(d.rank, len(rows), d.world_size).split(chunk):
            hits, _, genre = rows.batch(idx, d.device)
            right += torch.tensor([float((model(hits).argmax(-1) == genre).sum()), len(idx)], dtype=torch.float64)
    model.train()
    right = reduce_sum(right, d)
    return float(right[0] / right[1]) if right[1] else float("nan")


def train(model_cfg, cfg: TrainConfig, data_path: str | None, out: Path, force: bool = False,
          show_progress: bool = True, log=print, history_path: Path | None = None, device: str = "auto") -> float:
    """Train (one process, or one rank under torchrun), write the checkpoint, return the
    validation accuracy."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.drums.style_classifier import StyleClassifier  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)
    from drumfont.trainers.train_vae import load_data  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    d = setup(device)
    if not d.is_main:
        log = lambda msg: None  # noqa: E731  (rank 0 alone speaks)
    out_arg, (out, preset) = out, checkpoint_and_preset(out)
    on_main(lambda: (check_writable(out_arg, force, CHECKPOINT_OUT, "--out"), check_writable(out, force),
                     check_writable(preset, force)), d)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    ds = load_data(data_path)
    if not ds.labelled:
        raise DrumfontError("the style classifier needs a dataset with a genre on every bar")
    if cfg.batch_size % d.world_size:
        raise DrumfontError(f"--batch-size {cfg.batch_size} (the global batch) must be divisible by the "
                            f"{d.world_size} processes")
    tr, va = DrumRows.of(ds, TRAIN), DrumRows.of(ds, VAL)  # rows read batch by batch (memory map)
    model_cfg = dataclasses.replace(model_cfg, n_genres=len(ds.genres))
    model = wrap(StyleClassifier(model_cfg), d)
    counts = np.bincount(tr.genres(), minlength=len(ds.genres)).astype(np.float32)
    weight = None
    if cfg.balance:  # inverse frequency, mean 1 over the genres that have bars
        w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
        weight = torch.as_tensor(w, dtype=torch.float32, device=d.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history = History(history_path or out.with_suffix(".jsonl"), enabled=d.is_main)
    if d.is_main:
        history.path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    val_acc = 0.0
    for epoch in progress(range(cfg.epochs), total=cfg.epochs, desc="style classifier",
                          enabled=show_progress and d.is_main):
        seed_epoch(cfg.seed, epoch, d)  # dropout masks: per rank, replayable
        total = 0.0
        for idx in epoch_batches(len(tr), cfg.batch_size, epoch, cfg.seed, d):
            x, _, y = tr.batch(idx, d.device)  # this rank's shard of the global batch
            loss = torch.nn.functional.cross_entropy(model(x), y, weight=weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx) * d.world_size / len(tr)
        total = reduce_mean({"loss": total}, d)["loss"]
        val_acc = accuracy(unwrap(model), va, d)
        history.write({"epoch": epoch, "loss": total, "val_acc": val_acc,
                       "train_acc": accuracy(unwrap(model), tr, d), "seconds": time.perf_counter() - t0})
    config = {"model": model_cfg.to_dict(), "train": dataclasses.asdict(cfg), "data": data_path}
    if d.is_main:
        save_checkpoint(out, "style_classifier", config, unwrap(model).state_dict(),
                        extras={"genres": list(ds.genres)}, metrics={"val_acc": val_acc}, force=force)
        export(out, preset)
    barrier(d)
    log(f"wrote {out}: validation accuracy {val_acc:.3f} ({len(va)} bars, {time.perf_counter() - t0:.1f} s)")
    return val_acc


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse flags and train; user errors become one line and exit code 2."""
    from drumfont.drums.style_classifier import StyleClassifierConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    p = OneLineParser(prog=prog, description="Train the evaluation-only drum genre classifier.")
    p.add_argument("--data", default=None, help="dataset file (.npz); default: the built-in genre corpus")
    p.add_argument("--out", default="runs/style_classifier.pt", help="checkpoint to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--history", default=None, help="JSON-lines history (default: --out with .jsonl)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--device", default="auto", help="auto (a GPU per rank when present, else CPU), cpu or cuda")
    add_dataclass_args(p, TrainConfig)
    add_dataclass_args(p, StyleClassifierConfig, prefix="model-")
    args = p.parse_args(argv)
    return run_main(lambda: train(
        dataclass_from_args(StyleClassifierConfig, args, "model-"), dataclass_from_args(TrainConfig, args),
        args.data, Path(args.out), force=args.force, show_progress=not args.no_progress,
        log=lambda m: print(m, file=sys.stderr),
        history_path=Path(args.history) if args.history else None, device=args.device))


if __name__ == "__main__":
    raise SystemExit(main())
