"""The song view's table: one row per section (its name, the slot it plays, the slot's bars, how
many times, the bars in all), the selected row marked, the one playing in green. Its key bindings
(`keys.SONG_KEYS`) act while it has focus and run the app's song actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.text import Text
from textual.widget import Widget

from drumfont.tui.keys import song_bindings


@dataclass(frozen=True)
class SongRow:
    """What one row shows: the section's name, slot (from 0), the slot's bars (None: empty), times."""

    name: str
    slot: int
    bars: int | None
    repeats: int


NAME_WIDTH = 24


class SongTable(Widget, can_focus=True):
    """The song's sections, one a line."""

    BINDINGS = song_bindings()
    DEFAULT_CSS = """
    SongTable { height: auto; width: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[SongRow] = []
        self.cursor = 0
        self.playing: int | None = None

    def show(self, rows: Sequence[SongRow], cursor: int) -> None:
        """Draw a new song."""
        self.rows, self.cursor = list(rows), cursor
        self.refresh(layout=True)

    def set_playing(self, section: int | None) -> None:
        """Mark the section sounding now (None: none)."""
        if section != self.playing:
            self.playing = section
            self.refresh()

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.rows)) + 1

    def render(self) -> Text:
        t = Text(no_wrap=True)
        t.append(f"  #  {'section':<{NAME_WIDTH}} slot  bars   ×   in all\n", style="bold")
        if not self.rows:
            t.append("  no sections yet: pick a slot (1-8), a adds it to the song", style="grey62")
            return t
        for i, row in enumerate(self.rows):
            mark = "▸" if i == self.cursor else " "
            name = row.name if len(row.name) <= NAME_WIDTH else row.name[:NAME_WIDTH - 1] + "…"
            bars = "—" if row.bars is None else str(row.bars)
            total = "empty" if row.bars is None else str(row.bars * row.repeats)
            style = "bold green" if i == self.playing else ("bold" if i == self.cursor else "")
            if row.bars is None:
                style += " red"
            line = f"{mark}{i + 1:>2}  {name:<{NAME_WIDTH}} {row.slot + 1:>4}  {bars:>4}  {row.repeats:>2}   {total:>6}"
            t.append(line + ("\n" if i < len(self.rows) - 1 else ""), style=(style + (" reverse" if i == self.cursor else "")).strip())
        return t
