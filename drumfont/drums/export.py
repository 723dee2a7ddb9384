"""`drumfont export`: sample bars (or phrases) of a genre from the engine and write them as .mid files,
atomically."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from drumfont.atomic import check_writable
from drumfont.drums.engine import Engine
from drumfont.errors import DrumfontError
from drumfont.score.midifile import ExportOptions, write_midi
from drumfont.score.pattern import Pattern
from drumfont.score.phrase import Phrase
from drumfont.validate import total_bars


def export_targets(style: str, n: int, out: Path, opts: ExportOptions, single_file: bool = False) -> list[Path]:
    """The .mid files an export of n bars writes (one each, or one chain), checked for size."""
    if n < 1:
        raise DrumfontError(f"-n must be at least 1, got {n}")
    total_bars(n, opts.bars_per_pattern, f"-n {n} with --bars {opts.bars_per_pattern}")
    style = style.lower()
    if single_file:
        return [out / f"{style}-{n}bars.mid"]
    width = max(3, len(str(n)))
    return [out / f"{style}-{i:0{width}d}.mid" for i in range(1, n + 1)]


def export_genre(engine: Engine, style: str, n: int, out: Path, opts: ExportOptions, seed: int | None = None,
                 temperature: float = 1.0, single_file: bool = False, force: bool = False,
                 also: tuple[Path, ...] = ()) -> list[tuple[Path, list[Pattern]]]:
    """Write n bars of `style` into `out`; return each written file with the bars it holds.
    Every target (and every path in `also`, such as the audio files that follow) is checked
    before sampling, so nothing is half-written."""
    targets = export_targets(style, n, out, opts, single_file)
    for t in [*targets, *also]:
        check_writable(t, force)
    patterns = engine.bars(style.lower(), n, temperature=temperature, seed=seed)
    chains = [patterns] if single_file else [[p] for p in patterns]
    return [(write_midi(t, c, opts, force=force), c) for t, c in zip(targets, chains)]


def phrase_targets(style: str, n: int, bars: int, out: Path, opts: ExportOptions,
                   single_file: bool = False) -> list[Path]:
    """The .mid files an export of n phrases of `bars` bars writes (one phrase each, or one chain),
    checked for size: each phrase plays `opts.bars_per_pattern` times."""
    if n < 1:
        raise DrumfontError(f"-n must be at least 1, got {n}")
    total_bars(n * bars, opts.bars_per_pattern, f"-n {n} phrases of {bars} bars with --bars {opts.bars_per_pattern}")
    style = style.lower()
    if single_file:
        return [out / f"{style}-{n}x{bars}bars.mid"]
    width = max(3, len(str(n)))
    return [out / f"{style}-{bars}bar-{i:0{width}d}.mid" for i in range(1, n + 1)]


def phrase_chain(phrase: Phrase, repeats: int) -> list[Pattern]:
    """The bars a phrase plays when it repeats `repeats` times (the phrase over, not each bar)."""
    return list(phrase.bars) * repeats


def export_phrases(engine: Engine, style: str, n: int, bars: int, fill: str, out: Path, opts: ExportOptions,
                   seed: int | None = None, temperature: float = 1.0, single_file: bool = False,
                   force: bool = False, also: tuple[Path, ...] = ()) -> list[tuple[Path, list[Pattern]]]:
    """Write n phrases of `style` into `out`, each file one phrase (played `opts.bars_per_pattern`
    times), or all in one chain; return each written file with the bars it holds. Every target is
    checked before sampling."""
    targets = phrase_targets(style, n, bars, out, opts, single_file)
    for t in [*targets, *also]:
        check_writable(t, force)
    phrases = engine.phrases(style.lower(), n, bars, fill, temperature=temperature, seed=seed)
    once = replace(opts, bars_per_pattern=1)
    chains = [phrase_chain(p, opts.bars_per_pattern) for p in phrases]
    if single_file:
        chains = [[b for c in chains for b in c]]
    return [(write_midi(t, c, once, force=force), c) for t, c in zip(targets, chains)]
