"""`drumfont report gan`: sample a letter GAN, classify and measure it, draw the figures.

Sources: the shipped presets (unconditional for the collapse figures, conditional for
agreement and style consistency), one --preset, or a --run folder (its history gives the
coverage-over-epochs and survival figures). The real side is the built-in validation letters or
a --data fonts set (e.g. unseen typefaces), which also measures the classifier itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from drumfont.atomic import check_writable, write_atomic
from drumfont.checkpoint import build_model, load_checkpoint
from drumfont.errors import DrumfontError
from drumfont.letters import metrics as M
from drumfont.letters import plots as P
from drumfont.letters.data import GLYPHS, TRAIN, VAL, FontDataset, build_fonts
from drumfont.letters.engine import CGAN_PRESET, GAN_PRESET, LETTERS
from drumfont.nn.preset import SUFFIX
from drumfont.paths import preset_path
from drumfont.validate import MAX_HISTORY_BYTES, is_file, read_text

FIGURES = ("coverage.png", "dynamics.png", "alphabet.png", "interpolation.png", "style_consistency.png", "codes.png",
           "survival.png")


def _load_run_generator(run: Path):
    """The finished generator of a run, or the latest one of a run still training."""
    from drumfont.letters.gan import GanConfig, Generator, load_generator, recalibrate_batchnorm  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    for name in ("generator" + SUFFIX, "generator.pt"):
        if is_file(run / name):
            return load_generator(run / name)
    if is_file(run / "checkpoint.pt"):
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        blob = load_checkpoint(run / "checkpoint.pt", "gan_run")
        # an --ema run ships its average: measure that one, batch norm fitted to it as the trainer does
        ema = "G_ema" in blob["state_dict"]
        g = build_model(blob, Generator, GanConfig, run / "checkpoint.pt", state_key="G_ema" if ema else "G")
        if ema:
            recalibrate_batchnorm(g, torch.Generator().manual_seed(0))
        return g.eval(), blob
    raise DrumfontError(f"{run}: no generator.pt or checkpoint.pt; is it a `drumfont train gan` run folder?")


def _history(run: Path | None, blob: dict) -> tuple[list[dict], list[dict]]:
    """(step records, eval records) from a run's history file or a preset's extras."""
    if run is not None and is_file(run / "history.jsonl"):
        text = read_text(run / "history.jsonl", MAX_HISTORY_BYTES, "training history")  # regular, capped
        recs = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [r for r in recs if r.get("type") == "step"], [r for r in recs if r.get("type") == "eval"]
    ex = blob.get("extras", {})
    return list(ex.get("history_steps", [])), list(ex.get("history_evals", []))


def _real_sets(data: str | os.PathLike | None, classes: int = 26) -> tuple[FontDataset, FontDataset]:
    """(real set the generator is measured against, a second real set for real-vs-real), of
    the first `classes` glyphs (the generator's)."""
    ds = (FontDataset.load(data) if data else build_fonts(seed=0)).first(classes)
    val, train = ds.subset(VAL), ds.subset(TRAIN)
    if len(val) == 0 or len(train) == 0:  # a one-split set: halves of it, seeded
        idx = np.random.default_rng(0).permutation(len(ds))
        half = len(ds) // 2
        pick = lambda ii: FontDataset(ds.images[ii], ds.letter[ii], ds.split[ii], ds.font[ii], ds.fonts)  # noqa: E731
        val, train = pick(np.sort(idx[:half])), pick(np.sort(idx[half:]))
    return val, train


def _sample(g, n: int, seed: int, labels=None):
    """(n images, their InfoGAN codes or None) from seeded latents."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    gen = torch.Generator().manual_seed(seed)
    out, codes = [], []
    with torch.no_grad():
        for i in range(0, n, 2000):
            z = g.latent(min(2000, n - i), gen)
            codes.append(g.codes(z))
            out.append(g(z, None if labels is None else labels[i:i + len(z)])[:, 0])
    return torch.cat(out), (torch.cat(codes) if g.cfg.info_codes else None)


def _code_metrics(codes: np.ndarray, pred: np.ndarray, k: int) -> dict:
    """What each InfoGAN category draws: its majority letter and that letter's share (purity)."""
    major, purity = [], []
    for c in range(k):
        got = np.bincount(pred[codes == c], minlength=26)
        major.append(LETTERS[int(got.argmax())])
        purity.append(float(got.max() / max(got.sum(), 1)))
    return {"code_letters": major, "code_purity": purity, "code_purity_mean": float(np.mean(purity)),
            "code_distinct_letters": len(set(major))}


def report(preset: str | os.PathLike | None = None, run: str | os.PathLike | None = None,
           data: str | os.PathLike | None = None, classifier: str | os.PathLike | None = None,
           out: Path = Path("gan-report"), samples: int = 26000, seed: int = 0, force: bool = False,
           log: Callable[[str], None] = print) -> dict:
    """Measure a generator, write figures and metrics.json to `out`; return the metrics."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.letters.classifier import classify, load_classifier  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)
    from drumfont.letters.gan import load_generator  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    if samples < 26:
        raise DrumfontError("--samples must be at least 26")
    out = Path(out)
    if os.path.exists(out) and not os.path.isdir(out):  # (os.path: a name too long is no traceback)
        raise DrumfontError(f"{out} is a file; --out needs a folder")
    for name in FIGURES + ("metrics.json",):
        check_writable(out / name, force)
    run_dir = Path(run) if run else None
    if run_dir is not None:
        g, blob = _load_run_generator(run_dir)
        cg = g if g.cfg.conditional else None
    elif preset:
        g, blob = load_generator(preset)
        cg = g if g.cfg.conditional else None
    else:
        g, blob = load_generator(preset_path(GAN_PRESET))
        cg = load_generator(preset_path(CGAN_PRESET))[0] if preset_path(CGAN_PRESET).is_file() else None
    steps, evals = _history(run_dir, blob)
    clf, _ = load_classifier(classifier)
    k = g.cfg.classes  # 26 for the letters-only study: read as letters, measured against letters
    names = GLYPHS[:k]
    real, reference = _real_sets(data, k)
    real_x = torch.from_numpy(real.floats())
    real_pred, _, real_feats = classify(clf, real_x, classes=k)
    _, _, ref_feats = classify(clf, torch.from_numpy(reference.floats()), classes=k)
    clf_acc = float((real_pred.numpy() == real.letter).mean())

    # --- collapse: sample, classify, count letters ---
    labels = torch.arange(samples) % k if g.cfg.conditional else None
    x, codes = _sample(g, samples, seed, labels)
    pred, conf, feats = classify(clf, x, classes=k)
    pred_np = pred.numpy()
    counts = M.letter_counts(pred_np, k)
    metrics: dict = {
        "generator": str(run_dir or preset or preset_path(GAN_PRESET)),
        "conditional": bool(g.cfg.conditional), "samples": samples,
        "letters_covered": M.letters_covered(counts), "letters_covered_strict": M.letters_covered(counts, 0.25),
        "kl_uniform": M.kl_uniform(counts), "kl_perfect_sampler": (k - 1) / (2 * samples),
        "mean_confidence": float(conf.mean()), "diversity": M.diversity_score(x.numpy()),
        "counts": {names[i]: int(c) for i, c in enumerate(counts)}, "classes": k,
    }
    # --- quality on the classifier's features, each beside its real-vs-real value ---
    metrics.update(M.quality(real_feats.numpy(), feats.numpy(), ref_feats.numpy(),
                             rng=np.random.default_rng(seed)))
    metrics["fd_ratio"] = metrics["fd"] / metrics["fd_real"] if metrics["fd_real"] > 0 else None
    metrics["real_set"] = str(data) if data else "built-in validation letters (seed 0)"
    metrics["real_samples"], metrics["reference_samples"] = len(real), len(reference)
    metrics["classifier_val_acc"] = clf_acc
    metrics["cond_accuracy"] = None
    if codes is not None:
        metrics.update(_code_metrics(codes.numpy(), pred_np, g.cfg.info_codes))
    if cg is not None:
        kc = cg.cfg.classes
        cl = torch.arange(samples) % kc
        cx = x if cg is g else _sample(cg, samples, seed + 1, cl)[0]
        cpred = pred if cg is g else classify(clf, cx, classes=kc)[0]
        metrics["cond_accuracy"] = float((cpred == cl).float().mean())
        metrics["cond_per_letter"] = {GLYPHS[i]: float((cpred[cl == i] == i).float().mean()) for i in range(kc)}

    # --- figures ---
    x_np = x.numpy()
    out.mkdir(parents=True, exist_ok=True)
    written = [P.alphabet_grid(x_np, pred_np, out / "alphabet.png", force=force)]
    written.append(P.image_grid(_interpolation(g, seed), out / "interpolation.png",
                                "Latent interpolation (rows: z_a -> z_b)", force=force))
    if cg is not None:
        zs = cg.latent(6, torch.Generator().manual_seed(seed + 2))
        with torch.no_grad():
            sheet = cg(zs.repeat_interleave(26, 0), torch.arange(26).repeat(6))[:, 0].numpy().reshape(6, 26, 28, 28)
        written.append(P.image_grid(sheet, out / "style_consistency.png",
                                    "Style consistency: one z per row, all 26 letters", col_labels=list(LETTERS),
                                    force=force))
    if codes is not None:
        written.append(P.image_grid(_code_sheet(g, seed), out / "codes.png",
                                    "InfoGAN codes: one row per code (majority letter), fresh z per column",
                                    row_labels=[f"{c} {m}" for c, m in enumerate(metrics["code_letters"])],
                                    force=force))
    if evals:
        written.append(P.coverage_curve(evals, out / "coverage.png", force=force))
        written.append(P.survival_heatmap(evals, out / "survival.png", force=force))
        written.append(P.training_dynamics(steps, evals, out / "dynamics.png", force=force))
    metrics["figures"] = [str(p) for p in written]
    write_atomic(out / "metrics.json", json.dumps(metrics, indent=2).encode(), force=force)
    log(summary(metrics))
    return metrics


def _interpolation(g, seed: int, rows: int = 6, steps: int = 10) -> np.ndarray:
    """(rows, steps, 28, 28): straight lines between pairs of z (same letter for conditional)."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    gen = torch.Generator().manual_seed(seed + 3)
    za, zb = g.latent(rows, gen), g.latent(rows, gen)
    t = torch.linspace(0, 1, steps)[None, :, None]
    z = (za[:, None] * (1 - t) + zb[:, None] * t).reshape(rows * steps, -1)
    labels = torch.randint(0, 26, (rows,), generator=gen).repeat_interleave(steps) if g.cfg.conditional else None
    with torch.no_grad():
        return g(z, labels)[:, 0].numpy().reshape(rows, steps, 28, 28)


def _code_sheet(g, seed: int, cols: int = 10) -> np.ndarray:
    """(codes, cols, 28, 28): each InfoGAN code with the same `cols` z's."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    k = g.cfg.info_codes
    z = torch.randn(cols, g.cfg.z_dim, generator=torch.Generator().manual_seed(seed + 4))
    lat = g.with_codes(z.repeat(k, 1), torch.arange(k).repeat_interleave(cols))
    with torch.no_grad():
        return g(lat)[:, 0].numpy().reshape(k, cols, 28, 28)


def summary(m: dict) -> str:
    """The metrics as a short table for the terminal."""
    lines = [f"generator           {m['generator']} ({'conditional' if m['conditional'] else 'unconditional'})",
             f"letters covered     {m['letters_covered']}/{m.get('classes', 26)} "
             f"(strict {m['letters_covered_strict']}/{m.get('classes', 26)}) "
             f"on {m['samples']} samples",
             f"KL(p || uniform)    {m['kl_uniform']:.4f} nats (perfect sampler ~{m['kl_perfect_sampler']:.4f})",
             f"mean confidence     {m['mean_confidence']:.3f}    diversity {m['diversity']:.3f}",
             f"{'':20s}{'generated':>12s}{'real-vs-real':>14s}"]
    for k in ("fd", "kid", "precision", "recall", "density", "coverage"):
        lines.append(f"{k:20s}{m[k]:12.4f}{m[k + '_real']:14.4f}")
    if m.get("cond_accuracy") is not None:
        lines.append(f"conditional agreement {m['cond_accuracy']:.4f}")
    if m.get("code_letters"):
        lines.append(f"InfoGAN codes       {m['code_distinct_letters']} distinct majority letters, "
                     f"mean purity {m['code_purity_mean']:.3f}")
    lines.append(f"classifier accuracy on the real set {m['classifier_val_acc']:.4f}")
    return "\n".join(lines)
