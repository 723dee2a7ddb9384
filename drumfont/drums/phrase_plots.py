"""Figures of the phrase report (matplotlib, Agg backend): phrase shape per genre, where the
departures fall, bar features' overlapping areas, reconstruction by bar, Continue against the
drummer's own next bars, and sampled phrases as piano rolls."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drumfont.drums.pattern import LABELS
from drumfont.plots.vae import _plt, _save

COLORS = {"real": "k", "real_fill_last": "0.45", "phrase_end": "tab:blue", "phrase_none": "tab:cyan",
          "one_bar": "tab:orange", "repeat": "tab:red", "phrase": "tab:blue"}
LABEL = {"real": "real (all)", "real_fill_last": "real, fill in last bar", "phrase_end": "phrase model, fill end",
         "phrase_none": "phrase model, no fill", "one_bar": "independent 1-bar samples", "repeat": "bar 1 repeated",
         "phrase": "phrase model"}


def shape_figure(m: dict, bars: int, path: Path, force: bool = False) -> Path:
    """Distance of each bar to bar 1, per genre: real validation phrases against the models."""
    plt = _plt()
    genres = [g for g, e in m["per_genre"].items() if str(bars) in e]
    cols = 4
    rows = max(1, -(-len(genres) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False, sharey=True)
    for ax, g in zip(axes.ravel(), genres):
        e = m["per_genre"][g][str(bars)]
        x = np.arange(1, bars + 1)
        for key in ("real", "real_fill_last", "phrase_end", "phrase_none", "one_bar", "repeat"):
            v = e["shape"].get(key)
            if v is None:
                continue
            ax.plot(x, v, marker="o", ms=3, color=COLORS[key], label=LABEL[key],
                    ls="--" if key == "real_fill_last" else "-")
            if key == "real":
                ax.fill_between(x[1:-1], np.array(v)[1:-1] - 0.1, np.array(v)[1:-1] + 0.1, color="k", alpha=0.08)
        ax.set_title(f"{g} (real: {e['n_real']} phrases)", fontsize=9)
        ax.set_xticks(x)
        ax.set_ylim(-0.02, 1.0)
    for ax in axes.ravel()[len(genres):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("Jaccard distance to bar 1")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.06))
    fig.suptitle(f"{bars}-bar phrases: distance of each bar to bar 1 (grey band: real ± 0.1)")
    fig.tight_layout()
    return _save(fig, path, force)


def departures_figure(m: dict, path: Path, force: bool = False) -> Path:
    """Share of phrases departing at each bar of 4- and 8-bar phrases, averaged over genres."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    for ax, bars in zip(axes, (4, 8)):
        keys = ("real", "phrase_end", "phrase_none", "one_bar")
        width = 0.8 / len(keys)
        for k, key in enumerate(keys):
            rows = [e[str(bars)]["departures_by_bar"][key] for e in m["per_genre"].values()
                    if key in e.get(str(bars), {}).get("departures_by_bar", {})]
            if not rows:
                continue
            ax.bar(np.arange(1, bars + 1) + (k - 1.5) * width, np.mean(rows, 0), width, color=COLORS[key],
                   label=LABEL[key])
        ax.set_title(f"{bars}-bar phrases: share departing (> 0.5 from every earlier bar)", fontsize=9)
        ax.set_xlabel("bar")
        ax.set_xticks(np.arange(1, bars + 1))
    axes[0].legend(fontsize=7)
    return _save(fig, path, force)


def features_figure(m: dict, path: Path, force: bool = False) -> Path:
    """Overlapping area of each bar feature's distribution with real validation bars, per genre."""
    from drumfont.drums.phrase_report import FEATURES, MODELS

    plt = _plt()
    genres = [g for g, e in m["per_genre"].items() if "overlap_area" in e]
    fig, axes = plt.subplots(1, len(MODELS), figsize=(4.2 * len(MODELS), 0.45 * len(genres) + 1.6), squeeze=False)
    for ax, key in zip(axes[0], MODELS):
        grid = np.array([[m["per_genre"][g]["overlap_area"][key][f] for f in FEATURES] for g in genres])
        ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (r, c), v in np.ndenumerate(grid):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w" if v < 0.6 else "k")
        ax.set_xticks(range(len(FEATURES)))
        ax.set_xticklabels(FEATURES, rotation=35, ha="right", fontsize=7)
        ax.set_yticks(range(len(genres)))
        ax.set_yticklabels(genres, fontsize=8)
        ax.set_title(f"{LABEL[key]} (mean {grid.mean():.2f})", fontsize=9)
    fig.suptitle("overlapping area with real validation bars (1 = same spread)")
    fig.tight_layout()
    return _save(fig, path, force)


