"""Messages that worker threads post back to the studio app (thread-safe `post_message`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message

from drumfont.score.pattern import Pattern
from drumfont.score.phrase import Phrase


@dataclass
class EngineReady(Message):
    """The drum engine (VAE or rules) finished loading."""

    engine: Any


@dataclass
class Drawn(Message):
    """A phrase (sample, transfer, continue, fill) for the bank slot it was asked for, or a bar
    (re-roll, drumify) for one bar of it."""

    kind: str          # "sample", "variation", "style", "transfer", "drumify", "continue", "fill"
    pattern: Pattern | Phrase
    slot: int
    started_ns: int    # perf_counter_ns at the key press, for the latency figure
    note: str = ""
    bar: int = 0       # the bar a Pattern replaces


@dataclass
class SongDrawn(Message):
    """The song's slots drawn afresh as one song: a phrase per bank slot."""

    phrases: dict[int, Phrase]
    started_ns: int
    reason: str | None  # why no phrase model played them (None: it did)


@dataclass
class Morphed(Message):
    """The A -> B interpolation."""

    patterns: list[Pattern]
    level: str


@dataclass
class LettersRendered(Message):
    """A rendered word and where its PNG was written."""

    image: Any         # PIL.Image
    path: Path
    text: str
    seed: int


@dataclass
class FontSaved(Message):
    """A typeface written as a font file."""

    path: Path
    seed: int
    glyphs: int


@dataclass
class WorkFailed(Message):
    """A worker hit a user-facing error; shown as a notification."""

    what: str
    error: str
