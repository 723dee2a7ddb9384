"""Figures of the drum-VAE report (matplotlib, Agg backend): KL per dimension, t-SNE of both
latent levels by genre, interpolation piano rolls, controllable generation, generated bars,
and micro-timing histograms (real vs generated offsets per voice); and of the phrase report:
phrase shape per genre, where departures fall, bar features' overlapping areas, reconstruction by
bar, Continue against the drummer's own next bars, sampled phrases as piano rolls."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.atomic import write_atomic
from drumfont.score.pattern import LABELS, VOICES


def _plt():
    import matplotlib  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    return plt


def _save(fig, path: Path, force: bool) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return write_atomic(path, buf.getvalue(), force=force)


def kl_bars(kl_high: np.ndarray, kl_low: np.ndarray, path: Path, force: bool = False,
            threshold: float = 0.1) -> Path:
    """Mean KL per latent dimension of each level, with the collapse threshold drawn."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={"width_ratios": [len(kl_high), len(kl_low)]})
    for ax, kl, name in zip(axes, (kl_high, kl_low), ("z_high", "z_low")):
        colors = ["tab:red" if k < threshold else "tab:blue" for k in kl]
        ax.bar(np.arange(len(kl)), kl, color=colors)
        ax.axhline(threshold, color="k", ls="--", lw=0.8, label=f"collapsed < {threshold}")
        ax.set_title(f"KL per dimension, {name}")
        ax.set_xlabel("dimension")
        ax.set_ylabel("nats")
        ax.set_xticks(np.arange(len(kl)))
    axes[0].legend(fontsize=7)
    return _save(fig, path, force)


TSNE_MAX = 3000


def tsne(z: np.ndarray, labels: np.ndarray | None, names: Sequence[str], title: str, path: Path,
         seed: int = 0, force: bool = False) -> Path:
    """2-D t-SNE of codes, coloured by genre (one colour if unlabelled). Past TSNE_MAX codes, a
    seeded random subset of that many is drawn (t-SNE of 19,000 real bars took 6 min here)."""
    from sklearn.manifold import TSNE  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    plt = _plt()
    if len(z) > TSNE_MAX:
        pick = np.sort(np.random.default_rng(seed).choice(len(z), TSNE_MAX, replace=False))
        title = f"{title} ({TSNE_MAX} of {len(z)} bars)"
        z, labels = np.asarray(z)[pick], None if labels is None else np.asarray(labels)[pick]
    # Exact t-SNE is quicker than Barnes-Hut for a few hundred points; 500 iterations settle both.
    emb = TSNE(n_components=2, perplexity=min(30.0, max(2.0, (len(z) - 1) / 3)), random_state=seed,
               init="pca", method="exact" if len(z) <= 300 else "barnes_hut",
               max_iter=500).fit_transform(np.asarray(z, np.float64))
    fig, ax = plt.subplots(figsize=(5, 4.5))
    if labels is None:
        ax.scatter(emb[:, 0], emb[:, 1], s=6)
    else:
        for g in np.unique(labels):
            sel = labels == g
            ax.scatter(emb[sel, 0], emb[sel, 1], s=6, label=names[g] if 0 <= g < len(names) else "unlabelled")
        ax.legend(fontsize=7, markerscale=2)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return _save(fig, path, force)


def roll_grid(rows: Sequence[Sequence[np.ndarray]], row_titles: Sequence[str], title: str, path: Path,
              col_titles: Sequence[str] | None = None, force: bool = False) -> Path:
    """A grid of piano rolls (voices up, steps across); each cell one (16, 9) velocity or hit grid."""
    plt = _plt()
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.5 * n_cols + 0.8, 1.2 * n_rows + 0.6), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(row):
                ax.axis("off")
                continue
            grid = np.asarray(row[j], np.float64)
            grid = grid / 127.0 if grid.max() > 1 else grid
            ax.imshow(grid.T, aspect="auto", origin="lower", cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
            for x in (3.5, 7.5, 11.5):
                ax.axvline(x, color="tab:orange", lw=0.4)
            if j == 0:
                ax.set_ylabel(row_titles[i], fontsize=7)
                ax.set_yticks(range(len(LABELS)))
                ax.set_yticklabels(LABELS, fontsize=4)
            if i == 0 and col_titles is not None and j < len(col_titles):
                ax.set_title(col_titles[j], fontsize=7)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path, force)