def reconstruction_figure(m: dict, path: Path, force: bool = False) -> Path:
    """Hit F1 of each bar of reconstructed validation phrases: phrase model against the bar VAE."""
    plt = _plt()
    rec = {k: v for k, v in m["reconstruction"].items() if k != "1"}
    fig, axes = plt.subplots(1, len(rec), figsize=(3.4 * len(rec), 2.8), squeeze=False, sharey=True)
    for ax, (n, e) in zip(axes[0], rec.items()):
        x = np.arange(1, int(n) + 1)
        ax.bar(x - 0.2, e["phrase_f1_by_bar"], 0.4, color=COLORS["phrase"], label="phrase model")
        ax.bar(x + 0.2, e["one_bar_f1_by_bar"], 0.4, color=COLORS["one_bar"], label="bar VAE")
        if "repeat" in e:
            ax.axhline(e["repeat"]["hit_f1"], color=COLORS["repeat"], ls="--", lw=1, label="bar 1 repeated (bars 2..)")
        ax.axhline(0.85, color="k", lw=0.6, ls=":")
        ax.set_title(f"{n}-bar phrases: F1 {e['phrase']['hit_f1']:.3f} vs {e['one_bar']['hit_f1']:.3f}", fontsize=9)
        ax.set_xticks(x)
        ax.set_xlabel("bar")
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("hit F1")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    return _save(fig, path, force)


def continue_figure(m: dict, arrays: dict, path: Path, force: bool = False) -> Path:
    """Continue: each window's distance to its input bars (the drummer's next bars vs the model's),
    and the ratio of the continuation's offset spread to the input's."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    real = arrays["real_distance"]
    for key in ("phrase", "one_bar", "repeat"):
        axes[0].scatter(real, arrays[key]["distance"], s=8, alpha=0.5, color=COLORS[key], label=LABEL[key])
    axes[0].plot([0, 1], [0, 1], "k", lw=0.6)
    axes[0].set_xlabel("drummer's own bars 5-8: distance to bars 1-4")
    axes[0].set_ylabel("generated bars 5-8: distance to bars 1-4")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"Continue, {m['continue']['n_windows']} validation windows", fontsize=9)
    bins = np.linspace(0, 3, 31)
    for key in ("phrase", "one_bar"):
        r = arrays[key]["offset_std_ratio"]
        axes[1].hist(r[np.isfinite(r)], bins=bins, alpha=0.5, color=COLORS[key], label=LABEL[key])
    axes[1].axvspan(0.7, 1.3, color="k", alpha=0.08)
    axes[1].set_xlabel("offset std of the new bars / of the input bars")
    axes[1].legend(fontsize=7)
    return _save(fig, path, force)


def examples_figure(arrays: dict, path: Path, force: bool = False, per_genre: int = 2) -> Path:
    """Sampled 4-bar phrases (fill in the last bar) of each genre as piano rolls, velocity as shade."""
    plt = _plt()
    gens = arrays["generated"]
    genres = list(gens)
    fig, axes = plt.subplots(len(genres), per_genre, figsize=(6.5 * per_genre, 1.3 * len(genres) + 0.5),
                             squeeze=False)
    for r, g in enumerate(genres):
        hits, vel, _ = gens[g]["phrase"]
        for c in range(per_genre):
            ax = axes[r, c]
            roll = np.concatenate(list(np.where(hits[c], vel[c], 0.0)), axis=0).T  # (9, 64)
            ax.imshow(roll, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
            for b in range(1, hits.shape[1]):
                ax.axvline(16 * b - 0.5, color="tab:red", lw=0.8)
            ax.set_yticks(range(len(LABELS)))
            ax.set_yticklabels(LABELS, fontsize=5)
            ax.set_xticks([])
            if c == 0:
                ax.set_ylabel(g, fontsize=8)
    fig.suptitle("sampled 4-bar phrases, fill in bar 4 (red lines: bar lines)")
    fig.tight_layout()
    return _save(fig, path, force)


def draw_all(m: dict, arrays: dict, out: Path, force: bool = False) -> list[Path]:
    """Every figure of the report into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [shape_figure(m, 4, out / "shape_4.png", force), shape_figure(m, 8, out / "shape_8.png", force),
             departures_figure(m, out / "departures.png", force), reconstruction_figure(m, out / "reconstruction.png", force),
             examples_figure(arrays, out / "examples.png", force)]
    if any("overlap_area" in e for e in m["per_genre"].values()):
        paths.append(features_figure(m, out / "features.png", force))
    if arrays.get("continue"):
        paths.append(continue_figure(m, arrays["continue"], out / "continue.png", force))
    return paths
