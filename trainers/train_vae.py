"""Train the hierarchical drum VAE, top to bottom.

    python -m drumfont.trainers.train_vae [--data corpus.npz] [--out runs/vae.pt] [--epochs N] [--seed S] [--resume]
    drumfont train vae ...            (the same flags)
    torchrun --nproc_per_node 2 -m trainers.train_vae ...    (DistributedDataParallel, same flags)

Loss per batch: BCE(hits) + beta * (KL_high + KL_low, each per dimension with free bits)
+ vel_weight * MSE(velocities on hit cells) + offset_weight * MSE(offsets on hit cells)
+ genre_weight * CE(genre | z_high). The encoder reads hits, velocities and offsets together.
A checkpoint is written atomically at every validation; `--resume` continues from it exactly
(model, optimizer, generator state and epoch come back). After the last epoch one Gaussian per
genre is fitted in z_high and stored in the checkpoint: that is how "pick a genre and sample" works.

Distributed (trainers/distributed.py): --batch-size is the global batch; each of N ranks trains on
its 1/N shard of the same global batches a single process sees, and DDP averages the gradients.
Each rank draws its own reparameterisation noise (seeded by seed, epoch and rank); free bits,
the velocity error and the genre loss are computed on each rank's shard and their gradients
averaged, so the N-process curve follows the 1-process one closely but not bit for bit. Epoch
metrics are averaged over ranks; rank 0 alone validates, logs and writes history and checkpoints.
Bars are streamed from the dataset's uint8 arrays (memory-mapped), never copied whole as floats.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from drumfont.checkpoint import load_checkpoint, save_checkpoint
from drumfont.drums import rules
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.drums.metrics import reconstruction_scores
from drumfont.errors import DrumfontError
from drumfont.trainers.batches import DrumRows
from drumfont.trainers.common import History, add_dataclass_args, dataclass_from_args, progress, seed_everything
from drumfont.trainers.distributed import (
    barrier,
    epoch_batches,
    epoch_generator,
    on_main,
    reduce_mean,
    reduce_tensor_mean,
    run_main,
    setup,
    unwrap,
    wrap,
)
from drumfont.trainers.export_preset import checkpoint_and_preset, export
from drumfont.validate import CHECKPOINT_OUT, OneLineParser, check_output, output_format, trainer_arg

if TYPE_CHECKING:
    import torch

KL_SCHEDULES = ("none", "monotonic", "cyclical")


@dataclass
class TrainConfig:
    """Optimisation and collapse-prevention settings (the ablation in reports/vae_ablation.md
    chose the defaults)."""

    epochs: int = field(default=100, metadata={"help": "passes over the training bars"})
    batch_size: int = field(default=64, metadata={"help": "bars per step, over all processes (global batch)"})
    lr: float = field(default=2e-3, metadata={"help": "Adam learning rate"})
    seed: int = field(default=0, metadata={"help": "seed of init, shuffling and noise"})
    kl_schedule: str = field(default="cyclical", metadata={"help": "KL weight schedule", "choices": KL_SCHEDULES})
    kl_cycles: int = field(default=4, metadata={"help": "cycles of the cyclical schedule (Fu et al. 2019)"})
    kl_ratio: float = field(default=0.5, metadata={
        "help": "share of each cycle (or of training, monotonic) spent ramping beta"})
    beta_max: float = field(default=0.2, metadata={"help": "largest KL weight"})
    free_bits: float = field(default=0.25, metadata={"help": "minimum KL per latent dimension in nats (0 = off)"})
    temp_start: float = field(default=2.0, metadata={"help": "output temperature at the start (logits / T)"})
    temp_end: float = field(default=1.0, metadata={"help": "output temperature at the end (linear in epochs)"})
    genre_weight: float = field(default=10.0, metadata={
        "help": "weight of the auxiliary genre loss on z_high (0 = off)"})
    vel_weight: float = field(default=10.0, metadata={"help": "weight of the velocity loss"})
    offset_weight: float = field(default=10.0, metadata={"help": "weight of the micro-timing (offset) loss"})
    fills: bool = field(default=True, metadata={"help": "train on bars flagged as fills too (Groove MIDI)"})
    val_every: int = field(default=5, metadata={"help": "validate and checkpoint every N epochs"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads (1 measured fastest for this model)"})


def kl_beta(step: int, total_steps: int, cfg: TrainConfig) -> float:
    """KL weight at a global step: constant, a single linear ramp, or M linear ramps (each over
    `kl_ratio` of its cycle, then flat at beta_max), as in Fu et al. 2019."""
    if cfg.kl_schedule == "none":
        return cfg.beta_max
    if cfg.kl_schedule == "monotonic":
        ramp = max(1.0, cfg.kl_ratio * total_steps)
        return cfg.beta_max * min(1.0, step / ramp)
    period = total_steps / max(1, cfg.kl_cycles)
    tau = (step % period) / period
    return cfg.beta_max * min(1.0, tau / cfg.kl_ratio)


def output_temperature(epoch: int, cfg: TrainConfig) -> float:
    """Output temperature for an epoch: linear from temp_start to temp_end."""
    if cfg.epochs <= 1:
        return cfg.temp_end
    return cfg.temp_start + (cfg.temp_end - cfg.temp_start) * epoch / (cfg.epochs - 1)


def free_bits_kl(kl: "torch.Tensor", free_bits: float) -> "torch.Tensor":
    """Batch-mean KL per dimension, floored at `free_bits` nats (Kingma et al. 2016): below the
    floor a dimension feels no pull towards the prior, so it is free to carry information."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    per_dim = kl.mean(0)
    return torch.clamp(per_dim, min=free_bits).sum() if free_bits > 0 else per_dim.sum()


