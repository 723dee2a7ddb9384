"""The studio's song without a screen: sections that each play a bank slot's phrase a number of
times, edited with undo like the bank (a base class of `session.Studio`)."""


from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from drumfont.errors import DrumfontError
from drumfont.score.pattern import Pattern
from drumfont.score.phrase import with_crash
from drumfont.validate import RANGES

MAX_SECTIONS = int(RANGES["song_sections"].hi)
MAX_REPEATS = int(RANGES["section_repeats"].hi)   # times a section plays its slot: 8 bars x 8 = 64, a section's most
MAX_SONG_BARS = int(RANGES["song_bars"].hi)





@dataclass(frozen=True)
class Section:
    """One section of the studio's song: a name, the bank slot whose phrase it plays, how often."""

    name: str
    slot: int
    repeats: int = 1


def _section_name(song: Sequence[Section], slot: int) -> str:
    """A new section's name: the name of a section that plays the slot already, else "part N"."""
    for sec in song:
        if sec.slot == slot:
            return sec.name
    used = {sec.name for sec in song}
    n = 1
    while f"part {n}" in used:
        n += 1
    return f"part {n}"


class SongState:
    """Song arranging on a Studio (needs: doc, bank phrases, the undo checkpoint)."""

    # --- the song --------------------------------------------------------------------------
    def song_length(self, song: Sequence[Section] | None = None) -> int:
        """Bars the song plays (an empty slot's section: none)."""
        return sum(len(p) * sec.repeats for sec in (self.doc.song if song is None else song)
                   if (p := self.phrase_in(sec.slot)) is not None)

    def _set_song(self, song: list[Section], cursor: int) -> None:
        if len(song) > MAX_SECTIONS:
            raise DrumfontError(f"a song has at most {MAX_SECTIONS} sections")
        if self.song_length(song) > MAX_SONG_BARS:
            raise DrumfontError(f"that would make the song {self.song_length(song)} bars; "
                                f"a song has at most {MAX_SONG_BARS}")
        self._checkpoint()
        self.doc.song = song
        self.song_cursor = max(0, min(cursor, len(song) - 1))

    def song_add(self, name: str | None = None) -> Section:
        """A section playing the current slot, after the selected one (undoable)."""
        song = list(self.doc.song)
        at = min(self.song_cursor + 1, len(song))
        sec = Section(name or _section_name(song, self.doc.slot), self.doc.slot, 1)
        song.insert(at, sec)
        self._set_song(song, at)
        return sec

    def song_remove(self) -> Section | None:
        """Remove the selected section (undoable)."""
        if not self.doc.song:
            return None
        song = list(self.doc.song)
        gone = song.pop(self.song_cursor)
        self._set_song(song, min(self.song_cursor, len(song) - 1))
        return gone

    def song_select(self, delta: int) -> int:
        if self.doc.song:
            self.song_cursor = (self.song_cursor + delta) % len(self.doc.song)
        return self.song_cursor

    def song_reorder(self, delta: int) -> int:
        """Move the selected section up (-1) or down (+1) the song (undoable)."""
        song, i = list(self.doc.song), self.song_cursor
        j = i + delta
        if not song or not 0 <= j < len(song):
            return i
        song[i], song[j] = song[j], song[i]
        self._set_song(song, j)
        return j

    def _edit_section(self, **change: Any) -> Section | None:
        if not self.doc.song:
            return None
        song = list(self.doc.song)
        song[self.song_cursor] = replace(song[self.song_cursor], **change)
        self._set_song(song, self.song_cursor)
        return song[self.song_cursor]

    def song_slot(self, delta: int) -> Section | None:
        """The selected section plays the next (previous) filled slot."""
        filled = [i for i in range(len(self.doc.bank)) if self.doc.bank[i] is not None]
        if not self.doc.song or not filled:
            return None
        cur = self.doc.song[self.song_cursor].slot
        later = [i for i in filled if (i - cur) * delta > 0]
        nxt = (min(later, key=lambda i: abs(i - cur)) if later else (filled[0] if delta > 0 else filled[-1]))
        return self._edit_section(slot=nxt)

    def song_repeats(self, delta: int) -> Section | None:
        """Play the selected section's phrase more (fewer) times: 1..MAX_REPEATS."""
        if not self.doc.song:
            return None
        n = int(np.clip(self.doc.song[self.song_cursor].repeats + delta, 1, MAX_REPEATS))
        return self._edit_section(repeats=n)

    def song_rename(self, name: str) -> Section | None:
        name = " ".join(str(name).split())[:40]
        if not name:
            raise DrumfontError("a section needs a name")
        return self._edit_section(name=name)

    def song_form(self) -> list[tuple[str, int, int]]:
        """What the engine draws for the song: (name, bars, slot) for each slot the song plays, in
        order of first appearance, named after its first section, as long as the slot's phrase (a
        sample's length where the slot is empty)."""
        out: dict[int, tuple[str, int, int]] = {}
        for sec in self.doc.song:
            if sec.slot not in out:
                p = self.phrase_in(sec.slot)
                out[sec.slot] = (sec.name, len(p) if p is not None else self.phrase_bars, sec.slot)
        return list(out.values())

    def song_bars(self) -> tuple[list[Pattern], list[int]]:
        """The song as bars, and the section each bar belongs to: each section's phrase as often as
        it repeats, a crash on the downbeat after a fill that ends a section. An empty slot's
        section is an error naming it."""
        bars: list[Pattern] = []
        owner: list[int] = []
        prev_fill = False
        if self.song_length() > MAX_SONG_BARS:  # slots grew (continue) after the song was made
            raise DrumfontError(f"the song is {self.song_length()} bars; a song has at most {MAX_SONG_BARS} "
                                "(- plays a section fewer times)")
        for i, sec in enumerate(self.doc.song):
            p = self.phrase_in(sec.slot)
            if p is None:
                raise DrumfontError(f"section {i + 1} ({sec.name}) plays slot {sec.slot + 1}, which is empty")
            for r in range(sec.repeats):
                for j, bar in enumerate(p.bars):
                    bars.append(with_crash(bar) if j == 0 and r == 0 and i > 0 and prev_fill else bar)
                    owner.append(i)
            prev_fill = p.fills[-1]
        return bars, owner

