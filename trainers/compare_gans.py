"""Vanilla GAN against each stabiliser and their best combination, several seeds each.

    python -m drumfont.trainers.compare_gans --out runs/compare --epochs 12 --seeds 0 1 2

Each run is trainers/train_gan.py with the same loop settings; only the stabiliser switches differ
(GanConfig fields, and the generator EMA, the one loop setting among them).
Per run: final letters covered, worst coverage over the second half of training, KL to uniform,
Fréchet distance on the classifier's features (against the real validation letters, beside the
training-vs-validation value), seconds per epoch. The combination is chosen by the script from
the single-stabiliser results (the stabilisers that beat vanilla on mean worst second-half
coverage, then final KL; at most three, at least the best two), so it is not picked by hand. Results: OUT/results.json, a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from drumfont.letters import metrics as M
from drumfont.letters import plots as P
from drumfont.letters.classifier import classify, load_classifier
from drumfont.letters.data import TRAIN, VAL, FontDataset, build_fonts
from drumfont.letters.gan import GanConfig, load_generator
from drumfont.trainers.train_gan import TrainConfig, train

SINGLES: dict[str, dict] = {
    "vanilla": {},
    "feature_matching": {"feature_matching": 1.0},
    "unrolled": {"unrolled": 3},
    "mbd": {"mbd": True},
    "mbstd": {"mbstd": True},
    "diffaug": {"diffaug": True},
    "r1": {"r1": 1.0},
    "info": {"info_codes": 26},
    "ema": {"ema": 0.999},   # a loop setting (TrainConfig), not a network switch
}
TRAIN_FIELDS = set(TrainConfig.__dataclass_fields__)


def final_quality(gen_path: Path, clf, real_feats: np.ndarray, n: int, seed: int) -> dict:
    """KL, coverage and FD of n samples of a finished run's generator."""
    g, _ = load_generator(gen_path)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        labels = torch.arange(n) % 26 if g.cfg.conditional else None
        x = g.sample(n, gen, labels)[:, 0]
    # read as letters, as train_gan's evaluations are: a 46-glyph classifier's digit or punctuation
    # reading would otherwise drop out of the counts (and an all-digit run divided 0 by 0)
    pred, conf, feats = classify(clf, x, classes=M.K_LETTERS)
    counts = M.letter_counts(pred.numpy())
    return {"final_covered": M.letters_covered(counts), "final_covered_strict": M.letters_covered(counts, 0.25),
            "final_kl": M.kl_uniform(counts), "fd": M.frechet_distance(real_feats, feats.numpy())}


def run_one(name: str, overrides: dict, seed: int, args, base: GanConfig, clf, real_feats) -> dict:
    """Train one configuration with one seed and measure it."""
    run = Path(args.out) / f"{name}_s{seed}"
    done = run / "result.json"
    if done.exists():  # the comparison can be resumed after an interruption
        return json.loads(done.read_text())
    gcfg = replace(base, **{k: v for k, v in overrides.items() if k not in TRAIN_FIELDS})
    tcfg = TrainConfig(run=str(run), data=args.data, classifier=args.classifier, epochs=args.epochs,
                       eval_every=args.eval_every, eval_samples=args.eval_samples, seed=seed,
                       threads=args.threads, force=True, progress=False,
                       **{k: v for k, v in overrides.items() if k in TRAIN_FIELDS})
    t0 = time.time()
    train(tcfg, gcfg)
    hist = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    evals = [h for h in hist if h["type"] == "eval"]
    second = [e for e in evals if e["epoch"] > args.epochs / 2]
    res = {"name": name, "seed": seed, "config": overrides,
           "seconds_per_epoch": float(np.mean([h["seconds"] for h in hist if h["type"] == "epoch"])),
           "worst_covered_2nd_half": min(e["letters_covered"] for e in second),
           "worst_strict_2nd_half": min(e["letters_covered_strict"] for e in second),
           "curve": [[e["epoch"], e["letters_covered"], e["letters_covered_strict"], e["kl_uniform"]] for e in evals],
           "wall_seconds": time.time() - t0}
    res.update(final_quality(run / "generator.pt", clf, real_feats, args.final_samples, seed + 777))
    done.write_text(json.dumps(res))
    print(f"{name} seed {seed}: final {res['final_covered']}/26, worst 2nd half {res['worst_covered_2nd_half']}, "
          f"KL {res['final_kl']:.3f}, FD {res['fd']:.2f}, {res['seconds_per_epoch']:.1f}s/epoch", file=sys.stderr)
    return res


def summarise(results: list[dict]) -> dict[str, dict]:
    """Mean and spread per configuration."""
    out: dict[str, dict] = {}
    for name in dict.fromkeys(r["name"] for r in results):
        rs = [r for r in results if r["name"] == name]
        out[name] = {k: (float(np.mean([r[k] for r in rs])), float(np.min([r[k] for r in rs])),
                         float(np.max([r[k] for r in rs])))
                     for k in ("final_covered", "final_covered_strict", "worst_covered_2nd_half", "final_kl", "fd",
                               "seconds_per_epoch")}
        out[name]["seeds"] = len(rs)
        out[name]["config"] = rs[0]["config"]
    return out


