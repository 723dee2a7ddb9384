"""Messages that worker threads post back to the studio app (thread-safe `post_message`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message

from drumfont.score.pattern import Pattern


@dataclass
class EngineReady(Message):
    """The drum engine (VAE or rules) finished loading."""

    engine: Any


@dataclass
class Drawn(Message):
    """A bar from sample / re-roll / transfer, for the bank slot it was asked for."""

    kind: str          # "sample", "variation", "style", "transfer"
    pattern: Pattern
    slot: int
    started_ns: int    # perf_counter_ns at the key press, for the latency figure
    note: str = ""


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
