"""Train the letter classifier that judges the GAN (mode coverage, FD, precision/recall).

    python -m drumfont.trainers.train_letter_classifier --out presets/letter_classifier.pt
    drumfont train letter-classifier --unseen-fonts /usr/share/fonts/truetype/liberation

Reports validation accuracy on the training fonts and, with --unseen-fonts, on typefaces the
classifier never saw; both go into the checkpoint's metrics.

Under `torchrun --nproc_per_node N -m trainers.train_letter_classifier ...` it trains with DDP:
--batch-size is the global batch, each rank takes its shard of the same global batches one
process sees; the random shift and dropout are drawn per rank (seeded by seed, epoch and rank).
Batch norm uses each rank's shard statistics on CPU (gloo) and the global batch's on CUDA
(SyncBatchNorm). Accuracies count every rank's share of the images; rank 0 alone writes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from drumfont.atomic import check_writable
from drumfont.checkpoint import save_checkpoint
from drumfont.errors import DrumfontError
from drumfont.letters.classifier import ClassifierConfig, LetterClassifier, classify
from drumfont.letters.data import GLYPHS, TRAIN, VAL, FontDataset, build_fonts, find_fonts
from drumfont.trainers.batches import ImageRows
from drumfont.trainers.common import add_dataclass_args, dataclass_from_args, progress, seed_everything
from drumfont.trainers.distributed import (
    Dist,
    barrier,
    epoch_batches,
    epoch_generator,
    log,
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
    """Training settings of the letter classifier."""

    data: str = field(default="", metadata={"help": "fonts dataset (.npz); empty = build the default set"})
    out: str = field(default="presets/letter_classifier.pt", metadata={"help": "checkpoint to write"})
    epochs: int = field(default=8, metadata={"help": "passes over the training letters"})
    batch_size: int = field(default=128, metadata={"help": "images per step, over all processes (global batch)"})
    lr: float = field(default=2e-3, metadata={"help": "Adam learning rate (cosine decay to 0)"})
    shift: int = field(default=2, metadata={"help": "extra random shift in pixels while training"})
    seed: int = field(default=0, metadata={"help": "seed of data order, init and dropout"})
    unseen_fonts: str = field(default="", metadata={"help": "folder(s) of other TTF/OTF, ':'-separated, "
                                                            "to measure accuracy on typefaces never seen"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads"})
    force: bool = field(default=False, metadata={"help": "overwrite --out"})
    device: str = field(default="auto", metadata={"help": "auto (a GPU per rank when present, else CPU), cpu or cuda"})


def load_fonts_data(path: str, seed: int = 0) -> FontDataset:
    """The dataset file, or the default set built in memory (a few seconds)."""
    return FontDataset.load(path) if path else build_fonts(seed=seed)


def accuracy(model: LetterClassifier, rows: ImageRows, d: Dist, chunk: int = 4096) -> float:
    """Share of a split's images whose predicted letter is right; each rank classifies every
    world_size-th image, in chunks, and the counts are summed."""
    right = torch.zeros(2, dtype=torch.float64)
    for idx in torch.arange(d.rank, len(rows), d.world_size).split(chunk):
        x, y = rows.batch(idx, d.device)
        labels, _, _ = classify(model, x)
        right += torch.tensor([float((labels == y).sum()), len(idx)], dtype=torch.float64)
    right = reduce_sum(right, d)
    return float(right[0] / right[1]) if right[1] else float("nan")


def unseen_accuracy(model: LetterClassifier, folders: str, seed: int) -> tuple[float, dict[str, float], int]:
    """Accuracy on glyphs rendered (plain and augmented) from fonts under `folders`."""
    fonts: list[Path] = []
    for folder in [f for f in folders.split(os.pathsep) if f]:
        fonts += find_fonts(folder)
    if not fonts:
        raise DrumfontError(f"no usable TTF/OTF fonts under {folders}")
    data = build_fonts(fonts, seed=seed + 1, train_per_letter=0, val_per_letter=4 * len(fonts), min_fonts=1,
                       glyphs=GLYPHS[:model.cfg.n_classes])
    labels, _, _ = classify(model, torch.from_numpy(data.floats()))
    ok = labels.numpy() == data.letter
    per_font = {name: float(ok[data.font == i].mean()) for i, name in enumerate(data.fonts)}
    return float(ok.mean()), per_font, len(fonts)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse the flags and train."""
    parser = OneLineParser(prog=prog, description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataclass_args(parser, TrainConfig)
    add_dataclass_args(parser, ClassifierConfig, prefix="model_")
    args = parser.parse_args(argv)
    return run_main(lambda: train(dataclass_from_args(TrainConfig, args),
                                  dataclass_from_args(ClassifierConfig, args, "model_")))


def train(cfg: TrainConfig, mcfg: ClassifierConfig) -> int:
    """The whole run (one process, or one rank under torchrun): data, loop, evaluation, checkpoint."""
    d = setup(cfg.device)
    out, preset = checkpoint_and_preset(cfg.out)
    on_main(lambda: (check_writable(cfg.out, cfg.force, CHECKPOINT_OUT, "--out"), check_writable(out, cfg.force),
                     check_writable(preset, cfg.force)), d)
    if cfg.batch_size % d.world_size:
        raise DrumfontError(f"--batch-size {cfg.batch_size} (the global batch) must be divisible by the "
                            f"{d.world_size} processes")
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    data = load_fonts_data(cfg.data, cfg.seed).first(mcfg.n_classes)
    train_rows, val_rows = ImageRows.of(data, TRAIN), ImageRows.of(data, VAL)  # uint8; floats per batch
    model = wrap(LetterClassifier(mcfg), d)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps_per_epoch = (len(train_rows) + cfg.batch_size - 1) // cfg.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
    t0 = time.time()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        gen = epoch_generator(cfg.seed, epoch, d)  # this rank's shifts
        seed_epoch(cfg.seed, epoch, d)             # this rank's dropout masks
        total = 0.0
        batches = epoch_batches(len(train_rows), cfg.batch_size, epoch, cfg.seed, d)
        for idx in progress(batches, total=steps_per_epoch, desc=f"epoch {epoch}", enabled=d.is_main):
            xb, yb = train_rows.batch(idx, d.device)  # this rank's shard, (b, 1, 28, 28)
            xb = xb[:, 0]
            if cfg.shift:  # small translations so GAN letters a pixel off-centre are still read
                dy, dx = torch.randint(-cfg.shift, cfg.shift + 1, (2,), generator=gen).tolist()
                xb = torch.roll(xb, shifts=(dy, dx), dims=(1, 2))
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx) * d.world_size
        total = reduce_mean({"loss": total}, d)["loss"]
        val_acc = accuracy(unwrap(model), val_rows, d)
        log(d, f"epoch {epoch}: loss {total / len(train_rows):.4f}  val acc {val_acc:.4f}")
    metrics = {"val_acc": val_acc, "train_acc": accuracy(unwrap(model), train_rows, d), "seconds": time.time() - t0,
               "fonts": list(data.fonts)}
    if not d.is_main:
        barrier(d)  # wait for rank 0's unseen-font test and checkpoint
        return 0
    if cfg.unseen_fonts:
        acc, per_font, n = unseen_accuracy(unwrap(model).cpu(), cfg.unseen_fonts, cfg.seed)
        metrics.update(unseen_acc=acc, unseen_fonts=n, unseen_per_font=per_font)
        print(f"unseen fonts ({n}): acc {acc:.4f}", file=sys.stderr)
        for name, a in sorted(per_font.items(), key=lambda kv: kv[1]):
            print(f"  {name:36s} {a:.3f}", file=sys.stderr)
    save_checkpoint(out, "letter_classifier", mcfg.to_dict(), unwrap(model).state_dict(),
                    extras={"train": asdict(cfg)}, metrics=metrics, force=cfg.force)
    export(out, preset)
    print(f"wrote {out} and {preset.name}: val acc {val_acc:.4f}", file=sys.stderr)
    barrier(d)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
