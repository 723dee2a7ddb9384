"""The 16x9 step grid (cursor, accents, lean, mutes, playhead) and the strip of small morph grids.

Where a hit leans: the column after each cell (a space on the grid) marks a hit played off its
sixteenth, pointing the way it leans -- `x‹` early, `x›` late by 0.1 to 0.3 of a sixteenth, `x«`
/ `x»` by 0.3 or more (up to half a sixteenth, the most an offset holds) -- so the 80x24 layout
and the text-form characters stay as they are. Under 0.1 is on the grid, no mark.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widget import Widget

from drumfont.score.pattern import LABELS, N_VOICES, STEPS, Pattern, level_char

# One character per level, as in the text form, so a screen capture reads like `to_text`.
CELL_CHAR = {".": "·", "o": "o", "x": "x", "X": "X"}
CELL_STYLE = {".": "grey42", "o": "cyan", "x": "bold yellow", "X": "bold red"}
PLAYHEAD_BG = "on grey23"
LEAN_SLIGHT, LEAN_STRONG = 0.1, 0.3   # of a sixteenth: where a mark appears, where it doubles
LEAN_STYLE = {"early": "bold deep_sky_blue1", "late": "bold orange1"}


def lean_mark(offset: float) -> tuple[str, str]:
    """The mark after a cell for a hit's offset (' ' on the grid) and its style."""
    if offset <= -LEAN_STRONG:
        return "«", LEAN_STYLE["early"]
    if offset <= -LEAN_SLIGHT:
        return "‹", LEAN_STYLE["early"]
    if offset >= LEAN_STRONG:
        return "»", LEAN_STYLE["late"]
    if offset >= LEAN_SLIGHT:
        return "›", LEAN_STYLE["late"]
    return " ", ""


def lean_words(offset: float) -> str:
    """A hit's timing for the cursor line: '+0.25 late', '-0.12 early', 'on the grid'."""
    if abs(offset) < 0.005:
        return "on the grid"
    return f"{offset:+.2f} {'early' if offset < 0 else 'late'}"


class StepGrid(Widget, can_focus=True):
    """The bar being edited: one row per voice, one column per sixteenth, grouped by beat; under it,
    the phrase's bars (the one shown in reverse, fills marked f, the one playing in green)."""

    DEFAULT_CSS = """
    StepGrid { width: 43; height: 13; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pattern = Pattern.empty()
        self.cursor: tuple[int, int] = (0, 0)
        self.playhead: int | None = None
        self.mutes: set[int] = set()
        self.solos: set[int] = set()
        self.bar = 0
        self.fills: tuple[bool, ...] = (False,)
        self.playing_bar: int | None = None

    def show(self, pattern: Pattern, cursor: tuple[int, int], mutes: set[int], solos: set[int],
             bar: int = 0, fills: Sequence[bool] = (False,)) -> None:
        """Draw a new state: the bar `bar` of a phrase whose bars' fill flags are `fills`."""
        self.pattern, self.cursor, self.mutes, self.solos = pattern, cursor, set(mutes), set(solos)
        self.bar, self.fills = bar, tuple(fills) or (False,)
        self.refresh()

    def set_playing_bar(self, bar: int | None) -> None:
        """Mark the phrase's bar that is sounding (None: none)."""
        if bar != self.playing_bar:
            self.playing_bar = bar
            self.refresh()

    def set_playhead(self, step: int | None) -> None:
        """Move the playhead column (None hides it)."""
        if step != self.playhead:
            self.playhead = step
            self.refresh()

    def render(self) -> Text:
        t = Text(no_wrap=True)
        t.append("   ")
        for beat in range(4):
            t.append("│", style="grey35")
            t.append(f"{beat + 1}       ", style="bold")
        t.append("\n")
        vel, timing = self.pattern.velocities, self.pattern.offsets
        for voice in range(N_VOICES):
            audible = (voice in self.solos) if self.solos else (voice not in self.mutes)
            label_style = "bold" if audible else "grey42 strike"
            if voice == self.cursor[1]:
                label_style += " underline"
            t.append(f"{LABELS[voice]} ", style=label_style)
            for step in range(STEPS):
                if step % 4 == 0:
                    t.append("│", style="grey35")
                c = level_char(int(vel[step, voice]))
                style = CELL_STYLE[c] if audible else "grey42"
                if step == self.playhead:
                    style += " " + PLAYHEAD_BG
                if (step, voice) == self.cursor:
                    style += " reverse"
                t.append(CELL_CHAR[c], style=style)
                mark, mark_style = lean_mark(float(timing[step, voice])) if c != "." else (" ", "")
                if not audible and mark != " ":
                    mark_style = "grey42"
                if step == self.playhead:
                    mark_style += " " + PLAYHEAD_BG
                t.append(mark, style=mark_style)
            flags = ("M" if voice in self.mutes else " ") + ("S" if voice in self.solos else " ")
            t.append(f" {flags}\n", style="bold magenta")
        t.append("   ")
        for step in range(STEPS):
            if step % 4 == 0:
                t.append(" ")
            t.append("▲ " if step == self.playhead else "  ", style="bold green")
        step, voice = self.cursor
        v = int(vel[step, voice])
        lean = f" {lean_words(float(timing[step, voice]))}" if self.pattern.timed else ""
        t.append(f"\n   step {step + 1:>2} {LABELS[voice]} vel {v:>3}{lean}" if v else
                 f"\n   step {step + 1:>2} {LABELS[voice]} rest", style="grey62")
        t.append_text(self.bar_strip())
        return t

    def bar_strip(self) -> Text:
        """`bar 2/4  1 [2] 3 4f` : the bar shown, the phrase's bars, fills marked f."""
        n = len(self.fills)
        t = Text(no_wrap=True)
        t.append(f"\n   bar {self.bar + 1}/{n} ", style="bold")
        for i, fill in enumerate(self.fills):
            label = f"{i + 1}{'f' if fill else ''}"
            style = "bold green" if i == self.playing_bar else ""
            if i == self.bar:
                t.append(f"[{label}]", style=(style + " bold reverse").strip())
            else:
                t.append(f" {label} ", style=style or "grey62")
        if n > 1:
            t.append("  < >", style="grey50")
        return t


