"""Train the phrase model (drumfont/drums/phrase.py), top to bottom.

    python -m drumfont.trainers.train_phrase --data gmd.npz [--out runs/phrase.pt] [--epochs N] [--seed S] [--resume]

Data: windows of 1, 2, 4 and 8 consecutive bars of the dataset's beat files, on the grid of L
bars from the start of each run, each bar with its genre, position and fill flag
(drumfont/drums/phrase_data.py); the training split trains, the validation split (by file)
validates. A batch holds windows of one length, about --batch-size bars in all; an epoch visits
every training window once, the lengths' batches interleaved in a seeded order.

Loss per bar: BCE(hits) + beta * (KL(q(z_i | bar) || p(z_i | conductor)) + KL(q(z_p) || p(z_p |
genre)) / L, each per dimension with free bits) + vel_weight * MSE(velocities on hit cells) +
offset_weight * MSE(offsets on hit cells); the KL schedule, free bits and output temperature are
the bar VAE's (trainers/train_vae.py). A checkpoint is written atomically at every validation;
`--resume` continues from it exactly (model, optimizer and epoch come back; noise and order are
functions of seed and epoch). One process (the model trains in minutes on two cores).
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
import torch

from drumfont.checkpoint import load_checkpoint, save_checkpoint
from drumfont.drums import phrase_data
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.drums.metrics import reconstruction_scores
from drumfont.drums.phrase import PhraseConfig, PhraseVAE, phrase_input, phrase_losses
from drumfont.errors import DrumfontError
from drumfont.trainers.common import History, add_dataclass_args, dataclass_from_args, progress, seed_everything
from drumfont.trainers.distributed import run_main
from drumfont.trainers.export_preset import checkpoint_and_preset, export
from drumfont.trainers.train_vae import KL_SCHEDULES, free_bits_kl, kl_beta, output_temperature
from drumfont.validate import OneLineParser, check_output, trainer_arg

KIND = "phrase"


@dataclass
class TrainConfig:
    """Optimisation settings of the phrase model."""

    epochs: int = field(default=20, metadata={"help": "passes over the training windows"})
    batch_size: int = field(default=256, metadata={"help": "bars per step (windows of one length)"})
    lr: float = field(default=3e-3, metadata={"help": "Adam learning rate"})
    seed: int = field(default=0, metadata={"help": "seed of init, order and noise"})
    kl_schedule: str = field(default="cyclical", metadata={"help": "KL weight schedule", "choices": KL_SCHEDULES})
    kl_cycles: int = field(default=4, metadata={"help": "cycles of the cyclical schedule (Fu et al. 2019)"})
    kl_ratio: float = field(default=0.5, metadata={
        "help": "share of each cycle (or of training, monotonic) spent ramping beta"})
    beta_max: float = field(default=0.2, metadata={"help": "largest KL weight (0.05 and 0.2 measured; 0.2 drew phrases nearer the drummers)"})
    free_bits: float = field(default=0.25, metadata={
        "help": "minimum KL per latent dimension in nats, on the whole code of a bar and on z_p (0 = off)"})
    temp_start: float = field(default=2.0, metadata={"help": "output temperature at the start (logits / T)"})
    temp_end: float = field(default=1.0, metadata={"help": "output temperature at the end (linear in epochs)"})
    vel_weight: float = field(default=50.0, metadata={"help": "weight of the velocity loss"})
    offset_weight: float = field(default=200.0, metadata={"help": "weight of the micro-timing (offset) loss"})
    val_every: int = field(default=5, metadata={"help": "validate and checkpoint every N epochs"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads (1 measured 10x faster than 2 on the shared two cores)"})


@dataclass
class Bars:
    """Every bar of the dataset as float tensors: hits, velocities / 127, offsets, each (N, 16, 9)."""

    hits: torch.Tensor
    vel: torch.Tensor
    off: torch.Tensor

    @classmethod
    def of(cls, ds) -> Bars:
        """The dataset's arrays, converted once (19k bars of GMD: 33 MB)."""
        v = torch.from_numpy(np.asarray(ds.velocities, np.uint8).copy())
        return cls((v > 0).float(), v.float() / 127.0, torch.from_numpy(np.asarray(ds.timing, np.float32)))

    def phrases(self, w, idx: np.ndarray) -> dict[str, torch.Tensor]:
        """The model's inputs for windows `idx` of one Windows table."""
        rows = torch.from_numpy(w.rows[idx])
        prev = torch.from_numpy(np.maximum(w.prev[idx], 0))
        has_prev = torch.from_numpy(w.prev[idx] >= 0)
        h, v, o = self.hits[rows], self.vel[rows], self.off[rows]
        x_prev = phrase_input(self.hits[prev], self.vel[prev], self.off[prev]) * has_prev.float()[:, None, None]
        return {"hits": h, "vel": v, "off": o, "x": phrase_input(h, v, o), "x_prev": x_prev,
                "has_prev": has_prev, "genre": torch.from_numpy(w.genre[idx]),
                "fill": torch.from_numpy(w.fill[idx]), "prev_fill": torch.from_numpy(w.prev_fill[idx])}