def load_data(path: str | None):
    """The dataset file, or the built-in genre corpus when no path is given."""
    if path:
        return DrumDataset.load(path, mmap=True)  # batches read their rows; the file stays on disk

    return rules.build_corpus(seed=0)


@dataclass
class Tensors:
    """One split as tensors: hits (N, 16, 9), velocities / 127, genre (-1 = none), offsets."""

    hits: "torch.Tensor"
    vel: "torch.Tensor"
    genre: "torch.Tensor"
    off: "torch.Tensor"

    @classmethod
    def of(cls, rows, device) -> Tensors:
        """Every row of a trainers.batches.DrumRows."""
        idx = np.arange(len(rows))
        return cls(*rows.batch(idx, device), rows.timing(idx, device))

    def input(self) -> "torch.Tensor":
        """The encoder's (N, 16, 27) input."""
        from drumfont.drums.hvae import model_input  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        return model_input(self.hits, self.vel, self.off)


def evaluate(model, data: Tensors) -> dict:
    """Validation: reconstruction from posterior means (hit F1, cell accuracy, velocity and
    timing error on hit cells) and KL per dimension."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    model.eval()
    with torch.no_grad():
        x = data.input()
        mu_high, mu_low = model.encode_mean(x)
        logits, vel, off = model.decode(mu_high, mu_low)
        out = model(x, generator=torch.Generator().manual_seed(0))
    scores = reconstruction_scores(data.hits.cpu().numpy(), (logits > 0).cpu().numpy(),
                                   data.vel.cpu().numpy() * 127, vel.cpu().numpy() * 127,
                                   data.off.cpu().numpy(), off.cpu().numpy())
    scores["kl_high"] = out["kl_high"].mean(0).tolist()
    scores["kl_low"] = out["kl_low"].mean(0).tolist()
    scores["bce"] = float(torch.nn.functional.binary_cross_entropy_with_logits(
        out["logits"], data.hits, reduction="sum") / len(data.hits))
    model.train()
    return scores


def encode_rows(model, data, device="cpu") -> tuple["torch.Tensor", "torch.Tensor"]:
    """Posterior means (z_high, z_low) of every row of a trainers.batches.DrumRows."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    model.eval()
    highs, lows = [], []
    with torch.no_grad():  # in chunks: a million bars never become one float tensor
        for idx in torch.arange(len(data)).split(8192):
            zh, zl = model.encode_mean(Tensors(*data.batch(idx, device), data.timing(idx, device)).input())
            highs.append(zh.cpu())
            lows.append(zl.cpu())
    return torch.cat(highs), torch.cat(lows)


