"""Modal screens: the key help, the path prompt, the overwrite question, a list to choose from."""

from __future__ import annotations

from typing import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static


class HelpScreen(ModalScreen[None]):
    """Every key of the studio, grouped, generated from the app's key table."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close help")]

    def __init__(self, groups: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        # One grid for every group: a description too long for the line wraps under its own
        # column, not back to the left edge, and the key column is as wide as in every group.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="bold cyan", min_width=15)
        grid.add_column(ratio=1)
        for title, rows in self.groups:
            grid.add_row(Text(title, style="bold underline"), "")
            for keys, what in rows:
                grid.add_row(f"  {keys}", Text(what))
        with Vertical(id="help-box"):
            yield Label("drumfont studio — keys   (esc closes; ctrl+p finds any action)", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(grid, id="help-body")


class PathPrompt(ModalScreen[str | None]):
    """Ask for a file path, pre-filled; enter accepts, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, default: str, hint: str = "enter: write   esc: cancel") -> None:
        super().__init__()
        self.title_text, self.default, self.hint = title, default, hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Input(value=self.default, id="path-input")
            yield Label(self.hint, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; only 'y' says yes."""

    BINDINGS = [Binding("y", "answer(True)", "yes"), Binding("n,escape", "answer(False)", "no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question), classes="dialog-title")
            yield Label("y: yes   n / esc: no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a list (genres, MIDI ports); enter picks, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, choices: Sequence[str], current: str | None = None,
                 note: str = "") -> None:
        super().__init__()
        self.title_text, self.choices, self.current, self.note = title, list(choices), current, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield OptionList(*(Text(c) for c in self.choices), id="choices")
            yield Label(Text(self.note or "enter: choose   esc: cancel"), classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in self.choices:
            options.highlighted = self.choices.index(self.current)
        elif self.choices:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
