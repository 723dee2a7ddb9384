"""A phrase: a few bars that belong together, which of them are fills, and (as a song's section)
a name. Bars stay `Pattern`s; a phrase only adds the level above them that every command, the
player and the studio share. Torch-free, as all of `score/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from drumfont.errors import DrumfontError
from drumfont.score.pattern import CRASH, Pattern

# The least velocity of the crash put on the downbeat after a fill at a change of section (the
# phrase model's song mode uses the same figure: drumfont.drums.phrase_engine.CRASH_VELOCITY).
CRASH_VELOCITY = 100


@dataclass(frozen=True)
class Phrase:
    """Bars in order, a fill flag per bar, and a name when the phrase is a song's section."""

    bars: tuple[Pattern, ...]
    fills: tuple[bool, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        bars = tuple(self.bars)
        if not bars:
            raise DrumfontError("a phrase needs at least one bar")
        if not all(isinstance(b, Pattern) for b in bars):
            raise DrumfontError("a phrase is made of bars (Patterns)")
        fills = tuple(bool(f) for f in self.fills) if self.fills else (False,) * len(bars)
        if len(fills) != len(bars):
            raise DrumfontError(f"a phrase of {len(bars)} bars needs {len(bars)} fill flags, got {len(fills)}")
        object.__setattr__(self, "bars", bars)
        object.__setattr__(self, "fills", fills)

    @classmethod
    def of(cls, bars: Iterable[Pattern], fill_last: bool = False, name: str = "") -> Phrase:
        """Bars as a phrase; `fill_last` flags the last bar as a fill."""
        bars = tuple(bars)
        return cls(bars, tuple(fill_last and i == len(bars) - 1 for i in range(len(bars))), name)

    def __len__(self) -> int:
        return len(self.bars)

    @property
    def has_fill(self) -> bool:
        return any(self.fills)

    def with_bar(self, index: int, bar: Pattern) -> Phrase:
        """A copy with one bar replaced (its fill flag kept)."""
        bars = list(self.bars)
        bars[index] = bar
        return Phrase(tuple(bars), self.fills, self.name)

    def head(self, n: int) -> Phrase:
        """The first n bars."""
        return Phrase(self.bars[:n], self.fills[:n], self.name)

    def __add__(self, other: Phrase) -> Phrase:
        return Phrase(self.bars + other.bars, self.fills + other.fills, self.name)


def with_crash(bar: Pattern, velocity: int = CRASH_VELOCITY) -> Pattern:
    """The bar with a crash on its downbeat, at least `velocity` loud (a louder one is kept)."""
    v = bar.velocities.copy()
    v[0, CRASH] = max(int(v[0, CRASH]), int(velocity))
    return Pattern(v, bar.offsets)


def chain(phrases: Sequence[Phrase]) -> list[Pattern]:
    """Every bar of the phrases in order."""
    return [b for p in phrases for b in p.bars]


def song_bars(sections: Sequence[Phrase], crash: bool = True) -> tuple[list[Pattern], list[bool]]:
    """A song's bars and fill flags: the sections in order, a crash on the downbeat of every section
    after the first (after the fill that ends the one before), when `crash`."""
    bars: list[Pattern] = []
    fills: list[bool] = []
    for i, sec in enumerate(sections):
        first = sec.bars[0]
        bars.append(with_crash(first) if crash and i > 0 else first)
        bars.extend(sec.bars[1:])
        fills.extend(sec.fills)
    return bars, fills


def section_starts(sections: Sequence[Phrase]) -> np.ndarray:
    """The bar index where each section begins."""
    return np.cumsum([0] + [len(s) for s in sections[:-1]]).astype(int)
