"""Train a Groove (humanize) or Drumify model, top to bottom.

    drumfont train humanize --data gmd.npz --out presets/humanize.pt
    drumfont train drumify  --data gmd.npz --out presets/drumify.pt
    python -m drumfont.trainers.train_groove --task humanize ...   (the same flags)

Pairs are made on the fly from the dataset's played bars (GrooVAE's inverse transformations):
humanize learns (hits of a bar, velocities flattened, offsets zeroed -> the bar as played);
drumify learns (the bar's tap line: every voice merged, the loudest hit's velocity and offset ->
the bar). Loss: vel_weight * MSE(velocities) + offset_weight * MSE(offsets) on the real hit cells
(`--loss l1`: absolute errors; measured no better, reports/README.md) (+ BCE of the hits for drumify) +
beta * KL(q(z) || N(0, I)) with free bits. Genre is dropped (set to "none") for a share of bars,
so the model also plays with no style given. `--model-tempo` adds the file's tempo (from the
Groove MIDI file name) as a condition channel.

Drumify holds a share of the training files out of training (`--threshold-holdout`) and, after
training, fits per-voice hit thresholds for F1 on them: bars the model has not seen, as the
validation bars are not, without looking at validation.

Humanize trains only on bars with real timing: bars whose source file starts with "rules:" (the
rule corpus's straight clap bars added by `data gmd --rule-claps`) are left out. Drumify keeps
them, so a tapped line can still become a bar with claps.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.checkpoint import save_checkpoint
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.errors import DrumfontError
from drumfont.trainers.common import History, add_dataclass_args, dataclass_from_args, progress, seed_everything
from drumfont.trainers.export_preset import checkpoint_and_preset, export
from drumfont.validate import CHECKPOINT_OUT, output_format

RULE_PREFIX = "rules:"


@dataclass
class TrainConfig:
    """Optimisation settings of a Groove/Drumify run."""

    epochs: int = field(default=30, metadata={"help": "passes over the training bars"})
    batch_size: int = field(default=64, metadata={"help": "bars per step"})
    lr: float = field(default=2e-3, metadata={"help": "Adam learning rate"})
    seed: int = field(default=0, metadata={"help": "seed of init, shuffling and noise"})
    beta: float = field(default=1.0, metadata={"help": "KL weight"})
    free_bits: float = field(default=0.1, metadata={"help": "minimum KL per latent dimension in nats"})
    vel_weight: float = field(default=25.0, metadata={"help": "weight of the velocity MSE"})
    offset_weight: float = field(default=25.0, metadata={"help": "weight of the offset MSE"})
    loss: str = field(default="mse", metadata={
        "help": "error of velocities and offsets: mse (Gaussian: the mean) or l1 (Laplace: the median)",
        "choices": ("mse", "l1")})
    genre_dropout: float = field(default=0.2, metadata={"help": "share of bars trained with no genre"})
    threshold_holdout: float = field(default=0.1, metadata={
        "help": "drumify: share of the training files held out of training to fit the per-voice hit "
                "thresholds on (0: fit them on the training bars)"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads"})


def real_timing_rows(ds) -> np.ndarray:
    """True for bars that come from a played file (not the rule corpus's straight bars)."""
    files = np.array([f.startswith(RULE_PREFIX) for f in ds.sources.files] or [False])
    if not len(ds.sources):
        return np.ones(len(ds), bool)
    return ~files[np.asarray(ds.sources.file_index)]


def split_rows(ds, which: int, task: str) -> np.ndarray:
    """Indices of the split's bars a task trains or validates on."""
    keep = np.asarray(ds.split) == which
    if task == "humanize":
        keep &= real_timing_rows(ds)
    return np.flatnonzero(keep & (np.asarray(ds.velocities).reshape(len(ds), -1).max(1) > 0))


def holdout_rows(ds, rows: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held out): a share of the rows' played source files (never a rule-corpus file) set
    aside whole, so the held-out bars are as new to the model as validation bars are."""
    if share <= 0 or not len(ds.sources):
        return rows, rows[:0]
    fidx = np.asarray(ds.sources.file_index)[rows]
    played = np.unique(fidx[real_timing_rows(ds)[rows]])
    rng = np.random.default_rng(seed)
    out = rng.choice(played, size=int(round(share * len(played))), replace=False)
    held = np.isin(fidx, out)
    return rows[~held], rows[held]


def fit_thresholds(model, data, task: str, grid: np.ndarray = np.linspace(-3, 3, 61), rounds: int = 2):
    """Drumify's per-voice logit thresholds that maximise the hit F1 (over all cells, after the
    fill-in rule of groove.drumify) of the bars in `data`, by coordinate ascent from 0."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    hits, vel, off, g, t = data
    model.eval()
    with torch.no_grad():
        logits = model.generate(condition(task, hits, vel, off, t if model.cfg.tempo else None), g, 0.0)[0].numpy()
    model.train()
    real, on = hits.numpy() > 0, hits.numpy().max(-1) > 0
    best = logits.argmax(-1)

    def f1_at(th):
        pred = (logits > th) & on[..., None]
        b, s = np.nonzero(on & ~pred.any(-1))
        pred[b, s, best[b, s]] = True
        return 2 * (pred & real).sum() / max(1, pred.sum() + real.sum())

    th = np.zeros(logits.shape[-1])
    for _ in range(rounds):
        for k in range(len(th)):
            scores = [f1_at(np.where(np.arange(len(th)) == k, t, th)) for t in grid]
            th[k] = grid[int(np.argmax(scores))]
    return tuple(float(t) for t in th), float(f1_at(th))