def epoch_plan(sizes: dict[int, int], batch_bars: int, epoch: int, seed: int) -> list[tuple[int, np.ndarray]]:
    """(length, window indices) of every batch of an epoch: each length's windows in a seeded
    order, cut into batches of about `batch_bars` bars, the batches of all lengths interleaved."""
    rng = np.random.default_rng([seed, epoch])
    plan = []
    for length, n in sorted(sizes.items()):
        per = max(1, batch_bars // length)
        order = rng.permutation(n)
        plan += [(length, order[i:i + per]) for i in range(0, n, per)]
    return [plan[i] for i in rng.permutation(len(plan))]


def model_call(model, b: dict[str, torch.Tensor], generator: torch.Generator | None = None) -> dict:
    """The model's forward pass on a batch from `Bars.phrases`."""
    return model(b["x"], b["genre"], b["fill"], b["x_prev"], b["has_prev"], b["prev_fill"], generator=generator)


def evaluate(model, bars: Bars, windows: dict) -> dict:
    """Validation, per window length: reconstruction from posterior means, the decoder running on
    its own bars (hit F1, velocity and timing error on hit cells), and the KL terms; the 4-bar
    figures also at the top level."""
    model.eval()
    scores: dict = {}
    with torch.no_grad():
        for length, w in sorted(windows.items()):
            if not len(w):
                continue
            b = bars.phrases(w, np.arange(len(w)))
            hits, vel, off = model.reconstruct(b["x"], b["genre"], b["fill"])
            out = model_call(model, b, torch.Generator().manual_seed(0))
            s = reconstruction_scores(b["hits"].numpy(), hits.numpy(), b["vel"].numpy() * 127,
                                      vel.numpy() * 127, b["off"].numpy(), off.numpy())
            s["kl_bar"] = float(out["kl_bar"].mean())
            s["kl_phrase"] = float(out["kl_phrase"].sum(-1).mean())
            scores[str(length)] = s
    model.train()
    if "4" in scores:
        scores.update({k: v for k, v in scores["4"].items()})
    return scores


# The grid `calibrate` searches: the spread of sampled bar codes (1 = the prior's own) and the
# logit above which a cell is a hit (0 = probability 0.5).
SPREADS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0)
THRESHOLDS = (0.0, -0.4, -0.8, -1.2)


def calibrate(model, bars: Bars, windows, n_genres: int, per_genre: int = 128, seed: int = 0
              ) -> dict:
    """Per genre, the code spread and hit threshold at which the model's 4-bar phrases come nearest
    real training phrases: sampled on the fill flags of up to `per_genre` real training windows of
    the genre, scored by ((distance of bars 2-3 to bar 1, generated - real) / 0.1)^2 + ((hits per
    bar, generated - real) / 2)^2. A VAE's prior draws are noisier than the codes of real bars (at
    the prior's own spread, a sampled bar 2 was 0.53 from bar 1 where the drummer's is 0.44) and
    greedy decoding drops the cells it is unsure of (rock: 13 hits a bar against 17); this is
    measured on the training split only, like drumify's hit thresholds on held-out training files."""
    from drumfont.drums.phrase import conditions  # noqa: PLC0415 (beside the model it calibrates)

    model.eval()
    rng = np.random.default_rng(seed)
    out: dict = {"spread": [1.0] * n_genres, "threshold": [0.0] * n_genres, "fit": {}}
    with torch.no_grad():
        for g in range(n_genres):
            idx = np.flatnonzero(windows.genre == g)
            if not len(idx):
                continue
            idx = rng.choice(idx, min(per_genre, len(idx)), replace=False)
            real = bars.hits[torch.from_numpy(windows.rows[idx])].numpy() > 0
            d_real = float(phrase_data.jaccard_distance(real[:, :1], real[:, 1:3]).mean())
            dens_real = float(real.sum((2, 3)).mean())
            b = len(idx)
            none = torch.zeros(b, dtype=torch.bool)
            cond = conditions(torch.from_numpy(windows.fill[idx]), none, none, model.cfg.max_bars)
            gt = torch.full((b,), g)
            best = None
            for spread in SPREADS:
                for thr in THRESHOLDS:
                    gen = torch.Generator().manual_seed(seed + g)  # the same draws for every cell of the grid
                    z_p = model.sample_phrase_latent(gt, gen, 1.0)
                    h, _, _ = model.generate(z_p, gt, cond, torch.zeros(b, *bars.hits.shape[1:-1], 3 * bars.hits.shape[-1]),
                                             gen, spread, threshold=thr)
                    h = h.numpy()
                    d = float(phrase_data.jaccard_distance(h[:, :1], h[:, 1:3]).mean())
                    dens = float(h.sum((2, 3)).mean())
                    score = ((d - d_real) / 0.1) ** 2 + ((dens - dens_real) / 2) ** 2
                    if best is None or score < best[0]:
                        best = (score, spread, thr, d, dens)
            _, out["spread"][g], out["threshold"][g], d, dens = best
            out["fit"][str(g)] = {"distance_real": d_real, "distance": d, "hits_real": dens_real, "hits": dens}
    model.train()
    return out


