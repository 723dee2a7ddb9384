"""`drumfont export`: sample bars of a genre and write them as .mid files, atomically."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from drumfont.doors import total_bars
from drumfont.drums.midifile import ExportOptions, write_midi
from drumfont.drums.pattern import Pattern
from drumfont.errors import DrumfontError
from drumfont.writes import check_writable


def sample_patterns(style: str, n: int, seed: int | None, temperature: float = 1.0,
                    preset: str | None = None, rules: bool = False) -> list[Pattern]:
    """n bars of a genre: from the shipped (or given) VAE, or from the genre rules."""
    if n < 1:
        raise DrumfontError(f"-n must be at least 1, got {n}")
    from drumfont.corpus import grooves

    if rules:
        style = grooves.check_genre(style)
        return grooves.generate(style, n, np.random.default_rng(seed))
    from drumfont import drums

    if preset is None and not drums.preset_available():
        # Until a drum VAE is shipped, the rules stand in, and the user is told.
        print("drumfont: note: no shipped drum VAE (presets/drums_vae.pt); drawing from the genre rules",
              file=sys.stderr)
        return sample_patterns(style, n, seed, temperature, None, rules=True)
    model = drums.load(preset)
    return model.sample(style, n, temperature=temperature, seed=seed)


def export_genre(style: str, n: int, out: Path, opts: ExportOptions, seed: int | None = None,
                 temperature: float = 1.0, preset: str | None = None, rules: bool = False,
                 single_file: bool = False, force: bool = False, audio: str | None = None,
                 soundfont: str | None = None) -> list[Path]:
    """Write n bars of `style` into `out` (one file each, or one chain); return the paths. With
    `audio` ('wav' or 'flac'), each .mid also gets its audio on the built-in kit beside it."""
    style = style.lower()
    if n < 1:
        raise DrumfontError(f"-n must be at least 1, got {n}")
    total_bars(n, opts.bars_per_pattern, f"-n {n} with --bars {opts.bars_per_pattern}")
    if single_file:
        targets = [out / f"{style}-{n}bars.mid"]
    else:
        width = max(3, len(str(n)))
        targets = [out / f"{style}-{i:0{width}d}.mid" for i in range(1, n + 1)]
    sounds = [t.with_suffix(f".{audio}") for t in targets] if audio else []
    for t in targets + sounds:  # refuse before sampling, so nothing is half-written
        check_writable(t, force)
    patterns = sample_patterns(style, n, seed, temperature, preset, rules)
    chains = [patterns] if single_file else [[p] for p in patterns]
    written = [write_midi(t, c, opts, force=force) for t, c in zip(targets, chains)]
    if audio:
        from drumfont.audio.render import RenderOptions, write_audio

        ropts = RenderOptions(soundfont=soundfont)
        written += [write_audio(t, c, opts, ropts, force=force) for t, c in zip(sounds, chains)]
    return written
