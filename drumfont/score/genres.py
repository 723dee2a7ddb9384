"""The genres drumfont knows, written down once: the CLI, the studio, the player, the datasets and
the rules all read these."""

from __future__ import annotations

from typing import Sequence

from drumfont.errors import DrumfontError

# The rule corpus plays these five, in this order (its label indices follow it, and the shipped
# models' genre tables start with them).
RULE_GENRES: tuple[str, ...] = ("rock", "jazz", "hiphop", "electronic", "latin")
# The model learned from real drummers (Groove MIDI Dataset) adds two more.
GENRES: tuple[str, ...] = RULE_GENRES + ("funk", "afrobeat")


def check_genre(genre: str, known: Sequence[str] = GENRES) -> str:
    """The genre, trimmed and lower-cased, or a DrumfontError listing the known ones."""
    g = genre.strip().lower()
    if g not in known:
        raise DrumfontError(f"unknown genre {genre!r}; choose from {', '.join(known)}")
    return g