def file_tempo(name: str) -> float:
    """A Groove MIDI file's tempo from its name (`<n>_<style>_<bpm>_<beat|fill>_<sig>.mid`, the
    dataset's naming), or 120 where the name carries none (the rule corpus)."""
    m = re.search(r"_(\d+)_(?:beat|fill)_", name)
    return float(m.group(1)) if m else 120.0


def tensors(ds, rows: np.ndarray):
    """(hits, velocities / 127, offsets, genre, log2(tempo / 120)) tensors of some bars."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    v = torch.from_numpy(np.asarray(ds.velocities[rows], np.float32))
    o = torch.from_numpy(np.asarray(ds.timing[rows], np.float32))
    g = torch.from_numpy(np.asarray(ds.genre[rows], np.int64))
    bpm = np.array([file_tempo(f) for f in ds.sources.files] or [120.0])
    fi = np.asarray(ds.sources.file_index)[rows] if len(ds.sources) else np.zeros(len(rows), int)
    t = torch.from_numpy(np.log2(bpm[fi] / 120.0).astype(np.float32))
    return (v > 0).float(), v / 127.0, o, g, t


def condition(task: str, hits, vel, off, tempo=None):
    """The model's condition for the task: the hit grid, or the tap line; with `tempo` (B,), a
    channel of log2(BPM / 120) beside it."""
    from drumfont.drums.groove_model import taps_of  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    c = hits if task == "humanize" else taps_of(hits, vel, off)
    return c if tempo is None else with_tempo(c, tempo)


def with_tempo(cond, tempo):
    """cond (B, 16, C) with tempo (B,) as one more channel."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    return torch.cat([cond, tempo.view(-1, 1, 1).expand(-1, cond.shape[1], 1)], dim=-1)