def offset_histograms(series: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, force: bool = False,
                      ms_per_sixteenth: float = 125.0) -> Path:
    """Per voice, histograms of hit offsets (ms at 120 BPM) for each named series of (offsets in
    sixteenths, voice of each offset): where real and generated hits sit against the grid."""
    plt = _plt()
    fig, axes = plt.subplots(3, 3, figsize=(10, 7), sharex=True)
    bins = np.linspace(-0.5, 0.5, 41) * ms_per_sixteenth
    for v, ax in enumerate(axes.flat):
        for name, (off, voice) in series.items():
            x = np.asarray(off)[np.asarray(voice) == v] * ms_per_sixteenth
            if len(x):
                ax.hist(x, bins=bins, density=True, histtype="step", linewidth=1.4,
                        label=f"{name} (n={len(x)}, sd {x.std():.1f} ms)")
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.set_title(VOICES[v], fontsize=9)
        ax.legend(fontsize=6, loc="upper left")
    for ax in axes[-1]:
        ax.set_xlabel("offset from the sixteenth (ms at 120 BPM)")
    fig.suptitle("micro-timing: where hits sit against the grid")
    fig.tight_layout()
    return _save(fig, path, force)


def draw_all(model, data, arrays: dict, out: Path, seed: int = 0, force: bool = False) -> list[Path]:
    """Every figure of the report into `out`; returns their paths."""
    out = Path(out)
    paths = [kl_bars(arrays["kl_high"], arrays["kl_low"], out / "kl_per_dim.png", force)]
    labels = arrays.get("genre")
    names = list(data.genres)
    paths.append(tsne(arrays["z_high"], labels, names, "t-SNE of z_high by genre", out / "tsne_z_high.png",
                      seed, force))
    paths.append(tsne(arrays["z_low"], labels, names, "t-SNE of z_low by genre", out / "tsne_z_low.png",
                      seed, force))

    if "gen_offsets" in arrays:
        series = {"real (validation)": (arrays["real_offsets"], arrays["real_offset_voice"]),
                  "generated": (arrays["gen_offsets"], arrays["gen_offset_voice"])}
        paths.append(offset_histograms(series, out / "offsets_per_voice.png", force))

    gen = arrays["generated"]
    paths.append(roll_grid([g[:8] for g in gen.values()], list(gen), "generated bars per genre",
                           out / "generated_per_genre.png", force=force))

    genres = list(model.genres)
    if len(genres) >= 2:
        pairs = [(genres[i], genres[(i + 1) % len(genres)]) for i in range(min(3, len(genres)))]
        steps = 8
        for level in ("high", "low"):
            rows, titles = [], []
            for a, b in pairs:
                if level == "high":
                    bars = model.interpolate(a, b, steps, "high")
                    titles.append(f"{a}->{b}")
                else:  # within one style: between two bars of genre a
                    x, y = model.sample(a, 2, seed=seed)
                    bars = model.interpolate(x, y, steps, "low")
                    titles.append(f"{a} var.")
                rows.append([p.velocities for p in bars])
            paths.append(roll_grid(rows, titles, f"interpolation of z_{level}", out / f"interp_z_{level}.png",
                                   [f"t={t:.2f}" for t in np.linspace(0, 1, steps)], force))
        # Controllable generation: fixed z_high with new z_low (rows: genres), and fixed z_low
        # variation under each genre's z_high (rows: source bars).
        rows = [[p.velocities for p in model.sample(g, 6, temperature=1.0, seed=seed + k)]
                for k, g in enumerate(genres)]
        paths.append(roll_grid(rows, genres, "fixed z_high (genre), varied z_low",
                               out / "control_fixed_high.png", force=force))
        rows, titles = [], []
        for k, src in enumerate(model.sample(genres[0], 3, seed=seed + 99)):
            rows.append([src.velocities] + [model.transfer(src, g).velocities for g in genres])
            titles.append(f"bar {k + 1}")
        paths.append(roll_grid(rows, titles, "fixed z_low variation, z_high of each genre",
                               out / "control_fixed_low.png", ["source"] + genres, force))
    return paths