def fit_genre_gaussians(z_high: "torch.Tensor", genre: np.ndarray, n_genres: int
                        ) -> tuple["torch.Tensor", "torch.Tensor", list[int]]:
    """Mean and covariance of the z_high posterior means of each genre's training bars; genres
    with fewer than 2 bars are left out (their index is not in the returned list)."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    genre = torch.from_numpy(np.asarray(genre, np.int64))
    d = z_high.shape[1]
    means, covs, present = torch.zeros(n_genres, d), torch.eye(d).repeat(n_genres, 1, 1), []
    for g in range(n_genres):
        z = z_high[genre == g]
        if len(z) < 2:
            continue
        means[g] = z.mean(0)
        # A small ridge keeps the covariance positive definite for sampling.
        covs[g] = torch.cov(z.T).reshape(d, d) + 1e-4 * torch.eye(d)
        present.append(g)
    return means, covs, present


def typical_bars(z_high: "torch.Tensor", z_low: "torch.Tensor", hits: np.ndarray, genre: np.ndarray,
                 means: "torch.Tensor", covs: "torch.Tensor", present: list[int],
                 timed: np.ndarray | None = None) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Per genre, the codes of its most typical training bar: of the bars with at least the
    genre's median number of hits (a groove, not a sparse intro or break), the one whose z_high
    is nearest the genre's mean (Mahalanobis). Decoding the genre's *mean* codes gives a blur
    that keeps only what every bar shares (in real drumming, kick and snare: each drummer keeps
    time on a different cymbal); a real bar's codes keep a whole groove. Where a genre has bars
    with a player's timing (`timed`), the typical bar is one of them, not a straight bar mixed
    in (the rule corpus's claps). (G, z_high), (G, z_low)."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    genre = np.asarray(genre)
    out_h, out_l = torch.zeros(means.shape), torch.zeros(len(means), z_low.shape[1])
    for g in present:
        rows = np.flatnonzero(genre == g)
        if timed is not None and timed[rows].any():
            rows = rows[timed[rows]]
        rows = rows[hits[rows] >= np.median(hits[rows])]
        diff = z_high[rows] - means[g]
        dist = (diff @ torch.linalg.inv(covs[g]) * diff).sum(1)
        best = rows[int(dist.argmin())]
        out_h[g], out_l[g] = z_high[best], z_low[best]
    return out_h, out_l


def train(model_cfg, cfg: TrainConfig, data_path: str | None, out: Path, resume: bool = False,
          stop_after: int | None = None, show_progress: bool = True, force: bool = False,
          log=print, history_path: Path | None = None, device: str = "auto") -> Path:
    """The whole run (one process, or one rank under torchrun); returns the checkpoint path."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig, model_input, reconstruction_losses  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    out, preset = checkpoint_and_preset(out)  # the run (resume) and, when complete, the model
    d = setup(device)
    if not d.is_main:
        log = lambda msg: None  # noqa: E731  (rank 0 alone speaks)
    history = History(history_path or out.with_suffix(".jsonl"), enabled=d.is_main)

    def load_or_check():
        # On rank 0 only; its checkpoint (or its refusal) goes to every rank.
        output_format(out, CHECKPOINT_OUT, "train vae --out")
        check_output(out, force=True)  # a name too long or a folder we cannot write in: now, not after an epoch
        check_output(history.path, force=True)
        check_output(preset, force=force)  # the user's file there is never overwritten unasked
        if resume:
            blob = load_checkpoint(out, "vae")
            if blob["extras"].get("complete"):
                raise DrumfontError(f"{out}: that run is complete; train a new one with another --out")
            return blob
        if out.exists() and not force:
            raise DrumfontError(f"{out} exists; pass --force to overwrite it or --resume to continue it")
        return None

    state = on_main(load_or_check, d)
    if state is not None:
        # The checkpoint carries its config: flags given beside --resume are ignored.
        model_cfg = HVAEConfig(**state["config"]["model"])
        cfg = TrainConfig(**state["config"]["train"])
        data_path = state["config"].get("data")
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)

    # --- data --------------------------------------------------------------------------------
    # Every rank opens the file (memory-mapped); a batch reads only its rows (DrumRows).
    ds = load_data(data_path)
    tr, va_rows = DrumRows.of(ds, TRAIN, cfg.fills), DrumRows.of(ds, VAL)  # validate on every bar
    if len(tr) == 0:
        raise DrumfontError("the dataset has no training bars")
    if len(va_rows) == 0:
        va_rows = tr  # a tiny user library: validate on what there is, rather than fail
    if cfg.batch_size % d.world_size:
        raise DrumfontError(f"--batch-size {cfg.batch_size} (the global batch) must be divisible by the "
                            f"{d.world_size} processes")
    genres = list(ds.genres)
    labelled = bool((tr.genres() >= 0).any())
    model_cfg = dataclasses.replace(model_cfg, n_genres=max(1, len(genres)))
    va = Tensors.of(va_rows, d.device) if d.is_main else None  # rank 0 validates
    n_train = len(tr)
    steps_per_epoch = math.ceil(n_train / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs

    # --- model (DDP under torchrun), optimiser ------------------------------------------------
    # Randomness in the loop: data order from (seed, epoch) in epoch_batches, the same on every
    # rank; noise from epoch_generator(seed, epoch, rank). Both replay exactly after a resume.
    model = HierarchicalVAE(model_cfg)
    if state is not None:
        model.load_state_dict(state["state_dict"])
    model = wrap(model, d)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch = 0
    if state is not None:
        opt.load_state_dict(state["extras"]["optimizer"])
        start_epoch = int(state["extras"]["epoch"])
        history.truncate_after("epoch", start_epoch - 1)
        log(f"resuming {out} at epoch {start_epoch}/{cfg.epochs}")
    elif d.is_main:
        history.path.unlink(missing_ok=True)
    config = {"model": model_cfg.to_dict(), "train": dataclasses.asdict(cfg), "data": data_path}

    def checkpoint(epoch: int, extras: dict, metrics: dict) -> None:
        if d.is_main:
            save_checkpoint(out, "vae", config, unwrap(model).state_dict(),
                            extras={"optimizer": opt.state_dict(), "epoch": epoch, "genres": genres, **extras},
                            metrics=metrics)

    # --- loop --------------------------------------------------------------------------------
    t0 = time.perf_counter()
    model.train()
    val: dict = {}
    last = cfg.epochs if stop_after is None else min(cfg.epochs, stop_after)
    bar = progress(range(start_epoch, last), total=last - start_epoch, desc="vae",
                   enabled=show_progress and d.is_main)
    for epoch in bar:
        temp = output_temperature(epoch, cfg)
        sums = {"loss": 0.0, "bce": 0.0, "kl_high": 0.0, "kl_low": 0.0, "vel": 0.0, "offset": 0.0, "genre": 0.0}
        kl_high_dims = torch.zeros(model_cfg.z_high, device=d.device)
        kl_low_dims = torch.zeros(model_cfg.z_low, device=d.device)
        gen = epoch_generator(cfg.seed, epoch, d)
        beta = 0.0
        for i, idx in enumerate(epoch_batches(n_train, cfg.batch_size, epoch, cfg.seed, d)):
            x, v, g = tr.batch(idx, d.device)  # this rank's shard of global batch i
            o = tr.timing(idx, d.device)
            beta = kl_beta(epoch * steps_per_epoch + i, total_steps, cfg)
            out_ = model(model_input(x, v, o), generator=gen)
            bce, vel_loss, off_loss = reconstruction_losses(out_, x, v, temp, o)
            kl_high = free_bits_kl(out_["kl_high"], cfg.free_bits)
            kl_low = free_bits_kl(out_["kl_low"], cfg.free_bits)
            loss = bce + beta * (kl_high + kl_low) + cfg.vel_weight * vel_loss + cfg.offset_weight * off_loss
            genre_loss = torch.zeros((), device=d.device)
            if cfg.genre_weight > 0 and labelled:
                known = g >= 0
                if known.any():
                    genre_loss = torch.nn.functional.cross_entropy(out_["genre_logits"][known], g[known])
                    loss = loss + cfg.genre_weight * genre_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            w = len(idx) * d.world_size / n_train  # this shard's part of the global batch's weight
            sums["loss"] += loss.item() * w
            sums["bce"] += bce.item() * w
            sums["kl_high"] += out_["kl_high"].sum(1).mean().item() * w
            sums["kl_low"] += out_["kl_low"].sum(1).mean().item() * w
            sums["vel"] += vel_loss.item() * w
            sums["offset"] += off_loss.item() * w
            sums["genre"] += genre_loss.item() * w
            kl_high_dims += out_["kl_high"].detach().mean(0) * w
            kl_low_dims += out_["kl_low"].detach().mean(0) * w

        sums = reduce_mean(sums, d)  # shard means -> global means (equal shards)
        kl_high_dims, kl_low_dims = reduce_tensor_mean(kl_high_dims, d), reduce_tensor_mean(kl_low_dims, d)
        record = {"epoch": epoch, **sums, "beta": beta, "temperature": temp,
                  "kl_high_dims": kl_high_dims.tolist(), "kl_low_dims": kl_low_dims.tolist(),
                  "seconds": time.perf_counter() - t0}
        val_now = (epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs
        if val_now:
            val = evaluate(unwrap(model), va) if d.is_main else {}
            record["val"] = val
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{sums['loss']:.2f}", f1=f"{val['hit_f1']:.3f}")
        # History before the checkpoint: a kill between the two re-runs this epoch on resume,
        # whose line resume then replaces; the other order would lose the epoch's line.
        history.write(record)
        if val_now and epoch + 1 < cfg.epochs:
            checkpoint(epoch + 1, {"complete": False}, {"val": val})

    if last < cfg.epochs:  # stopped early on request: the last validation checkpoint is the resume point
        barrier(d)
        log(f"stopped after epoch {last}; resume with --resume")
        return out

    # --- genre Gaussians in z_high, then the final checkpoint --------------------------------
    typical_high = typical_low = means = covs = present = None
    if d.is_main:
        z_high, z_low = encode_rows(unwrap(model), tr, d.device)
        means, covs, present = fit_genre_gaussians(z_high, tr.genres(), len(genres))
        chunks = np.array_split(np.arange(len(tr)), max(1, len(tr) // 8192))
        hit_counts = np.concatenate([tr.batch(idx)[0].sum((1, 2)).numpy() for idx in chunks])
        timed = np.concatenate([(tr.timing(idx).abs().sum((1, 2)) > 0).numpy() for idx in chunks])
        typical_high, typical_low = typical_bars(z_high, z_low, hit_counts, tr.genres(), means, covs, present,
                                                 timed)
    checkpoint(cfg.epochs, {"complete": True, "genre_mean": means, "genre_cov": covs,
                            "genre_typical_high": typical_high, "genre_typical_low": typical_low,
                            "genres_present": present, "train_seconds": time.perf_counter() - t0,
                            # a model that never saw a player's timing plays on the grid
                            "timing": ds.offsets is not None},
               {"val": val})
    if d.is_main:
        export(out, preset)
    barrier(d)  # every rank ends after the final checkpoint is on disk
    log(f"wrote {out} and {preset.name} (val hit F1 {val.get('hit_f1', float('nan')):.3f}, "
        f"{time.perf_counter() - t0:.1f} s)")
    return out


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """Flags: one per config field (model and training), plus the run options."""
    from drumfont.drums.hvae import HVAEConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    p = OneLineParser(prog=prog, description="Train the hierarchical drum VAE.")
    p.add_argument("--data", default=None, help="dataset file (.npz); default: the built-in genre corpus")
    p.add_argument("--out", default="runs/vae.pt", help="checkpoint to write (history beside it, .jsonl; the "
                   "finished model also as .safetensors, which plays without torch)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--stop-after", type=trainer_arg("stop_after", int), default=None, help="stop after this epoch (resume later)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--history", default=None, help="JSON-lines history (default: --out with .jsonl)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--device", default="auto", help="auto (a GPU per rank when present, else CPU), cpu or cuda")
    add_dataclass_args(p, TrainConfig)
    add_dataclass_args(p, HVAEConfig, prefix="model-")
    return p


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse flags and train; user errors become one line and exit code 2."""
    from drumfont.drums.hvae import HVAEConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    args = build_parser(prog).parse_args(argv)
    cfg = dataclass_from_args(TrainConfig, args)
    model_cfg = dataclass_from_args(HVAEConfig, args, prefix="model-")

    def body() -> None:
        if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.val_every < 1:
            raise DrumfontError("--epochs, --batch-size and --val-every must be at least 1")
        train(model_cfg, cfg, args.data, Path(args.out), resume=args.resume, stop_after=args.stop_after,
              show_progress=not args.no_progress, force=args.force,
              log=lambda m: print(m, file=sys.stderr),
              history_path=Path(args.history) if args.history else None, device=args.device)

    return run_main(body)


if __name__ == "__main__":
    raise SystemExit(main())