def mini_grid(pattern: Pattern) -> list[Text]:
    """A bar as 5 lines of 16 half-block cells: voices (0,1), (2,3), ... share a line, the upper
    voice in the top half of the cell. Small enough to put nine side by side in rows of four."""
    hits = pattern.hits
    lines = []
    for top in range(0, N_VOICES, 2):
        t = Text(no_wrap=True)
        for step in range(STEPS):
            up = bool(hits[step, top])
            down = bool(hits[step, top + 1]) if top + 1 < N_VOICES else False
            ch = "█" if up and down else "▀" if up else "▄" if down else "·" if step % 4 == 0 else " "
            t.append(ch, style="yellow" if (up or down) else "grey35")
        lines.append(t)
    return lines


class MorphStrip(Widget):
    """The morph A -> B as a strip of small grids, wrapped into rows to fit the width."""

    DEFAULT_CSS = """
    MorphStrip { height: auto; width: 1fr; }
    """
    CARD = 18  # 16 cells + a gap of 2

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.patterns: list[Pattern] = []
        self.labels: list[str] = []

    def show(self, patterns: Sequence[Pattern], labels: Sequence[str]) -> None:
        """Draw a new strip."""
        self.patterns, self.labels = list(patterns), list(labels)
        self.refresh(layout=True)

    def _per_row(self, width: int) -> int:
        return max(1, (width or 80) // self.CARD)

    def get_content_height(self, container, viewport, width: int) -> int:
        rows = -(-len(self.patterns) // self._per_row(width)) if self.patterns else 1
        return rows * 7

    def render(self) -> Text:
        if not self.patterns:
            return Text("no morph yet: put bars in A and B (a, b), then press M", style="grey62")
        per_row = self._per_row(self.size.width)
        out = Text(no_wrap=True)
        for start in range(0, len(self.patterns), per_row):
            chunk = list(range(start, min(start + per_row, len(self.patterns))))
            grids = {i: mini_grid(self.patterns[i]) for i in chunk}
            for i in chunk:
                out.append(f"{self.labels[i]:<{self.CARD}}", style="bold")
            out.append("\n")
            for line in range(5):
                for i in chunk:
                    out.append_text(grids[i][line])
                    out.append("  ")
                out.append("\n")
            out.append("\n")
        return out
