"""Figures of the letter-GAN report (matplotlib, Agg backend): coverage over epochs, training
dynamics, alphabet grid, latent interpolation, style consistency, per-letter survival."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.atomic import write_atomic

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _figure(w: float, h: float, rows: int = 1, cols: int = 1):
    import matplotlib  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    fig = Figure(figsize=(w, h))
    axes = fig.subplots(rows, cols)
    return fig, axes


def _save(fig, path: Path, force: bool) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return write_atomic(path, buf.getvalue(), force=force)


def _smooth(y: np.ndarray, n: int) -> np.ndarray:
    if len(y) < n or n < 2:
        return y
    return np.convolve(y, np.ones(n) / n, mode="valid")


def coverage_curve(evals: Sequence[dict], path: Path, title: str = "Mode coverage", force: bool = False) -> Path:
    """Letters covered (>= 1 sample, and >= 1/4 of the uniform share) per evaluation, with the
    reference lines of full (26) and half (13) coverage."""
    fig, ax = _figure(6, 3.2)
    ep = [e["epoch"] for e in evals]
    ax.plot(ep, [e["letters_covered"] for e in evals], "o-", label="letters covered (>= 1 sample)")
    ax.plot(ep, [e["letters_covered_strict"] for e in evals], "s--", label="strict (>= 1/4 uniform share)")
    ax.axhline(26, color="tab:green", lw=1, ls=":", label="all 26")
    ax.axhline(13, color="tab:red", lw=1, ls=":", label="half (13)")
    ax.set_ylim(0, 27.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("letters")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path, force)


def training_dynamics(steps: Sequence[dict], evals: Sequence[dict], path: Path, force: bool = False) -> Path:
    """Four panels: D and G loss, their ratio, coverage and KL, gradient norms."""
    fig, axes = _figure(11, 6.5, 2, 2)
    if steps:
        s = np.array([r["step"] for r in steps])
        n = max(1, len(steps) // 200)
        for key, ax in (("d_loss", axes[0, 0]), ("g_loss", axes[0, 0]), ("ratio", axes[0, 1]),
                        ("d_grad", axes[1, 1]), ("g_grad", axes[1, 1])):
            y = _smooth(np.array([r[key] for r in steps], float), n)
            ax.plot(s[len(s) - len(y):], y, lw=0.8, label=key)
    axes[0, 0].set_title("losses (BCE)")
    axes[0, 1].set_title("D loss / G loss")
    axes[0, 1].axhline(1.0, color="gray", lw=0.6, ls=":")
    axes[1, 1].set_title("gradient norms")
    axes[1, 1].set_yscale("log")
    ax = axes[1, 0]
    ep = [e["epoch"] for e in evals]
    ax.plot(ep, [e["letters_covered"] for e in evals], "o-", label="letters covered")
    ax.plot(ep, [e["letters_covered_strict"] for e in evals], "s--", label="strict")
    ax.set_ylim(0, 27.5)
    ax.set_title("coverage and KL(p || uniform)")
    ax2 = ax.twinx()
    ax2.plot(ep, [e["kl_uniform"] for e in evals], "^-", color="tab:red", label="KL (nats)")
    ax2.set_ylabel("KL (nats)", color="tab:red")
    for a in (axes[0, 0], axes[0, 1], axes[1, 1], ax):
        a.set_xlabel("step" if a is not ax else "epoch")
        a.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path, force)


def image_grid(images: np.ndarray, path: Path, title: str = "", row_labels: Sequence[str] | None = None,
               col_labels: Sequence[str] | None = None, force: bool = False) -> Path:
    """A (rows, cols, 28, 28) array of images in [0, 1] as one figure."""
    rows, cols = images.shape[:2]
    fig, ax = _figure(max(3.0, cols * 0.42), max(1.2, rows * 0.42 + 0.5))
    sheet = images.transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    ax.imshow(sheet, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([28 * i + 14 for i in range(cols)] if col_labels else [])
    ax.set_xticklabels(list(col_labels) if col_labels else [], fontsize=7)
    ax.set_yticks([28 * i + 14 for i in range(rows)] if row_labels else [])
    ax.set_yticklabels(list(row_labels) if row_labels else [], fontsize=7)
    ax.set_title(title, fontsize=9)
    return _save(fig, path, force)


def alphabet_grid(images: np.ndarray, labels: np.ndarray, path: Path, per_letter: int = 6,
                  title: str = "Generated letters, sorted by the classifier's reading", force: bool = False) -> Path:
    """Up to `per_letter` samples per predicted letter, one column per letter; an empty column
    is a letter the generator did not produce (collapse made visible)."""
    grid = np.zeros((per_letter, 26, 28, 28), np.float32)
    for k in range(26):
        idx = np.flatnonzero(labels == k)[:per_letter]
        grid[:len(idx), k] = images[idx]
    return image_grid(grid, path, title, col_labels=list(LETTERS), force=force)


def survival_heatmap(evals: Sequence[dict], path: Path, force: bool = False) -> Path:
    """Share of each letter among the samples at every evaluation, relative to the uniform 1/26:
    which letters vanish (dark) and when."""
    fig, ax = _figure(max(5.0, 0.35 * len(evals) + 3), 6)
    counts = np.array([e["counts"] for e in evals], float)             # (E, 26)
    share = counts / counts.sum(1, keepdims=True).clip(min=1) * 26     # 1 = uniform
    im = ax.imshow(share.T, aspect="auto", cmap="magma", vmin=0, vmax=2, interpolation="nearest")
    ax.set_yticks(range(26))
    ax.set_yticklabels(list(LETTERS), fontsize=7)
    ax.set_xticks(range(len(evals)))
    ax.set_xticklabels([str(e["epoch"]) for e in evals], fontsize=7)
    ax.set_xlabel("epoch")
    ax.set_title("letter share / uniform share (0 = vanished)")
    fig.colorbar(im, ax=ax, fraction=0.05)
    return _save(fig, path, force)


def comparison_curves(curves: dict[str, list[list[list[float]]]], path: Path, key: int = 1,
                      ylabel: str = "letters covered", force: bool = False) -> Path:
    """Mean (and min–max band) over seeds of one evaluation column per configuration; `curves`
    maps a name to per-seed lists of [epoch, covered, strict, kl] rows."""
    fig, ax = _figure(7, 3.6)
    for name, runs in curves.items():
        ep = np.array([r[0] for r in runs[0]])
        ys = np.array([[r[key] for r in run] for run in runs])
        line, = ax.plot(ep, ys.mean(0), "o-", ms=3, label=name)
        ax.fill_between(ep, ys.min(0), ys.max(0), color=line.get_color(), alpha=0.12)
    if key in (1, 2):
        ax.axhline(26, color="gray", lw=0.8, ls=":")
        ax.axhline(13, color="gray", lw=0.8, ls=":")
        ax.set_ylim(0, 27.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path, force)