def table(summary: dict[str, dict], fd_real: float) -> str:
    """Markdown table: mean [min–max] over seeds."""
    rows = ["| configuration | switches | final letters (of 26) | strict | worst letters, 2nd half | KL (nats) "
            "| FD (real-vs-real %.2f) | s/epoch |" % fd_real,
            "|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        def f(k, fmt="{:.1f}"):
            m, lo, hi = s[k]
            return f"{fmt.format(m)} [{fmt.format(lo)}–{fmt.format(hi)}]"
        sw = ", ".join(f"{k}={v}" for k, v in s["config"].items()) or "—"
        rows.append(f"| {name} | {sw} | {f('final_covered')} | {f('final_covered_strict')} | "
                    f"{f('worst_covered_2nd_half')} | {f('final_kl', '{:.3f}')} | {f('fd', '{:.2f}')} | "
                    f"{s['seconds_per_epoch'][0]:.1f} |")
    return "\n".join(rows)


def _figures(args, summary: dict, results: list[dict]) -> None:
    """Coverage, strict coverage and KL over epochs per configuration (mean and range over seeds)."""
    if not args.figures:
        return

    curves = {name: [r["curve"] for r in results if r["name"] == name] for name in summary}
    fig_dir = Path(args.figures)
    P.comparison_curves(curves, fig_dir / "gan_comparison_coverage.png", key=1, force=True)
    P.comparison_curves(curves, fig_dir / "gan_comparison_strict.png", key=2,
                        ylabel="letters covered (strict)", force=True)
    P.comparison_curves(curves, fig_dir / "gan_comparison_kl.png", key=3, ylabel="KL(p || uniform), nats",
                        force=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/compare")
    p.add_argument("--data", default="", help="fonts .npz; empty = build the default set")
    p.add_argument("--classifier", default="")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--eval-every", type=int, default=2)
    p.add_argument("--eval-samples", type=int, default=1300, help="samples per in-training evaluation")
    p.add_argument("--final-samples", type=int, default=2600, help="samples for final KL and FD")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--g-width", type=int, default=32)
    p.add_argument("--d-width", type=int, default=16)
    p.add_argument("--only", nargs="*", default=None, help="run only these single configurations")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--figures", default="", help="folder for the comparison figures (e.g. reports)")
    p.add_argument("--singles-only", action="store_true",
                   help="run the single configurations only (to split the comparison over processes with "
                        "--only; a later full run reuses every finished run and adds the combination)")
    p.add_argument("--summary-only", action="store_true",
                   help="train nothing: table and figures from the runs finished so far")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.data:  # build once, so every run reads the same file
        args.data = str(out / "fonts.npz")
        if not Path(args.data).exists():
            build_fonts(seed=0).save(args.data)
    data = FontDataset.load(args.data)
    clf, _ = load_classifier(args.classifier or None)
    _, _, real_feats = classify(clf, torch.from_numpy(data.subset(VAL).floats()))
    _, _, train_feats = classify(clf, torch.from_numpy(data.subset(TRAIN).floats()))
    real_feats = real_feats.numpy()
    fd_real = M.frechet_distance(real_feats, train_feats.numpy())
    if args.summary_only:
        results = [json.loads(f.read_text()) for f in sorted(out.glob("*_s*/result.json"))]
        order = list(SINGLES) + ["best_combination"]
        results.sort(key=lambda r: (order.index(r["name"]), r["seed"]))
        summary = summarise(results)
        _figures(args, summary, results)
        (out / "results_partial.json").write_text(json.dumps({"fd_real": fd_real, "summary": summary,
                                                              "runs": results}, indent=1))
        print(table(summary, fd_real))
        return 0
    base = GanConfig(g_width=args.g_width, d_width=args.d_width)

    results = []
    singles = {k: v for k, v in SINGLES.items() if args.only is None or k in args.only}
    for name, overrides in singles.items():
        for seed in args.seeds:
            results.append(run_one(name, overrides, seed, args, base, clf, real_feats))
    summary = summarise(results)
    if "vanilla" in summary and len(singles) > 2 and not args.singles_only:
        # rank by mean worst coverage over the second half, then by final KL (lower is better)
        ranked = sorted((k for k in singles if k != "vanilla"),
                        key=lambda k: (-summary[k]["worst_covered_2nd_half"][0], summary[k]["final_kl"][0]))
        bar = (summary["vanilla"]["worst_covered_2nd_half"][0], -summary["vanilla"]["final_kl"][0])
        chosen = [k for k in ranked
                  if (summary[k]["worst_covered_2nd_half"][0], -summary[k]["final_kl"][0]) > bar]
        chosen = (chosen if len(chosen) >= 2 else ranked[:2])[:3]
        combo: dict = {}
        for k in chosen:
            combo.update(SINGLES[k])
        for seed in args.seeds:
            results.append(run_one("best_combination", combo, seed, args, base, clf, real_feats))
        summary = summarise(results)
    _figures(args, summary, results)
    (out / "results.json").write_text(json.dumps({"fd_real": fd_real, "args": vars(args), "summary": summary,
                                                  "runs": results}, indent=1))
    print(table(summary, fd_real))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