def evaluate(model, data, task: str) -> dict:
    """Validation at z = 0: velocity MAE (of 127) and timing MAE (sixteenths) on hit cells, KL,
    and for drumify the hit F1."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.drums.groove_model import bar_channels  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    hits, vel, off, g, t = data
    cond = condition(task, hits, vel, off, t if model.cfg.tempo else None)
    model.eval()
    with torch.no_grad():
        logits, pv, po = model.generate(cond, g, 0.0)
        mu, logvar = model.encode(bar_channels(hits, vel, off), cond, g)
    m = hits > 0
    scores = {"velocity_mae": float((pv - vel)[m].abs().mean() * 127),
              "offset_mae": float((po - off)[m].abs().mean()),
              "kl_dims": (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).mean(0).tolist()}
    if task == "drumify":
        pred = logits > 0
        tp = float((pred & m).sum())
        scores["hit_f1"] = 2 * tp / max(1.0, float(pred.sum() + m.sum()))
    model.train()
    return scores


def fit_residuals(model, data, task: str):
    """The model's config with the per-voice spread its decoder leaves unexplained: for each voice,
    the variance of the real velocities and offsets on hit cells less that of the decoder's, with
    each training bar decoded from a z drawn from the prior (as at use, T = 1), as an sd. Sampling
    adds it back (models/groove.py), so at T = 1 each voice spreads as widely as the drummers do
    on the training bars. (The std of real - decoded from the posterior mean, used before, left
    the open hat at 0.75 of its real spread once the model read the tempo.)"""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    hits, vel, off, g, t = data
    dec_v, dec_o = [], []
    gen = torch.Generator().manual_seed(0)
    model.eval()
    with torch.no_grad():
        for idx in torch.arange(len(hits)).split(4096):
            h, v, o, gg = hits[idx], vel[idx], off[idx], g[idx]
            cond = condition(task, h, v, o, t[idx] if model.cfg.tempo else None)
            z = torch.randn((len(idx), model.cfg.z), generator=gen)
            _, pv, po = model.decode(cond, gg, z)
            dec_v.append(pv)
            dec_o.append(po)
    pv, po, h = torch.cat(dec_v), torch.cat(dec_o), hits > 0

    def sd(real, dec):
        out = []
        for k in range(hits.shape[-1]):
            m = h[..., k]
            gap = float(real[..., k][m].var() - dec[..., k][m].var()) if m.sum() > 1 else 0.0
            out.append(max(gap, 0.0) ** 0.5)
        return out

    model.train()
    model.cfg = dataclasses.replace(model.cfg, residual_vel=tuple(sd(vel, pv)), residual_off=tuple(sd(off, po)))
    return model.cfg


def train(model_cfg, cfg: TrainConfig, data_path: str, out: Path, force: bool = False,
          show_progress: bool = True, log=print) -> Path:
    """The whole run; returns the checkpoint path."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.drums.groove_model import GrooveModel, bar_channels, losses  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    output_format(out, CHECKPOINT_OUT, "--out")
    out, preset = checkpoint_and_preset(out)
    for path in (out, preset):
        if path.exists() and not force:
            raise DrumfontError(f"{path} exists; pass --force to overwrite it")
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    task = model_cfg.task

    # --- data ----------------------------------------------------------------------------------
    ds = DrumDataset.load(data_path)
    tr_rows, va_rows = split_rows(ds, TRAIN, task), split_rows(ds, VAL, task)
    if len(tr_rows) == 0:
        raise DrumfontError(f"{data_path}: no training bars with real timing for {task}")
    if task == "humanize" and ds.offsets is None:
        raise DrumfontError(f"{data_path}: the bars carry no timing; humanize learns from played bars "
                            "(import them with `drumfont data gmd` or `data import`)")
    if len(va_rows) == 0:
        va_rows = tr_rows
    held_rows = tr_rows[:0]
    if task == "drumify":
        tr_rows, held_rows = holdout_rows(ds, tr_rows, cfg.threshold_holdout, cfg.seed)
    genres = list(ds.genres)
    model_cfg = dataclasses.replace(model_cfg, n_genres=len(genres))
    train_t = tensors(ds, tr_rows)
    val_t = tensors(ds, va_rows)
    n = len(tr_rows)
    log(f"{task}: {n} training bars, {len(va_rows)} validation bars"
        + (f", {len(held_rows)} held out for the hit thresholds" if len(held_rows) else ""))

    # --- model, optimiser ------------------------------------------------------------------------
    model = GrooveModel(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    history = History(out.with_suffix(".jsonl"))
    history.path.unlink(missing_ok=True)
    config = {"model": model_cfg.to_dict(), "train": dataclasses.asdict(cfg), "data": data_path}
    gen = torch.Generator().manual_seed(cfg.seed)

    # --- loop ------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    val: dict = {}
    for epoch in progress(range(cfg.epochs), total=cfg.epochs, desc=task, enabled=show_progress):
        sums = {"loss": 0.0, "vel": 0.0, "off": 0.0, "bce": 0.0, "kl": 0.0}
        order = torch.randperm(n, generator=gen)
        for idx in order.split(cfg.batch_size):
            hits, vel, off, g, tempo = (t[idx] for t in train_t)
            drop = torch.rand(len(idx), generator=gen) < cfg.genre_dropout
            g = torch.where(drop, torch.full_like(g, -1), g)
            cond = condition(task, hits, vel, off, tempo if model_cfg.tempo else None)
            out_ = model(bar_channels(hits, vel, off), cond, g, generator=gen)
            parts = losses(out_, hits, vel, off, task, cfg.loss)
            kl = torch.clamp(out_["kl"].mean(0), min=cfg.free_bits).sum()
            loss = (cfg.vel_weight * parts["vel"] + cfg.offset_weight * parts["off"]
                    + parts.get("bce", torch.zeros(())) + cfg.beta * kl)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            w = len(idx) / n
            sums["loss"] += loss.item() * w
            sums["kl"] += out_["kl"].sum(1).mean().item() * w
            for k, v in parts.items():
                sums[k] += v.item() * w
        sched.step()
        val = evaluate(model, val_t, task)
        history.write({"epoch": epoch, **sums, "val": val, "seconds": time.perf_counter() - t0})
        log(f"epoch {epoch + 1}/{cfg.epochs} loss {sums['loss']:.3f} kl {sums['kl']:.2f} "
            f"val vel {val['velocity_mae']:.2f} off {val['offset_mae']:.4f}"
            + (f" f1 {val['hit_f1']:.3f}" if "hit_f1" in val else ""))

    model_cfg = fit_residuals(model, train_t, task)
    if task == "drumify":
        th, f1_fit = fit_thresholds(model, tensors(ds, held_rows) if len(held_rows) else train_t, task)
        model.cfg = model_cfg = dataclasses.replace(model_cfg, hit_thresholds=th)
        val = evaluate(model, val_t, task)
        log(f"hit thresholds {' '.join(f'{t:+.1f}' for t in th)}: F1 {f1_fit:.3f} on the bars fitted, "
            f"val F1 {val['hit_f1']:.3f}")
    config["model"] = model_cfg.to_dict()
    save_checkpoint(out, task, config, model.state_dict(),
                    extras={"genres": genres, "complete": True, "train_seconds": time.perf_counter() - t0},
                    metrics={"val": val})
    export(out, preset)
    log(f"wrote {out} and {preset.name} ({time.perf_counter() - t0:.1f} s)")
    return out


def build_parser(prog: str | None = None, task: str | None = None) -> argparse.ArgumentParser:
    """Flags: one per config field (model and training), plus the run options."""
    from drumfont.drums.groove_model import TASKS, GrooveConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    p = argparse.ArgumentParser(prog=prog, description=f"Train a {task or 'Groove/Drumify'} model.")
    p.add_argument("--data", required=True, help="dataset file with played bars (.npz, e.g. from `data gmd`)")
    p.add_argument("--out", default=f"runs/{task or 'groove'}.pt", help="checkpoint to write (history beside it)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    if task is None:
        p.add_argument("--task", required=True, choices=TASKS, help="what the model learns")
    add_dataclass_args(p, TrainConfig)
    add_dataclass_args(p, GrooveConfig, prefix="model-")
    return p


def main(argv: Sequence[str] | None = None, prog: str | None = None, task: str | None = None) -> int:
    """Parse flags and train; user errors become one line and exit code 2."""
    from drumfont.drums.groove_model import GrooveConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    args = build_parser(prog, task).parse_args(argv)
    cfg = dataclass_from_args(TrainConfig, args)
    setattr(args, "model-task", task or args.task)  # the dest add_dataclass_args gave it
    model_cfg = dataclass_from_args(GrooveConfig, args, prefix="model-")
    try:
        if cfg.epochs < 1 or cfg.batch_size < 1:
            raise DrumfontError("--epochs and --batch-size must be at least 1")
        if not 0 <= cfg.threshold_holdout < 1:
            raise DrumfontError(f"--threshold-holdout must lie in 0..1 (not 1), got {cfg.threshold_holdout}")
        train(model_cfg, cfg, args.data, Path(args.out), force=args.force,
              show_progress=not args.no_progress, log=lambda m: print(m, file=sys.stderr))
    except DrumfontError as exc:
        print(f"drumfont: error: {exc}", file=sys.stderr)
        return 2
    return 0


def main_humanize(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`drumfont train humanize`."""
    return main(argv, prog, "humanize")


def main_drumify(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """`drumfont train drumify`."""
    return main(argv, prog, "drumify")


if __name__ == "__main__":
    raise SystemExit(main())
