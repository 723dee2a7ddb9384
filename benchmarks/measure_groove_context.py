"""Does humanize (or drumify) with two bars of context, as GrooVAE's 2-bar models see them, measure
better than the shipped one-bar design? Issue #19 asks for it only where it does.

The same model class (drums/groove_model.py: its convolutions take any number of steps) and the
same training settings as `drumfont train humanize|drumify` (train_groove.TrainConfig defaults,
tempo condition), trained twice per seed on the training split: (a) on single bars, (b) on 2-bar
windows, the bar before and the bar as one 32-step sequence (a bar with none before it gets an
empty one), the loss on both. Both are scored at T = 0 on the same validation bars, those with a
bar before them (its hits, or its taps, given as the context, the bar scored the second of the
window): humanize's timing MAE (ms at 120 BPM) and velocity MAE on hit cells, as
trainers/measure_groove.py scores them; drumify's hit F1 with the logits' own threshold (0: the
per-voice thresholds the trainer fits afterwards are left out of both).

    python benchmarks/measure_groove_context.py --data gmd.npz [--task humanize|drumify] [--epochs 25] [--seeds 0 1]

Figures and the decision: reports/groove.md ("two bars of context").
"""
import argparse
import time

import numpy as np
import torch

from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.drums.groove_model import GrooveConfig, GrooveModel, bar_channels, losses
from drumfont.trainers.train_groove import TrainConfig, condition, split_rows, tensors

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--data", required=True, help="dataset .npz with played bars (drumfont data gmd)")
ap.add_argument("--task", choices=("humanize", "drumify"), default="humanize")
ap.add_argument("--epochs", type=int, default=25)
ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
args = ap.parse_args()
path, epochs, task = args.data, args.epochs, args.task
torch.set_num_threads(1)
ds = DrumDataset.load(path)
fi, bar = np.asarray(ds.sources.file_index), np.asarray(ds.sources.bar)
key = {(int(f), int(b)): i for i, (f, b) in enumerate(zip(fi, bar))}
prev = np.array([key.get((int(f), int(b) - 1), -1) for f, b in zip(fi, bar)])


def data(rows, context):
    h, v, o, g, t = tensors(ds, rows)
    if not context:
        return h, v, o, g, t
    p = prev[rows]
    have = torch.from_numpy(p >= 0)
    ph, pv, po, _, _ = tensors(ds, np.where(p >= 0, p, rows))
    ph, pv, po = (x * have.view(-1, 1, 1) for x in (ph, pv, po))   # no bar before: an empty one
    return torch.cat([ph, h], 1), torch.cat([pv, v], 1), torch.cat([po, o], 1), g, t


def run(context: bool, seed: int = 0):
    cfg = TrainConfig(epochs=epochs, seed=seed)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    tr = split_rows(ds, TRAIN, task)
    va = split_rows(ds, VAL, task)
    va = va[prev[va] >= 0]                       # scored: the bars with a bar before them
    train_t, val_t = data(tr, context), data(va, context)
    model = GrooveModel(GrooveConfig(task=task, n_genres=len(ds.genres), tempo=True))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    n = len(tr)
    t0 = time.perf_counter()
    for _ in range(cfg.epochs):
        for idx in torch.randperm(n, generator=gen).split(cfg.batch_size):
            hits, vel, off, g, tempo = (x[idx] for x in train_t)
            drop = torch.rand(len(idx), generator=gen) < cfg.genre_dropout
            g = torch.where(drop, torch.full_like(g, -1), g)
            cond = condition(task, hits, vel, off, tempo)
            out = model(bar_channels(hits, vel, off), cond, g, generator=gen)
            parts = losses(out, hits, vel, off, task, cfg.loss)
            kl = torch.clamp(out["kl"].mean(0), min=cfg.free_bits).sum()
            loss = (cfg.vel_weight * parts["vel"] + cfg.offset_weight * parts["off"]
                    + parts.get("bce", torch.zeros(())) + cfg.beta * kl)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    hits, vel, off, g, tempo = val_t
    with torch.no_grad():
        logits, pv, po = model.generate(condition(task, hits, vel, off, tempo), g, 0.0)
    if context:   # the bar scored is the second of the window
        hits, vel, off, logits, pv, po = (x[:, 16:] for x in (hits, vel, off, logits, pv, po))
    m = hits > 0
    res = {"timing_mae_ms": float((po - off)[m].abs().mean() * 125.0),
           "velocity_mae": float((pv - vel)[m].abs().mean() * 127), "bars": int(len(va)),
           "train_s": round(time.perf_counter() - t0, 1)}
    if task == "drumify":
        pred = logits > 0
        tp = float((pred & m).sum())
        res["hit_f1_raw"] = 2 * tp / max(1.0, float(pred.sum() + m.sum()))
    res["quantised_ms"] = float(off[m].abs().mean() * 125.0)
    return res


for seed in args.seeds:
    for context in (False, True):
        print(task, "seed", seed, "two bars" if context else "one bar ", run(context, seed), flush=True)