def timing_histograms(real: tuple[np.ndarray, np.ndarray], humanised: dict[str, tuple[np.ndarray, np.ndarray]],
                      path: Path, force: bool = False, ms_per_sixteenth: float = 125.0) -> Path:
    """Per voice with hits: histograms of real and humanised offsets (ms at 120 BPM); the
    quantised input sits at 0 ms, drawn as a line (a histogram of it would be one spike)."""
    plt = _plt()
    off, voice = np.asarray(real[0]), np.asarray(real[1])
    voices = [v for v in range(len(VOICES)) if (voice == v).any()]
    cols = 4
    rows = -(-len(voices) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.8 * rows), sharex=True, squeeze=False)
    bins = np.linspace(-0.5, 0.5, 41) * ms_per_sixteenth
    for ax, v in zip(axes.flat, voices):
        x = off[voice == v] * ms_per_sixteenth
        ax.hist(x, bins=bins, density=True, color="tab:blue", alpha=0.35, label=f"real (sd {x.std():.1f} ms)")
        for (name, (o, vo)), color in zip(humanised.items(), ("tab:green", "tab:red", "tab:purple")):
            y = np.asarray(o)[np.asarray(vo) == v] * ms_per_sixteenth
            ax.hist(y, bins=bins, density=True, histtype="step", linewidth=1.4, color=color,
                    label=f"{name} (sd {y.std():.1f} ms)")
        ax.axvline(0, color="tab:orange", linewidth=1.5, label="quantised input (0 ms)")
        ax.set_title(f"{VOICES[v]} (n={len(x)})", fontsize=9)
        ax.legend(fontsize=6, loc="upper left")
    for ax in list(axes.flat)[len(voices):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("offset from the sixteenth (ms at 120 BPM)")
    fig.suptitle("Groove MIDI validation bars: real timing, the quantised input, humanised")
    fig.tight_layout()
    return _save(fig, path, force)


# --- the phrase report (drums/phrase_report.py) ---------------------------------------------------
# Its feature and model names, repeated here so that plots stay below the report that uses them.
PHRASE_FEATURES = ("density", "syncopation", "offset_std", "swingness", "velocity_mean", "voices")
PHRASE_MODELS = ("phrase", "one_bar", "repeat")


PHRASE_COLORS = {"real": "k", "real_fill_last": "0.45", "phrase_end": "tab:blue", "phrase_none": "tab:cyan",
          "one_bar": "tab:orange", "repeat": "tab:red", "phrase": "tab:blue"}
PHRASE_LABEL = {"real": "real (all)", "real_fill_last": "real, fill in last bar", "phrase_end": "phrase model, fill end",
         "phrase_none": "phrase model, no fill", "one_bar": "independent 1-bar samples", "repeat": "bar 1 repeated",
         "phrase": "phrase model"}


def phrase_shape(m: dict, bars: int, path: Path, force: bool = False) -> Path:
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
            ax.plot(x, v, marker="o", ms=3, color=PHRASE_COLORS[key], label=PHRASE_LABEL[key],
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


def phrase_departures(m: dict, path: Path, force: bool = False) -> Path:
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
            ax.bar(np.arange(1, bars + 1) + (k - 1.5) * width, np.mean(rows, 0), width, color=PHRASE_COLORS[key],
                   label=PHRASE_LABEL[key])
        ax.set_title(f"{bars}-bar phrases: share departing (> 0.5 from every earlier bar)", fontsize=9)
        ax.set_xlabel("bar")
        ax.set_xticks(np.arange(1, bars + 1))
    axes[0].legend(fontsize=7)
    return _save(fig, path, force)


def phrase_features(m: dict, path: Path, force: bool = False) -> Path:
    """Overlapping area of each bar feature's distribution with real validation bars, per genre."""
    plt = _plt()
    genres = [g for g, e in m["per_genre"].items() if "overlap_area" in e]
    fig, axes = plt.subplots(1, len(PHRASE_MODELS), figsize=(4.2 * len(PHRASE_MODELS), 0.45 * len(genres) + 1.6), squeeze=False)
    for ax, key in zip(axes[0], PHRASE_MODELS):
        grid = np.array([[m["per_genre"][g]["overlap_area"][key][f] for f in PHRASE_FEATURES] for g in genres])
        ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (r, c), v in np.ndenumerate(grid):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w" if v < 0.6 else "k")
        ax.set_xticks(range(len(PHRASE_FEATURES)))
        ax.set_xticklabels(PHRASE_FEATURES, rotation=35, ha="right", fontsize=7)
        ax.set_yticks(range(len(genres)))
        ax.set_yticklabels(genres, fontsize=8)
        ax.set_title(f"{PHRASE_LABEL[key]} (mean {grid.mean():.2f})", fontsize=9)
    fig.suptitle("overlapping area with real validation bars (1 = same spread)")
    fig.tight_layout()
    return _save(fig, path, force)


def phrase_reconstruction(m: dict, path: Path, force: bool = False) -> Path:
    """Hit F1 of each bar of reconstructed validation phrases: phrase model against the bar VAE."""
    plt = _plt()
    rec = {k: v for k, v in m["reconstruction"].items() if k != "1"}
    fig, axes = plt.subplots(1, len(rec), figsize=(3.4 * len(rec), 2.8), squeeze=False, sharey=True)
    for ax, (n, e) in zip(axes[0], rec.items()):
        x = np.arange(1, int(n) + 1)
        ax.bar(x - 0.2, e["phrase_f1_by_bar"], 0.4, color=PHRASE_COLORS["phrase"], label="phrase model")
        ax.bar(x + 0.2, e["one_bar_f1_by_bar"], 0.4, color=PHRASE_COLORS["one_bar"], label="bar VAE")
        if "repeat" in e:
            ax.axhline(e["repeat"]["hit_f1"], color=PHRASE_COLORS["repeat"], ls="--", lw=1, label="bar 1 repeated (bars 2..)")
        ax.axhline(0.85, color="k", lw=0.6, ls=":")
        ax.set_title(f"{n}-bar phrases: F1 {e['phrase']['hit_f1']:.3f} vs {e['one_bar']['hit_f1']:.3f}", fontsize=9)
        ax.set_xticks(x)
        ax.set_xlabel("bar")
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("hit F1")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    return _save(fig, path, force)


def phrase_continue(m: dict, arrays: dict, path: Path, force: bool = False) -> Path:
    """Continue: each window's distance to its input bars (the drummer's next bars vs the model's),
    and the ratio of the continuation's offset spread to the input's."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    real = arrays["real_distance"]
    for key in ("phrase", "one_bar", "repeat"):
        axes[0].scatter(real, arrays[key]["distance"], s=8, alpha=0.5, color=PHRASE_COLORS[key], label=PHRASE_LABEL[key])
    axes[0].plot([0, 1], [0, 1], "k", lw=0.6)
    axes[0].set_xlabel("drummer's own bars 5-8: distance to bars 1-4")
    axes[0].set_ylabel("generated bars 5-8: distance to bars 1-4")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"Continue, {m['continue']['n_windows']} validation windows", fontsize=9)
    bins = np.linspace(0, 3, 31)
    for key in ("phrase", "one_bar"):
        r = arrays[key]["offset_std_ratio"]
        axes[1].hist(r[np.isfinite(r)], bins=bins, alpha=0.5, color=PHRASE_COLORS[key], label=PHRASE_LABEL[key])
    axes[1].axvspan(0.7, 1.3, color="k", alpha=0.08)
    axes[1].set_xlabel("offset std of the new bars / of the input bars")
    axes[1].legend(fontsize=7)
    return _save(fig, path, force)


def phrase_examples(arrays: dict, path: Path, force: bool = False, per_genre: int = 2) -> Path:
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


def draw_phrases(m: dict, arrays: dict, out: Path, force: bool = False) -> list[Path]:
    """Every figure of the phrase report into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [phrase_shape(m, 4, out / "shape_4.png", force), phrase_shape(m, 8, out / "shape_8.png", force),
             phrase_departures(m, out / "departures.png", force),
             phrase_reconstruction(m, out / "reconstruction.png", force),
             phrase_examples(arrays, out / "examples.png", force)]
    if any("overlap_area" in e for e in m["per_genre"].values()):
        paths.append(phrase_features(m, out / "features.png", force))
    if arrays.get("continue"):
        paths.append(phrase_continue(m, arrays["continue"], out / "continue.png", force))
    return paths