def train(model_cfg, cfg: TrainConfig, data_path: str, out: Path, resume: bool = False,
          stop_after: int | None = None, show_progress: bool = True, force: bool = False,
          log=print, history_path: Path | None = None) -> Path:
    """The whole run; returns the checkpoint path."""
    out, preset = checkpoint_and_preset(out)  # the run (resume) and, when complete, the model
    history = History(history_path or out.with_suffix(".jsonl"))
    check_output(out, force=True)
    check_output(history.path, force=True)
    check_output(preset, force=force)  # the user's file there is never overwritten unasked
    state = None
    if resume:
        state = load_checkpoint(out, KIND)
        if state["extras"].get("complete"):
            raise DrumfontError(f"{out}: that run is complete; train a new one with another --out")
        # The checkpoint carries its config: flags given beside --resume are ignored.
        model_cfg = PhraseConfig(**state["config"]["model"])
        cfg = TrainConfig(**state["config"]["train"])
        data_path = state["config"]["data"]
    elif out.exists() and not force:
        raise DrumfontError(f"{out} exists; pass --force to overwrite it or --resume to continue it")
    if not data_path:
        raise DrumfontError("--data is required: a drums dataset of performances (e.g. `drumfont data gmd`)")
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)

    # --- data --------------------------------------------------------------------------------
    ds = DrumDataset.load(data_path)
    if not len(ds.sources):
        raise DrumfontError(f"{data_path}: the dataset does not say where its bars come from; phrases need "
                            "performances (e.g. `drumfont data gmd` or `drumfont data import`)")
    windows = phrase_data.windows_of(ds)
    tr = {n: w.take(w.split == TRAIN) for n, w in windows.items()}
    va = {n: w.take(w.split == VAL) for n, w in windows.items()}
    if not any(len(w) for n, w in tr.items() if n > 1):
        raise DrumfontError(f"{data_path}: no two consecutive bars of one beat file in the training split; "
                            "phrases need performances")
    if not any(len(w) for w in va.values()):
        va = tr  # a tiny user library: validate on what there is, rather than fail
    genres = list(ds.genres)
    present = sorted({int(g) for w in tr.values() for g in np.unique(w.genre) if g >= 0})
    model_cfg = dataclasses.replace(model_cfg, n_genres=max(1, len(genres)))
    bars = Bars.of(ds)
    sizes = {n: len(w) for n, w in tr.items() if len(w)}
    steps_per_epoch = len(epoch_plan(sizes, cfg.batch_size, 0, cfg.seed))
    total_steps = steps_per_epoch * cfg.epochs
    fill_share = float(np.mean(np.concatenate([w.fill.ravel() for w in tr.values()])))
    log(f"{sum(sizes.values())} training windows ({', '.join(f'{n} x {k} bars' for k, n in sizes.items())}), "
        f"{sum(len(w) for w in va.values())} validation; {fill_share:.1%} of training bars are fills")

    # --- model, optimiser --------------------------------------------------------------------
    model = PhraseVAE(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch = 0
    if state is not None:
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["extras"]["optimizer"])
        start_epoch = int(state["extras"]["epoch"])
        history.truncate_after("epoch", start_epoch - 1)
        log(f"resuming {out} at epoch {start_epoch}/{cfg.epochs}")
    else:
        history.path.unlink(missing_ok=True)
    config = {"model": model_cfg.to_dict(), "train": dataclasses.asdict(cfg), "data": data_path}
    fill_rule = {"keep_first": phrase_data.KEEP_FIRST, "leave_second": phrase_data.LEAVE_SECOND,
                 "context": phrase_data.CONTEXT}

    def checkpoint(epoch: int, extras: dict, metrics: dict) -> None:
        save_checkpoint(out, KIND, config, model.state_dict(),
                        extras={"optimizer": opt.state_dict(), "epoch": epoch, "genres": genres,
                                "genres_present": present, "fill_rule": fill_rule,
                                "timing": ds.offsets is not None, **extras},
                        metrics=metrics)

    # --- loop --------------------------------------------------------------------------------
    t0 = time.perf_counter()
    model.train()
    val: dict = {}
    last = cfg.epochs if stop_after is None else min(cfg.epochs, stop_after)
    bar = progress(range(start_epoch, last), total=last - start_epoch, desc="phrase", enabled=show_progress)
    for epoch in bar:
        temp = output_temperature(epoch, cfg)
        sums = {"loss": 0.0, "bce": 0.0, "kl_bar": 0.0, "kl_phrase": 0.0, "vel": 0.0, "offset": 0.0}
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        beta = 0.0
        n_bars = 0
        for i, (length, idx) in enumerate(epoch_plan(sizes, cfg.batch_size, epoch, cfg.seed)):
            b = bars.phrases(tr[length], idx)
            beta = kl_beta(epoch * steps_per_epoch + i, total_steps, cfg)
            out_ = model_call(model, b, gen)
            bce, vel_loss, off_loss = phrase_losses(out_, b["hits"], b["vel"], b["off"], temp)
            # free bits on each bar's whole code (a mixture prior's KL has no per-dimension split)
            kl_bar = out_["kl_bar"].mean().clamp(min=cfg.free_bits * model_cfg.z_bar)
            kl_phrase = free_bits_kl(out_["kl_phrase"], cfg.free_bits) / length
            loss = bce + beta * (kl_bar + kl_phrase) + cfg.vel_weight * vel_loss + cfg.offset_weight * off_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            w = len(idx) * length
            n_bars += w
            for key, value in (("loss", loss), ("bce", bce), ("vel", vel_loss), ("offset", off_loss)):
                sums[key] += value.item() * w
            sums["kl_bar"] += out_["kl_bar"].mean().item() * w
            sums["kl_phrase"] += out_["kl_phrase"].sum(-1).mean().item() / length * w
        sums = {k: v / max(1, n_bars) for k, v in sums.items()}
        record = {"epoch": epoch, **sums, "beta": beta, "temperature": temp, "seconds": time.perf_counter() - t0}
        val_now = (epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs
        if val_now:
            val = evaluate(model, bars, va)
            record["val"] = val
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{sums['loss']:.2f}", f1=f"{val.get('hit_f1', float('nan')):.3f}")
            log(f"epoch {epoch + 1}: loss {sums['loss']:.2f}, val 4-bar hit F1 {val.get('hit_f1', float('nan')):.3f}, "
                f"{time.perf_counter() - t0:.0f} s")
        history.write(record)
        if val_now and epoch + 1 < cfg.epochs:
            checkpoint(epoch + 1, {"complete": False}, {"val": val})

    if last < cfg.epochs:
        log(f"stopped after epoch {last}; resume with --resume")
        return out
    sampling = calibrate(model, bars, tr[4] if 4 in tr else tr[max(tr)], len(genres), seed=cfg.seed)
    log("calibrated (genre: code spread, hit threshold): " + ", ".join(
        f"{genres[g]} {sampling['spread'][g]:g}/{sampling['threshold'][g]:g}" for g in present))
    checkpoint(cfg.epochs, {"complete": True, "sampling": sampling, "train_seconds": time.perf_counter() - t0},
               {"val": val})
    export(out, preset)
    log(f"wrote {out} and {preset.name} (val 4-bar hit F1 {val.get('hit_f1', float('nan')):.3f}, {time.perf_counter() - t0:.1f} s)")
    return out


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """Flags: one per config field (model and training), plus the run options."""
    p = OneLineParser(prog=prog, description="Train the phrase model (a conductor over bar codes).")
    p.add_argument("--data", default=None, help="dataset file (.npz) of performances, e.g. from `drumfont data gmd`")
    p.add_argument("--out", default="runs/phrase.pt", help="checkpoint to write (history beside it, .jsonl)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--stop-after", type=trainer_arg("stop_after", int), default=None,
                   help="stop after this epoch (resume later)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--history", default=None, help="JSON-lines history (default: --out with .jsonl)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_dataclass_args(p, TrainConfig)
    add_dataclass_args(p, PhraseConfig, prefix="model-")
    return p


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse flags and train; user errors become one line and exit code 2."""
    args = build_parser(prog).parse_args(argv)
    cfg = dataclass_from_args(TrainConfig, args)
    model_cfg = dataclass_from_args(PhraseConfig, args, prefix="model-")

    def body() -> None:
        if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.val_every < 1:
            raise DrumfontError("--epochs, --batch-size and --val-every must be at least 1")
        train(model_cfg, cfg, args.data, Path(args.out), resume=args.resume, stop_after=args.stop_after,
              show_progress=not args.no_progress, force=args.force, log=lambda m: print(m, file=sys.stderr),
              history_path=Path(args.history) if args.history else None)

    return run_main(body)


if __name__ == "__main__":
    raise SystemExit(main())
