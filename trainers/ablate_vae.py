"""Ablation of the VAE's collapse-prevention switches, 3 seeds each; writes
reports/vae_ablation_table.md (pasted into reports/vae_ablation.md) and a JSON of every run.

    python -m drumfont.trainers.ablate_vae [--epochs 100] [--seeds 0 1 2] [--beta-max 0.2]

Each run is the real trainer (trainers/train_vae.train) followed by the report's own measures
(drumfont.drums.report.compute_metrics) with the shipped style classifier as the judge.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from drumfont import drums
from drumfont.drums.report import GenreJudge, compute_metrics, load_dataset

# name -> overrides of TrainConfig. Every run uses the same beta_max, epochs and data.
VARIANTS: dict[str, dict] = {
    "none": {"kl_schedule": "none", "free_bits": 0.0, "genre_weight": 0.0},
    "monotonic": {"kl_schedule": "monotonic", "free_bits": 0.0, "genre_weight": 0.0},
    "cyclical": {"kl_schedule": "cyclical", "free_bits": 0.0, "genre_weight": 0.0},
    "cyclical+fb": {"kl_schedule": "cyclical", "free_bits": 0.25, "genre_weight": 0.0},
    "cyclical+fb+temp": {"kl_schedule": "cyclical", "free_bits": 0.25, "genre_weight": 0.0,
                         "temp_start": 2.0, "temp_end": 1.0},
    "none+genre": {"kl_schedule": "none", "free_bits": 0.0, "genre_weight": 5.0},
    "monotonic+genre": {"kl_schedule": "monotonic", "free_bits": 0.0, "genre_weight": 5.0},
    "cyclical+genre": {"kl_schedule": "cyclical", "free_bits": 0.0, "genre_weight": 5.0},
    "cyclical+fb+genre": {"kl_schedule": "cyclical", "free_bits": 0.25, "genre_weight": 5.0},
    "cyclical+fb+temp+genre": {"kl_schedule": "cyclical", "free_bits": 0.25, "genre_weight": 5.0,
                               "temp_start": 2.0, "temp_end": 1.0},
    "cyclical+fb+temp+genre10": {"kl_schedule": "cyclical", "free_bits": 0.25, "genre_weight": 10.0,
                                 "temp_start": 2.0, "temp_end": 1.0},
}
COLUMNS = ["active_units_high", "active_units_low", "collapsed_dims_high", "collapsed_dims_low", "hit_f1",
           "probe_acc_high", "silhouette_high", "gen_genre_agreement_min", "gen_validity", "transfer_success",
           "rhythm_preservation"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--beta-max", type=float, default=0.2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    p.add_argument("--out", default="reports/vae_ablation_table.md",
                   help="markdown table to write (the runs go beside it as .json)")
    args = p.parse_args(argv)

    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.drums.hvae import HVAEConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)
    from drumfont.trainers.train_vae import TrainConfig, train  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    torch.set_num_threads(1)
    data = load_dataset(None)
    judge = GenreJudge("rules")  # the rule corpus is judged by the classifier trained on it
    runs_path = Path(args.out).with_suffix(".json")
    runs = json.loads(runs_path.read_text()) if runs_path.exists() else []
    done = {(r["variant"], r["seed"], r["epochs"], r["beta_max"]) for r in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            for seed in args.seeds:
                if (name, seed, args.epochs, args.beta_max) in done:
                    continue
                cfg = dataclasses.replace(TrainConfig(), epochs=args.epochs, seed=seed, beta_max=args.beta_max,
                                          **VARIANTS[name])
                t0 = time.perf_counter()
                ckpt = train(HVAEConfig(), cfg, None, Path(tmp) / f"{name}-{seed}.pt", force=True,
                             show_progress=False, log=lambda m: None)
                seconds = time.perf_counter() - t0
                m, _ = compute_metrics(drums.load(ckpt), data, judge, samples=200, seed=seed, full=False)
                row = {"variant": name, "seed": seed, "epochs": args.epochs, "beta_max": args.beta_max,
                       "train_seconds": seconds, **{k: m.get(k) for k in COLUMNS},
                       "kl_high_per_dim": m["kl_high_per_dim"], "kl_low_per_dim": m["kl_low_per_dim"]}
                runs.append(row)
                runs_path.write_text(json.dumps(runs, indent=1) + "\n")
                print(f"{name:24s} seed {seed}: " + " ".join(f"{k}={row[k]:.3g}" for k in COLUMNS
                                                              if row[k] is not None), flush=True)
    Path(args.out).write_text(render(runs, args))
    print(f"wrote {args.out}")
    return 0


def render(runs: list[dict], args) -> str:
    """The markdown table: mean ± std over seeds per (variant, beta_max), at the given epochs."""
    lines = [f"Each cell: mean ± std over seeds {args.seeds}; {args.epochs} epochs, batch 64, Adam 2e-3, "
             "built-in corpus (800 train / 200 val bars), 1 torch thread; '+genre' = genre loss weight 5 ('genre10': 10), "
             "'fb' = free bits 0.25 nats/dim, 'temp' = output temperature 2 -> 1. Generation at temperature 1, "
             "200 bars per genre.\n",
             "| variant | beta_max | " + " | ".join(COLUMNS) + " | train s |", "|---" * (len(COLUMNS) + 3) + "|"]
    for beta in sorted({r["beta_max"] for r in runs}):
        for name in VARIANTS:
            rows = [r for r in runs if r["variant"] == name and r["epochs"] == args.epochs and r["beta_max"] == beta]
            if not rows:
                continue
            cells = []
            for k in COLUMNS + ["train_seconds"]:
                v = np.array([r[k] for r in rows if r[k] is not None], float)
                cells.append(f"{v.mean():.3g} ± {v.std():.2g}" if len(v) else "-")
            lines.append(f"| {name} | {beta} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
