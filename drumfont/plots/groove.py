"""Figures of the Groove measurement: where hits sit against the grid, real vs quantised vs
humanised, per voice (matplotlib, Agg backend, through plots/vae.py's helpers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drumfont.drums.pattern import VOICES
from drumfont.plots.vae import _plt, _save


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
