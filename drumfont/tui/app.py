"""The studio: a Textual app over a `Studio` session, the drum engine, the live player and the
letter GAN. Inference and port work run in `@work(thread=True)` workers that post messages back
(`messages.py`); the clock runs in the live player, where the UI cannot stall it.

`make_app()` builds the app for the CLI and for the tests alike.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Input, Static

from drumfont import studio as st
from drumfont.errors import DrumfontError
from drumfont.pattern import LABELS, VOICES, Pattern
from drumfont.tui.messages import Drawn, EngineReady, LettersRendered, Morphed, WorkFailed
from drumfont.tui.widgets import (ChoiceScreen, ConfirmScreen, HalfBlockImage, HelpScreen, MorphStrip,
                                  PathPrompt, StepGrid)

VIEWS = ("grid-view", "morph-view", "letters-view")
VIRTUAL_PORT = "drumfont (virtual)"
INTERNAL_CLOCK = "internal clock"


@dataclass(frozen=True)
class Key:
    """One row of the key table: binding, action, what it does, help group, footer or not."""

    keys: str
    action: str
    description: str
    group: str
    show: bool = False
    shown_as: str = ""   # how help prints the keys, where the binding names are unfriendly
    short: str = ""      # the footer's label


# The one key table: the bindings, the help screen and the command palette are all made from it,
# so no action can miss from any of them.
KEYS: tuple[Key, ...] = (
    Key("s", "sample", "sample a new bar of the genre", "Sound", True, short="sample"),
    Key("r", "reroll('variation')", "re-roll the variation (keep the style)", "Sound"),
    Key("R", "reroll('style')", "re-roll the style (keep the variation)", "Sound"),
    Key("g", "genre(1)", "next genre", "Sound", True, short="genre"),
    Key("G", "genre(-1)", "previous genre", "Sound"),
    Key("t", "temperature(0.1)", "temperature up", "Sound"),
    Key("T", "temperature(-0.1)", "temperature down", "Sound"),
    Key("f", "transfer", "transfer the bar to another genre (keeps its rhythm)", "Sound"),
    Key("left,h", "move(-1,0)", "cursor left", "Edit", shown_as="← h"),
    Key("right,l", "move(1,0)", "cursor right", "Edit", shown_as="→ l"),
    Key("up,k", "move(0,-1)", "cursor up (voice)", "Edit", shown_as="↑ k"),
    Key("down,j", "move(0,1)", "cursor down (voice)", "Edit", shown_as="↓ j"),
    Key("enter,x", "toggle", "toggle the step", "Edit", True, "enter x", "toggle"),
    Key("plus,equals_sign", "velocity(12)", "velocity up (X = accent)", "Edit", shown_as="+ ="),
    Key("minus", "velocity(-12)", "velocity down (o = ghost)", "Edit", shown_as="-"),
    Key("c", "clear_voice", "clear the voice under the cursor", "Edit"),
    Key("m", "mute", "mute / unmute the voice", "Edit"),
    Key("S", "solo", "solo / unsolo the voice", "Edit"),
    Key("u", "undo", "undo", "Edit", True, short="undo"),
    Key("U,ctrl+y", "redo", "redo", "Edit", shown_as="U ctrl+y"),
    Key("1,2,3,4,5,6,7,8", "noop", "select bank slot 1-8", "Bank", shown_as="1..8"),
    Key("d", "duplicate", "copy the bar to the next empty slot", "Bank"),
    Key("D", "clear_slot", "empty the slot", "Bank"),
    Key("a", "set_ab('a')", "put the bar in slot A", "Morph"),
    Key("b", "set_ab('b')", "put the bar in slot B", "Morph"),
    Key("M", "morph", "morph A -> B (shows the morph view)", "Morph", True, short="morph"),
    Key("L", "morph_level", "morph level: high / low / both", "Morph"),
    Key("n", "morph_steps(1)", "more morph steps", "Morph"),
    Key("N", "morph_steps(-1)", "fewer morph steps", "Morph"),
    Key("P", "play_morph", "play the morph as a chain", "Morph"),
    Key("p", "play_bank", "play the bank as a chain", "Transport"),
    Key("space", "play", "play / stop", "Transport", True, short="play"),
    Key("right_square_bracket", "tempo(1)", "tempo +1 BPM", "Transport", shown_as="]"),
    Key("left_square_bracket", "tempo(-1)", "tempo -1 BPM", "Transport", shown_as="["),
    Key("right_curly_bracket", "tempo(10)", "tempo +10 BPM", "Transport", shown_as="}"),
    Key("left_curly_bracket", "tempo(-10)", "tempo -10 BPM", "Transport", shown_as="{"),
    Key("full_stop", "swing(2)", "more swing", "Transport", shown_as="."),
    Key("comma", "swing(-2)", "less swing", "Transport", shown_as=","),
    Key("B", "bars", "bars per pattern: 1 / 2 / 4 / 8", "Transport"),
    Key("O", "choose_port", "choose the MIDI output port", "Transport"),
    Key("C", "clock_out", "MIDI clock out on / off", "Transport"),
    Key("F", "choose_follow", "follow an external clock (or not)", "Transport"),
    Key("e", "export", "export the bar (the morph in the morph view)", "Files", True, short="export"),
    Key("E", "export_bank", "export the bank as one .mid", "Files"),
    Key("ctrl+e", "export_morph", "export the morph as one .mid", "Files"),
    Key("ctrl+n", "letters_reroll", "letters: re-roll the typeface", "Letters"),
    Key("tab", "next_view", "next view: grid / morph / letters", "Views", True, short="view"),
    Key("shift+tab", "prev_view", "previous view", "Views"),
    Key("escape", "view('grid-view')", "back to the grid", "Views"),
    Key("question_mark", "help", "this help", "Views", True, "?", "keys"),
    Key("ctrl+p", "command_palette", "command palette: every action by name", "Views", shown_as="ctrl+p"),
    Key("q", "quit", "quit (the session is saved)", "Views", True, short="quit"),
)
# The palette runs these by name; 'noop' stands for the slot keys, offered one by one instead.
PALETTE_EXTRA = tuple((f"select_slot({i})", f"select bank slot {i + 1}") for i in range(st.BANK_SLOTS)) + (
    ("view('morph-view')", "show the morph view"), ("view('letters-view')", "show the letters pane"),
    ("letters_render", "letters: render the text"))


def _bindings() -> list[Binding]:
    out = []
    for k in KEYS:
        if k.action == "noop":
            out += [Binding(str(i + 1), f"select_slot({i})", f"slot {i + 1}", show=False)
                    for i in range(st.BANK_SLOTS)]
            continue
        if k.action == "command_palette":
            continue  # App's own binding
        priority = k.keys in ("tab", "shift+tab", "ctrl+n", "ctrl+e")
        out.append(Binding(k.keys, k.action, k.short or k.description.split(" (")[0], show=k.show,
                           priority=priority))
    return out


def open_live_player(transport: st.Transport, port: Any = None) -> Any:
    """The live player on the transport's port (a virtual 'drumfont' port by default), opened;
    `port` may be any object with send(msg), e.g. a RecordingPort. LiveMidiError without MIDI."""
    from drumfont.live import Player, PortSpec

    target = port if port is not None else PortSpec(name=transport.port, virtual="drumfont")
    player = Player(port=target, notemap=transport.notemap, bpm=transport.bpm, swing=transport.swing,
                    gate=transport.gate, clock_out=transport.clock_out)
    with _real_stderr():
        return player.open()


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """Textual swaps sys.stderr for an object whose fileno() is -1, and multiprocessing's spawn
    (the player's clock process, its resource tracker) passes that number on and fails: hand it
    the process's real stderr while the clock starts."""
    saved = sys.stderr
    try:
        ok = saved is not None and saved.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        ok = False
    if not ok and sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = saved


class StudioApp(App[None]):
    """drumfont studio."""

    CSS_PATH = "app.tcss"
    TITLE = "drumfont studio"
    BINDINGS = _bindings()
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, data_dir: Path, engine: st.Engine | None = None,
                 player_factory: Callable[[st.Transport], Any] | None = None,
                 letters_renderer: Callable[[str, int, int], Any] | None = None,
                 export_dir: Path | None = None, preset: str | None = None, rules: bool = False,
                 midi: bool = True) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.studio, self._session_note = st.open_session(self.data_dir)
        self.engine: st.Engine = engine or st.RulesEngine("the drum model is loading")
        self._engine_ready = threading.Event()
        self._preset, self._rules = preset, rules
        if engine is not None:
            self._engine_ready.set()
        self.player_factory = player_factory or open_live_player
        self.midi = midi
        self.player: Any = None
        self.player_reason: str | None = "opening the MIDI port" if midi else "MIDI is off (--no-midi)"
        self.playing = False
        self._chain_playing = False
        self.letters_renderer = letters_renderer
        self.letters_path: Path | None = None
        self.last_latency_ms: float | None = None
        self._save_error_shown = False
        self._last_error: str | None = None
        self._shown: dict[str, str] = {}

    # --- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="transport")
        with ContentSwitcher(initial="grid-view", id="views"):
            with Horizontal(id="grid-view"):
                yield StepGrid(id="grid")
                yield Static(id="side")
            with Vertical(id="morph-view"):
                yield Static(id="morph-head")
                with VerticalScroll(id="strip-scroll"):
                    yield MorphStrip(id="strip")
            with Vertical(id="letters-view"):
                yield Input(value=self.studio.letters_text, placeholder="type text, enter renders",
                            id="letters-input")
                yield Static(id="letters-info")
                yield HalfBlockImage("enter renders the text with the letter GAN; ctrl+n re-rolls the "
                                     "typeface", id="letters-image")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        s = self.studio
        if not any(p is not None for p in s.doc.bank):
            # A first start shows a groove at once, from the rules (no model load to wait for).
            s.doc.bank[0] = st.RulesEngine().sample(s.genre, s.temperature, s.next_seed())
        self.refresh_all(save=True)
        self.query_one(StepGrid).focus()
        if self._session_note:
            self.notify(self._session_note, severity="warning", timeout=10)
            self.say(self._session_note)
        else:
            self.say("ready — s samples, space plays, ? shows every key")
        if not self._engine_ready.is_set():
            self.load_engine()
        if self.midi:
            self.open_player()
        self.set_interval(1 / 30, self.poll_player)

    # --- drawing ---------------------------------------------------------------------------
    def say(self, msg: str) -> None:
        """Put a line in the status bar."""
        self._update("#status", msg)

    def fail(self, msg: str) -> None:
        """An error the user can act on: a notification and the status line, never a crash."""
        self._last_error = msg
        self.say(f"error: {msg}")
        self.notify(msg, severity="error", timeout=8)

    def refresh_all(self, save: bool = True) -> None:
        """Redraw every view from the session; autosave; keep the player in step."""
        s = self.studio
        self.query_one(StepGrid).show(s.current, s.cursor, s.mutes, s.solos)
        self._update("#transport", self._transport_line())
        self._update("#side", self._side_text())
        self._draw_morph()
        if save:
            self.autosave()

    def _update(self, selector: str, content: str) -> None:
        # A Static update re-lays the screen out; skipping unchanged ones keeps a key press cheap.
        if self._shown.get(selector) != content:
            self._shown[selector] = content
            self.query_one(selector, Static).update(content, layout=False)  # fixed sizes in app.tcss

    def _transport_line(self) -> str:
        s, tr = self.studio, self.studio.transport
        play = "▶ playing" if self.playing else "■ stopped"
        port = tr.port or "drumfont (virtual)"
        clock = "clock out" if tr.clock_out else "no clock out"
        follow = f" · follow {tr.follow}" if tr.follow else ""
        return (f"[b]{s.genre}[/b] T{s.temperature:.1f} │ {play} {tr.bpm:g} BPM swing {tr.swing:g}% "
                f"{tr.bars} bar{'s' if tr.bars > 1 else ''} │ {port} · {clock}{follow}")

    def _side_text(self) -> str:
        s = self.studio
        lines = ["[b]bank[/b]"]
        for i, p in enumerate(s.doc.bank):
            mark = "▸" if i == s.doc.slot else " "
            desc = "—" if p is None else f"{int(p.hits.sum()):>2} hits"
            lines.append(f"{mark}{i + 1} {desc}")
        ab = " ".join(f"{w.upper()}: {'—' if p is None else f'{int(p.hits.sum())} hits'}"
                      for w, p in (("a", s.doc.a), ("b", s.doc.b)))
        lines.append(ab)
        eng = self.engine.name if self._engine_ready.is_set() else "loading…"
        lines.append(f"engine: {eng}")
        if self.engine.reason and not self.engine.can_morph and self._engine_ready.is_set():
            lines.append(f"[dim]morph/transfer off: {_short(self.engine.reason)}[/dim]")
        if self.player is None:
            lines.append(f"[dim]play off: {_short(self.player_reason or '')}[/dim]")
        else:
            lines.append(f"port: {getattr(self.player, 'port_name', '') or 'open'}")
        return "\n".join(lines)

    def _draw_morph(self) -> None:
        s = self.studio
        head = (f"[b]morph[/b] A → B · level [b]{s.morph_level}[/b] · {s.morph_steps} steps · "
                f"A {'set' if s.doc.a else '—'} · B {'set' if s.doc.b else '—'}")
        if not self.engine.can_morph and self._engine_ready.is_set():
            head += f"\n[dim]morph is off: {self.engine.reason}[/dim]"
        else:
            head += "\n[dim]M morph · L level · n/N steps · P play chain · e export[/dim]"
        self._update("#morph-head", head)
        n = len(s.morph)
        labels = ["A" if i == 0 else "B" if i == n - 1 else f"{i}" for i in range(n)]
        strip = self.query_one(MorphStrip)
        if strip.patterns != s.morph or strip.labels != labels:
            strip.show(s.morph, labels)

    def autosave(self) -> None:
        """Write the session now, atomically; a failure is shown once, then retried silently."""
        try:
            self.studio.save(self.data_dir / st.SESSION_FILE)
            self._save_error_shown = False
        except DrumfontError as exc:
            if not self._save_error_shown:
                self._save_error_shown = True
                self.fail(f"autosave failed: {exc}")

    @property
    def view(self) -> str:
        return self.query_one(ContentSwitcher).current or "grid-view"

    # --- engine and drawing bars (workers) ---------------------------------------------------
    @work(thread=True, exclusive=True, group="engine")
    def load_engine(self) -> None:
        engine = st.load_engine(self._preset, self._rules)
        self.post_message(EngineReady(engine))

    def on_engine_ready(self, msg: EngineReady) -> None:
        self.engine = msg.engine
        self._engine_ready.set()
        if self.studio.genre not in self.engine.genres:
            self.studio.genre = self.engine.genres[0]
        self.say(f"engine: {self.engine.name}" + (f" ({self.engine.reason})" if self.engine.reason else ""))
        self.refresh_all(save=False)

    @work(thread=True, group="draw")
    def _draw(self, kind: str, slot: int, genre: str, temperature: float, seed: int,
              pattern: Pattern, started_ns: int) -> None:
        self._engine_ready.wait()
        e = self.engine
        try:
            if kind == "sample":
                p, note = e.sample(genre, temperature, seed), ""
            elif kind in ("variation", "style"):
                p = e.reroll(pattern, keep="style" if kind == "variation" else "variation",
                             genre=genre, temperature=temperature, seed=seed)
                note = "" if e.can_morph else " (rules: a fresh bar)"
            elif kind == "transfer":
                p, note = e.transfer(pattern, genre), ""
            else:
                raise ValueError(kind)
        except DrumfontError as exc:
            self.post_message(WorkFailed(kind, str(exc)))
            return
        self.post_message(Drawn(kind, p, slot, started_ns, note))

    def on_drawn(self, msg: Drawn) -> None:
        self.studio.put(msg.slot, msg.pattern)
        self.refresh_all()
        self._send_pattern()
        self.last_latency_ms = (time.perf_counter_ns() - msg.started_ns) / 1e6
        what = {"sample": "sampled", "variation": "re-rolled the variation of",
                "style": "re-rolled the style of", "transfer": "transferred to"}[msg.kind]
        self.say(f"{what} {self.studio.genre} into slot {msg.slot + 1}{msg.note}")

    def on_work_failed(self, msg: WorkFailed) -> None:
        self.fail(f"{msg.what}: {msg.error}")

    def _start_draw(self, kind: str) -> None:
        s = self.studio
        self._draw(kind, s.doc.slot, s.genre, s.temperature, s.next_seed(), s.current, time.perf_counter_ns())

    def action_sample(self) -> None:
        """Sample a new bar of the genre into the current slot."""
        self._start_draw("sample")

    def action_reroll(self, which: str) -> None:
        """Re-roll the variation (new z_low) or the style (new z_high)."""
        self._start_draw(which)

    def action_transfer(self) -> None:
        """Choose a genre and transfer the current bar to it."""
        if self._engine_ready.is_set() and not self.engine.can_morph:
            self.fail(f"style transfer is off: {self.engine.reason}")
            return

        def chosen(genre: str | None) -> None:
            if genre:
                self.studio.genre = genre
                self._start_draw("transfer")
        self.push_screen(ChoiceScreen("transfer the bar to which genre?", self.engine.genres,
                                      self.studio.genre), chosen)

    def action_genre(self, delta: int) -> None:
        g = self.studio.cycle_genre(self.engine.genres, delta)
        self.say(f"genre: {g}")
        self.refresh_all()

    def action_temperature(self, delta: float) -> None:
        t = self.studio.nudge_temperature(delta)
        self.say(f"temperature {t:.1f}")
        self.refresh_all()

    # --- editing ---------------------------------------------------------------------------
    def _edited(self, msg: str | None = None) -> None:
        self.refresh_all()
        self._send_pattern()
        if msg:
            self.say(msg)

    def action_move(self, dstep: int, dvoice: int) -> None:
        self.studio.move(dstep, dvoice)
        self.refresh_all(save=False)

    def action_toggle(self) -> None:
        self.studio.toggle()
        step, voice = self.studio.cursor
        self._edited(f"{LABELS[voice]} step {step + 1}: "
                     f"{'hit' if self.studio.current.velocities[step, voice] else 'rest'}")

    def action_velocity(self, delta: int) -> None:
        self.studio.nudge_velocity(delta)
        step, voice = self.studio.cursor
        self._edited(f"{LABELS[voice]} step {step + 1}: velocity {self.studio.current.velocities[step, voice]}")

    def action_clear_voice(self) -> None:
        self.studio.clear_voice()
        self._edited(f"cleared {VOICES[self.studio.cursor[1]]}")

    def action_mute(self) -> None:
        voice = self.studio.cursor[1]
        on_ = self.studio.toggle_mute()
        self._player("set_mute", voice, on_)
        self._edited(f"{VOICES[voice]} {'muted' if on_ else 'unmuted'}")

    def action_solo(self) -> None:
        voice = self.studio.cursor[1]
        on_ = self.studio.toggle_solo()
        self._player("set_solo", voice, on_)
        self._edited(f"{VOICES[voice]} {'soloed' if on_ else 'unsoloed'}")

    def action_undo(self) -> None:
        if self.studio.undo():
            self._edited("undone")
        else:
            self.say("nothing to undo")

    def action_redo(self) -> None:
        if self.studio.redo():
            self._edited("redone")
        else:
            self.say("nothing to redo")

    # --- bank and A/B ------------------------------------------------------------------------
    def action_select_slot(self, slot: int) -> None:
        self.studio.select_slot(slot)
        self._edited(f"slot {slot + 1}" + ("" if self.studio.doc.bank[slot] else " (empty: s samples)"))

    def action_duplicate(self) -> None:
        try:
            j = self.studio.copy_to_next_empty()
        except DrumfontError as exc:
            self.fail(str(exc))
            return
        self._edited(f"copied to slot {j + 1}")

    def action_clear_slot(self) -> None:
        self.studio.clear_slot()
        self._edited(f"slot {self.studio.doc.slot + 1} emptied (u undoes)")

    def action_set_ab(self, which: str) -> None:
        self.studio.set_ab(which)
        self._edited(f"slot {self.studio.doc.slot + 1} → {which.upper()}")

    # --- morph -----------------------------------------------------------------------------
    def action_morph(self) -> None:
        """Interpolate A -> B at the chosen level and show the strip."""
        s = self.studio
        self.query_one(ContentSwitcher).current = "morph-view"
        if self._engine_ready.is_set() and not self.engine.can_morph:
            self.fail(f"morph is off: {self.engine.reason}")
            return
        if s.doc.a is None or s.doc.b is None:
            self.fail("put bars in A and B first: a and b copy the current bar there")
            return
        self.say(f"morphing at the {s.morph_level} level…")
        self._morph(s.doc.a, s.doc.b, s.morph_steps, s.morph_level)

    @work(thread=True, exclusive=True, group="morph")
    def _morph(self, a: Pattern, b: Pattern, steps: int, level: str) -> None:
        self._engine_ready.wait()
        try:
            out = self.engine.interpolate(a, b, steps, level)
        except DrumfontError as exc:
            self.post_message(WorkFailed("morph", str(exc)))
            return
        self.post_message(Morphed(out, level))

    def on_morphed(self, msg: Morphed) -> None:
        self.studio.morph = list(msg.patterns)
        self.refresh_all()
        self.say(f"morph: {len(msg.patterns)} bars at the {msg.level} level (P plays, e exports)")

    def action_morph_level(self) -> None:
        lvl = self.studio.cycle_morph_level()
        self.say(f"morph level: {lvl}")
        self.refresh_all()

    def action_morph_steps(self, delta: int) -> None:
        n = self.studio.set_morph_steps(self.studio.morph_steps + delta)
        self.say(f"morph steps: {n}")
        self.refresh_all()

    # --- views -----------------------------------------------------------------------------
    def action_view(self, name: str) -> None:
        self.query_one(ContentSwitcher).current = name
        if name == "letters-view":
            self.query_one("#letters-input", Input).focus()
        else:
            self.query_one(StepGrid).focus()

    def action_next_view(self) -> None:
        self.action_view(VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)])

    def action_prev_view(self) -> None:
        self.action_view(VIEWS[(VIEWS.index(self.view) - 1) % len(VIEWS)])

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_groups()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for k in KEYS:
            if k.action in ("noop", "command_palette", "help"):
                continue
            yield SystemCommand(k.description.capitalize(), f"key: {k.shown_as or k.keys}",
                                partial(self.call_later, self.run_action, k.action))
        for action, desc in PALETTE_EXTRA:
            yield SystemCommand(desc.capitalize(), "", partial(self.call_later, self.run_action, action))
        yield SystemCommand("Show every key", "key: ?", self.action_help)

    # --- export ----------------------------------------------------------------------------
    def action_export(self) -> None:
        self._export("morph" if self.view == "morph-view" else "bar")

    def action_export_bank(self) -> None:
        self._export("bank")

    def action_export_morph(self) -> None:
        self._export("morph")

    def _export(self, kind: str) -> None:
        s = self.studio
        patterns = {"bar": [s.current], "bank": s.bank_patterns(), "morph": s.morph}[kind]
        if not patterns or (kind == "bar" and not s.current.hits.any()):
            self.fail({"bar": "the bar is empty", "bank": "the bank is empty",
                       "morph": "no morph yet: press M first"}[kind])
            return
        default = str(self.export_dir / st.default_export_name(kind, s))

        def write(path: str | None, force: bool = False) -> None:
            if not path:
                self.say("export cancelled")
                return
            target = Path(path).expanduser()
            if not target.is_absolute():
                target = self.export_dir / target
            if target.exists() and not force:
                self.push_screen(ConfirmScreen(f"{target} exists. Overwrite it?"),
                                 lambda yes: write(path, True) if yes else self.say("not overwritten"))
                return
            try:
                out = st.export_patterns(target, patterns, s.transport, force=force,
                                         name=f"drumfont {s.genre} {kind}")
            except DrumfontError as exc:
                self.fail(f"export: {exc}")
                return
            self.say(f"wrote {len(patterns)} bar{'s' if len(patterns) > 1 else ''} to {out}")
            self.notify(f"wrote {out}", timeout=4)
        self.push_screen(PathPrompt(f"export the {kind} ({len(patterns)} bar"
                                    f"{'s' if len(patterns) > 1 else ''}) to:", default), write)

    # --- letters ---------------------------------------------------------------------------
    @on(Input.Submitted, "#letters-input")
    def _letters_submitted(self, event: Input.Submitted) -> None:
        self.studio.letters_text = event.value
        self.action_letters_render()

    def action_letters_render(self) -> None:
        s = self.studio
        s.letters_text = self.query_one("#letters-input", Input).value
        self.autosave()
        self.query_one("#letters-info", Static).update(f"rendering {s.letters_text!r} (typeface {s.letters_seed})…")
        self._render_letters(s.letters_text, s.letters_seed, s.letters_scale)

    def action_letters_reroll(self) -> None:
        self.studio.letters_seed += 1
        if self.view != "letters-view":
            self.action_view("letters-view")
        self.action_letters_render()

    @work(thread=True, exclusive=True, group="letters")
    def _render_letters(self, text: str, seed: int, scale: int) -> None:
        try:
            if self.letters_renderer is not None:
                image = self.letters_renderer(text, seed, scale)
            else:
                from drumfont import letters
                image = letters.render_text(text, seed=seed, scale=scale)
            slug = re.sub(r"[^A-Za-z]+", "-", text.strip()).strip("-").upper() or "TEXT"
            path = self.data_dir / "letters" / f"{slug[:40]}-{seed}.png"
            from drumfont.letters import write_png
            # Same text and seed draw the same image, so replacing that file loses nothing.
            write_png(image, path, force=True)
        except ImportError as exc:
            self.post_message(WorkFailed("letters", f"the letter GAN is not installed ({exc.name})"))
            return
        except DrumfontError as exc:
            self.post_message(WorkFailed("letters", str(exc)))
            return
        self.post_message(LettersRendered(image, path, text, seed))

    def on_letters_rendered(self, msg: LettersRendered) -> None:
        self.letters_path = msg.path
        self.query_one(HalfBlockImage).show(msg.image)
        self.query_one("#letters-info", Static).update(f"typeface {msg.seed} · PNG: {msg.path}")
        self.say(f"letters: wrote {msg.path}")

    # --- transport and the player ------------------------------------------------------------
    @work(thread=True, exclusive=True, group="player")
    def open_player(self) -> None:
        """Open (or reopen) the live player on the transport's port, off the UI thread."""
        old, self.player = self.player, None
        if old is not None:
            try:
                old.close()
            except Exception:  # a port that vanished may fail to close; we are replacing it
                pass
        try:
            player = self.player_factory(self.studio.transport)
        except ImportError as exc:
            self.call_from_thread(self._player_opened, None, f"the live player is not installed ({exc.name})")
            return
        except DrumfontError as exc:
            self.call_from_thread(self._player_opened, None, str(exc))
            return
        except Exception as exc:  # a MIDI library failing in a way we did not foresee: play off, no crash
            self.call_from_thread(self._player_opened, None, f"the MIDI player failed: {exc!r}")
            return
        self.call_from_thread(self._player_opened, player, None)

    def _player_opened(self, player: Any, reason: str | None) -> None:
        self.player, self.player_reason = player, reason
        self.playing = False
        if player is None:
            self.say(f"play is off: {reason}")
        else:
            tr = self.studio.transport
            self._player("set_tempo", tr.bpm)
            self._player("set_swing", tr.swing)
            self._player("set_gate", tr.gate)
            self._player("set_clock_out", tr.clock_out)
            for v in self.studio.mutes:
                self._player("set_mute", v, True)
            for v in self.studio.solos:
                self._player("set_solo", v, True)
            if tr.follow:
                self._player("follow", tr.follow)
            self._send_pattern()
        self.refresh_all(save=False)

    def _player(self, method: str, *args: Any) -> bool:
        """Call the player; a MIDI failure becomes a notification, never a crash."""
        if self.player is None:
            return False
        try:
            getattr(self.player, method)(*args)
        except DrumfontError as exc:
            self.fail(f"MIDI: {exc}")
            return False
        return True

    def _send_pattern(self, at: str = "bar") -> None:
        if self.player is None or self._chain_playing:
            return
        bars = self.studio.transport.bars
        if bars > 1:
            self._player("set_chain", [(self.studio.current, bars)], True)
        else:
            self._player("set_pattern", self.studio.current, at)

    def action_play(self) -> None:
        """Play or stop the current bar (or the chain that is playing)."""
        if self.player is None:
            self.fail(f"play is off: {self.player_reason}")
            return
        if self.playing:
            if self._player("stop"):
                self.playing = False
                self.query_one(StepGrid).set_playhead(None)
        else:
            self._chain_playing = False
            self._send_pattern("now")
            if self._player("start"):
                self.playing = True
        self.say("playing" if self.playing else "stopped")
        self.refresh_all(save=False)

    def _play_chain(self, patterns: list[Pattern], what: str) -> None:
        if self.player is None:
            self.fail(f"play is off: {self.player_reason}")
            return
        if not patterns:
            self.fail(f"nothing to play: the {what} is empty")
            return
        bars = self.studio.transport.bars
        if self._player("set_chain", [(p, bars) for p in patterns], True):
            self._chain_playing = True
            if not self.playing and self._player("start"):
                self.playing = True
            self.say(f"playing the {what}: {len(patterns)} bars, looped")
        self.refresh_all(save=False)

    def action_play_morph(self) -> None:
        self._play_chain(self.studio.morph, "morph")

    def action_play_bank(self) -> None:
        self._play_chain(self.studio.bank_patterns(), "bank")

    def action_tempo(self, delta: float) -> None:
        bpm = self.studio.nudge_tempo(delta)
        self._player("set_tempo", bpm)
        self.say(f"tempo {bpm:g} BPM")
        self.refresh_all()

    def action_swing(self, delta: float) -> None:
        sw = self.studio.nudge_swing(delta)
        self._player("set_swing", sw)
        self.say(f"swing {sw:g}%")
        self.refresh_all()

    def action_bars(self) -> None:
        n = self.studio.cycle_bars()
        self._send_pattern()
        self.say(f"{n} bar{'s' if n > 1 else ''} per pattern")
        self.refresh_all()

    def action_clock_out(self) -> None:
        tr = self.studio.transport
        tr.clock_out = not tr.clock_out
        self._player("set_clock_out", tr.clock_out)
        self.say(f"MIDI clock out {'on' if tr.clock_out else 'off'}")
        self.refresh_all()

    def _port_names(self, kind: str) -> tuple[list[str], str]:
        try:
            from drumfont.live import ports
            listing = ports.list_ports()
        except ImportError:
            return [], "the live MIDI code is not installed"
        except DrumfontError as exc:
            return [], str(exc)
        names: list[str] = []
        errors = []
        for backend, found in listing.items():
            if "error" in found:
                errors.append(f"{backend}: {found['error']}")
            names += [n for n in found.get(kind, []) if n not in names]
        return names, "; ".join(errors)

    def action_choose_port(self) -> None:
        names, note = self._port_names("outputs")
        names = [n for n in names if "drumfont" not in n.lower()]  # not our own virtual port

        def chosen(name: str | None) -> None:
            if name is None:
                return
            self.studio.transport.port = None if name == VIRTUAL_PORT else name
            self.refresh_all()
            self.say(f"output: {name}")
            if self.midi:
                self.open_player()
        self.push_screen(ChoiceScreen("MIDI output", [VIRTUAL_PORT] + names,
                                      self.studio.transport.port or VIRTUAL_PORT, note[:200]), chosen)

    def action_choose_follow(self) -> None:
        names, note = self._port_names("inputs")

        def chosen(name: str | None) -> None:
            if name is None:
                return
            follow = None if name == INTERNAL_CLOCK else name
            self.studio.transport.follow = follow
            self._player("follow", follow)
            self.say(f"clock: {name}")
            self.refresh_all()
        self.push_screen(ChoiceScreen("clock source", [INTERNAL_CLOCK] + names,
                                      self.studio.transport.follow or INTERNAL_CLOCK, note[:200]), chosen)

    def poll_player(self) -> None:
        """Move the playhead; show a player error (a vanished port) once."""
        if self.player is None:
            return
        try:
            err = self.player.error()
            ph = self.player.playhead() if self.playing else None
        except DrumfontError as exc:
            err, ph = str(exc), None
        if err and err != self._last_error:
            self.fail(f"MIDI: {err}")
        self.query_one(StepGrid).set_playhead(None if ph is None else ph[1])

    async def action_quit(self) -> None:
        self.autosave()
        self.exit()

    def on_unmount(self) -> None:
        if self.player is not None:
            try:
                self.player.close()
            except Exception:  # closing a vanished port must not turn quitting into a crash
                pass


def _short(reason: str, limit: int = 48) -> str:
    """The first clause of a reason, for the side panel (the status line has it whole)."""
    first = re.split(r"[;(:]", reason, maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[:limit - 1] + "…"


def help_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The key table grouped for the help screen."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for k in KEYS:
        groups.setdefault(k.group, []).append((k.shown_as or k.keys.replace(",", " "), k.description))
    return list(groups.items())


def make_app(data_dir: str | os.PathLike | None = None, **kwargs: Any) -> StudioApp:
    """The studio app, for the CLI and the tests: `data_dir` defaults to the user's data folder."""
    return StudioApp(Path(data_dir) if data_dir else st.data_dir(), **kwargs)
