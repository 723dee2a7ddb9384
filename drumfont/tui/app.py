"""The studio: a Textual app over a `Studio` session, the drum engine, the live player and the
letter GAN. Inference and port work run in `@work(thread=True)` workers that post messages back
(`messages.py`); the clock runs in the live player, where the UI cannot stall it.

`make_app()` builds the app for the CLI and for the tests alike.
"""

from __future__ import annotations

import os
import re
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Input, Static

from drumfont import paths
from drumfont.drums.engine import Engine, RulesEngine, load_engine
from drumfont.errors import DrumfontError
from drumfont.live.ports import BACKENDS
from drumfont.score.notemap import load_notemap
from drumfont.score.pattern import LABELS, VOICES, Pattern
from drumfont.score.phrase import Phrase
from drumfont.tui import session as st
from drumfont.tui.groove import GrooveMixin
from drumfont.tui.keys import KEYS, PALETTE_EXTRA, SONG_KEYS, bindings, help_groups
from drumfont.tui.letters import LettersMixin
from drumfont.tui.live import open_live_player
from drumfont.tui.messages import Drawn, EngineReady, WorkFailed
from drumfont.tui.morph import MorphMixin
from drumfont.tui.song import SongMixin
from drumfont.tui.transport import VIRTUAL_PORT, TransportMixin
from drumfont.tui.widgets import (
    ChoiceScreen,
    HalfBlockImage,
    HelpScreen,
    MorphStrip,
    SongTable,
    StepGrid,
)

VIEWS = ("grid-view", "morph-view", "letters-view", "song-view")
_STUDIO_ACTIONS = ({k.action.split("(")[0] for k in KEYS + SONG_KEYS} | {a.split("(")[0] for a, _ in PALETTE_EXTRA}
                   | {"select_slot"}) - {"quit", "command_palette", "noop"}
_DONE = {"sample": "sampled", "variation": "re-rolled the variation of", "style": "re-rolled the style of",
         "transfer": "transferred to", "drumify": "drumified the taps as", "continue": "continued",
         "fill": "re-rolled the fill of"}


class StudioApp(SongMixin, MorphMixin, LettersMixin, GrooveMixin, TransportMixin, App[None]):
    """drumfont studio."""

    CSS_PATH = "app.tcss"
    TITLE = "drumfont studio"
    BINDINGS = bindings()
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, data_dir: Path, engine: Engine | None = None,
                 player_factory: Callable[[st.Transport], Any] | None = None,
                 letters_renderer: Callable[[str, int, int], Any] | None = None,
                 export_dir: Path | None = None, preset: str | None = None, rules: bool = False,
                 midi: bool = True, notemap: str | None = None, audio: bool = True,
                 audio_device: str | None = None, letters_preset: str | None = None,
                 midi_backend: str | None = None, phrase_preset: str | None = None) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.studio, self._session_note = st.open_session(self.data_dir)
        if notemap is not None:
            load_notemap(notemap)  # a DrumfontError (exit 2 on the CLI) before the screen opens
            self.studio.transport.notemap = notemap
        self.engine: Engine = engine or RulesEngine("the drum model is loading")
        self._engine_ready = threading.Event()
        self._preset, self._rules, self._phrase_preset = preset, rules, phrase_preset
        if engine is not None:
            self._engine_ready.set()
            self._adopt_genres()
        self.midi_backend = midi_backend              # --backend: the MIDI system (None: the first that starts)
        self.player_factory = player_factory or partial(open_live_player, audio_device=audio_device,
                                                        backend=midi_backend)
        self.midi, self.audio = midi, audio
        self.player: Any = None
        self.player_reason: str | None = ("opening the player" if self.effective_output() != "none"
                                          else self.no_output_reason())
        self.playing = False
        self._chain_playing = False
        self._song_playing = False
        self._song_owner: list[int] = []   # the section of each bar of the song that plays
        self.letters_renderer = letters_renderer
        self.letters_preset = letters_preset          # the conditional GAN (default: shipped)
        self.letters_path: Path | None = None
        self._typefaces: dict[int, Any] = {}          # seed -> traced Typeface (a second to build)
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
            with Vertical(id="song-view"):
                yield Static(id="song-head")
                with VerticalScroll(id="song-scroll"):
                    yield SongTable(id="song")
            with Vertical(id="letters-view"):
                yield Input(value=self.studio.letters_text, placeholder="type text, enter renders",
                            id="letters-input")
                yield Static(id="letters-info")
                yield HalfBlockImage("enter renders the text in the GAN's typeface; ctrl+n re-rolls it, "
                                     "ctrl+f / ctrl+b colours, ctrl+g SVG, ctrl+s saves the font",
                                     id="letters-image")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        s = self.studio
        if not any(p is not None for p in s.doc.bank):
            # A first start shows a groove at once, from the rules (no model load to wait for).
            rules = RulesEngine()
            genre = s.genre if s.genre in rules.genres else rules.genres[0]  # a user model's genre
            s.doc.bank[0] = rules.phrase(genre, s.phrase_bars, st.sample_fill(s.phrase_bars), s.temperature,
                                         s.next_seed())
        self.refresh_all(save=True)
        self.main.query_one(StepGrid).focus()
        if self._session_note:
            self.notify(self._session_note, severity="warning", timeout=10, markup=False)
            self.say(self._session_note)
        else:
            self.say("ready — s samples, space plays, ? shows every key")
        if not self._engine_ready.is_set():
            # the model loads after the first frame is on screen (the rules' groove is drawn meanwhile)
            self.call_after_refresh(self.load_engine)
        if self.effective_output() != "none":
            self.open_player()
        self.set_interval(1 / 30, self.poll_player)

    # --- drawing ---------------------------------------------------------------------------
    def say(self, msg: str) -> None:
        """Put a line in the status bar."""
        self._update("#status", msg, markup=False)

    def fail(self, msg: str, status: str | None = None) -> None:
        """An error the user can act on: a notification and the status line (`status`, a one-line
        form of a long `msg`), never a crash."""
        self._last_error = msg
        self.say(f"error: {status or msg}")
        self.notify(msg, severity="error", timeout=8, markup=False)

    def play_off(self) -> None:
        """Why play is off, as a pop-up that fits an 80×24 screen: each output's reason on its
        own lines, without the MIDI library's own error text (`drumfont ports` shows that)."""
        reasons = _clauses(self.player_reason or "")
        self.fail("play is off\n" + "\n".join(_brief(r) for r in reasons),
                  "play is off: " + "; ".join(_gist(r) for r in reasons))

    def refresh_all(self, save: bool = True) -> None:
        """Redraw every view from the session; autosave; keep the player in step."""
        s = self.studio
        phrase = s.phrase
        self.main.query_one(StepGrid).show(s.current, s.cursor, s.mutes, s.solos, s.bar_index,
                                           phrase.fills if phrase is not None else (False,))
        self._update("#transport", self._transport_line())
        self._update("#side", self._side_text())
        self._draw_morph()
        self._draw_song()
        if save:
            self.autosave()

    def _update(self, selector: str, content: str, markup: bool = True) -> None:
        # A Static update re-lays the screen out; skipping unchanged ones keeps a key press cheap.
        # Text from outside (typed words, paths, port names, errors) goes in without markup.
        if self._shown.get(selector) != content:
            self._shown[selector] = content
            self.main.query_one(selector, Static).update(content if markup else Text(content),
                                                         layout=False)  # fixed sizes in app.tcss

    def _transport_line(self) -> str:
        s, tr = self.studio, self.studio.transport
        play = "▶" if self.playing else "■"
        port = escape(tr.port or VIRTUAL_PORT) if self.midi_open() else "MIDI off"
        clock = "clock out" if tr.clock_out else "clock off"
        if tr.notemap != "gm":
            clock += f" · {escape(Path(tr.notemap).stem)}"
        follow = f" · follow {escape(tr.follow)}" if tr.follow else " · link" if tr.link else ""
        times = f" ×{tr.bars}" if tr.bars > 1 else ""
        return (f"[b]{s.genre}[/b] T{s.temperature:.1f} │ {play} {tr.bpm:g} BPM swing {tr.swing:g}% "
                f"{s.phrase_bars}-bar{times} │ → {port} │ {clock}{follow}")

    def _side_text(self) -> str:
        s = self.studio
        lines = ["[b]bank[/b]"]
        for i in range(len(s.doc.bank)):
            p = s.phrase_in(i)
            mark = "▸" if i == s.doc.slot else " "
            desc = "—" if p is None else (f"{len(p)} bar{'s' if len(p) > 1 else ' '} "
                                          f"{sum(int(b.hits.sum()) for b in p.bars):>3} hits"
                                          + (" f" if p.fills[-1] else ""))
            lines.append(f"{mark}{i + 1} {desc}")
        ab = " ".join(f"{w.upper()}: {'—' if p is None else f'{int(p.hits.sum())} hits'}"
                      for w, p in (("a", s.doc.a), ("b", s.doc.b)))
        lines.append(ab)
        eng = self.engine.name if self._engine_ready.is_set() else "loading…"
        lines.append(f"engine: {eng}")
        if self.engine.reason and not self.engine.can_morph and self._engine_ready.is_set():
            lines.append(f"[dim]morph/transfer off: {escape(_short(self.engine.reason))}[/dim]")
        if self.studio.transport.output != "both":
            lines.append(f"out: {self.studio.transport.output}")
        if self.studio.transport.link:   # the Ableton Link session: who is in it
            # (not whether the session plays: a newcomer to a playing session cannot know, link.py)
            state = self.player.link_state() if self.player is not None else None
            if state is None:
                lines.append("link: joining…" if self.player is not None else "link: on")
            else:
                lines.append("link: alone" if state[0] == 0 else f"link: {state[0]} peer{'s' if state[0] != 1 else ''}")
        if self.player is None:
            for reason in _clauses(self.player_reason or ""):
                lines.append(f"[dim]{escape(_gist(reason))}[/dim]")
        else:
            port, audio = getattr(self.player, "port_name", ""), getattr(self.player, "audio_name", "")
            if port or not audio:
                lines.append(f"port: {escape(port or 'open')}")
            if audio:
                lines.append(f"audio: {escape(_short(audio.split(': ', 1)[-1]))}")
            for what, why in getattr(self.player, "off", {}).items():
                lines.append(f"[dim]{escape(_gist(f'{what} off: {why}'))}[/dim]")
        return "\n".join(lines)

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
    def main(self) -> Screen:
        """The studio's own screen, under any dialog that is open (App.query_one would search
        the dialog, and a worker's result may land while one is)."""
        return self.screen_stack[0]

    @property
    def view(self) -> str:
        return self.main.query_one(ContentSwitcher).current or "grid-view"

    # --- engine and drawing bars (workers) ---------------------------------------------------
    @work(thread=True, exclusive=True, group="engine")
    def load_engine(self) -> None:
        engine = load_engine(self._preset, self._rules, fallback=True, phrase_preset=self._phrase_preset)
        self.post_message(EngineReady(engine))

    def _adopt_genres(self) -> None:
        # A session saved with another model's genre falls back to this engine's first.
        if self.studio.genre not in self.engine.genres:
            self.studio.genre = self.engine.genres[0]

    def on_engine_ready(self, msg: EngineReady) -> None:
        self.engine = msg.engine
        self._engine_ready.set()
        self._adopt_genres()
        self.say(f"engine: {self.engine.name}" + (f" ({self.engine.reason})" if self.engine.reason else ""))
        self.refresh_all(save=False)

    @work(thread=True, group="draw")
    def _draw(self, kind: str, slot: int, genre: str, temperature: float, seed: int,
              pattern: Pattern, started_ns: int, bar: int = 0,
              work_args: tuple[Phrase | None, Any] = (None, 1)) -> None:
        self._engine_ready.wait()
        e = self.engine
        phrase, bars = work_args
        try:
            result: Pattern | Phrase
            note = ""
            if kind == "sample":
                result = e.phrase(genre, bars, st.sample_fill(bars), temperature, seed)
                note = f": {bars} bar{'s' if bars > 1 else ''}" + (" (no phrase model: bar 1 again, a rule fill)"
                                                                    if e.phrase_reason and bars > 1 else "")
            elif kind in ("variation", "style"):
                result = e.reroll(pattern, keep="style" if kind == "variation" else "variation",
                                  genre=genre, temperature=temperature, seed=seed)
                note = "" if e.can_morph else " (rules: a fresh bar)"
            elif kind == "transfer":
                result = e.transfer_phrase(phrase, genre)
            elif kind == "continue":
                head, (new, fill) = phrase.bars, bars
                more = e.continue_phrase(head, new, genre, temperature, seed, fill)
                result = Phrase(tuple(head) + tuple(more),
                                phrase.fills + (False,) * (len(more) - 1) + (fill == "end",), phrase.name)
                note = f": {len(more)} new bar{'s' if len(more) > 1 else ''} after bar {len(head)}"
            elif kind == "fill":
                result = e.reroll_fill(phrase, genre, temperature, seed)
                note = "" if e.phrase_reason is None else " (no phrase model: a rule fill)"
            else:
                raise ValueError(kind)
        except DrumfontError as exc:
            self.post_message(WorkFailed(kind, str(exc)))
            return
        self.post_message(Drawn(kind, result, slot, started_ns, note, bar))

    def on_drawn(self, msg: Drawn) -> None:
        s = self.studio
        if isinstance(msg.pattern, Phrase):
            s.put(msg.slot, msg.pattern)
        else:
            s.put_bar(msg.slot, msg.bar, msg.pattern)
        self.refresh_all()
        self._send_pattern()
        self.last_latency_ms = (time.perf_counter_ns() - msg.started_ns) / 1e6
        where = f"slot {msg.slot + 1}" if isinstance(msg.pattern, Phrase) else f"bar {msg.bar + 1} of slot {msg.slot + 1}"
        if msg.kind in ("continue", "fill"):
            self.say(f"{_DONE[msg.kind]} {where} in {s.genre}{msg.note}")
        else:
            self.say(f"{_DONE[msg.kind]} {s.genre} into {where}{msg.note}")

    def on_work_failed(self, msg: WorkFailed) -> None:
        if msg.what == "letters":
            self._update("#letters-info", f"no letters: {msg.error}", markup=False)
        self.fail(f"{msg.what}: {msg.error}")

    def _start_draw(self, kind: str, phrase: Phrase | None = None, bars: Any = 1) -> None:
        s = self.studio
        self._draw(kind, s.doc.slot, s.genre, s.temperature, s.next_seed(), s.current, time.perf_counter_ns(),
                   s.bar_index, (phrase, bars))

    def action_sample(self) -> None:
        """Sample a new phrase of the genre (`phrase_bars` long, a fill in its last bar) into the slot."""
        self._start_draw("sample", bars=self.studio.phrase_bars)

    def action_reroll(self, which: str) -> None:
        """Re-roll the variation (new z_low) or the style (new z_high)."""
        self._start_draw(which)

    def action_transfer(self) -> None:
        """Choose a genre and transfer the current bar to it."""
        if self._engine_ready.is_set() and not self.engine.can_morph:
            self.fail(f"style transfer is off: {self.engine.reason}")
            return

        if self.studio.phrase is None:
            self.fail("the slot is empty: s samples a phrase")
            return

        def chosen(genre: str | None) -> None:
            if genre:
                self.studio.genre = genre
                self._start_draw("transfer", self.studio.phrase)
        self.push_screen(ChoiceScreen("transfer the phrase to which genre?", self.engine.genres,
                                      self.studio.genre), chosen)

    def action_genre(self, delta: int) -> None:
        g = self.studio.cycle_genre(self.engine.genres, delta)
        self.say(f"genre: {g}")
        self.refresh_all()

    def action_temperature(self, delta: float) -> None:
        t = self.studio.nudge_temperature(delta)
        self.say(f"temperature {t:.1f}" + ("" if self.engine.can_morph else " (the genre rules ignore it)"))
        self.refresh_all()

    # --- editing ---------------------------------------------------------------------------
    def _edited(self, msg: str | None = None) -> None:
        self.refresh_all()
        self._send_pattern()
        self._send_song()
        if msg:
            self.say(msg)

    def action_move(self, dstep: int, dvoice: int) -> None:
        self.studio.move(dstep, dvoice)
        self.refresh_all(save=False)

    def action_toggle(self) -> None:
        self.studio.toggle()
        step, voice = self.studio.cursor
        vel = int(self.studio.current.velocities[step, voice])
        if vel and not self.playing:  # as on a drum machine: a step put in sounds at once
            self._player("audition", voice, vel)
        self._edited(f"{LABELS[voice]} step {step + 1}: "
                     f"{'hit' if self.studio.current.velocities[step, voice] else 'rest'}")

    def action_velocity(self, delta: int) -> None:
        self.studio.nudge_velocity(delta)
        step, voice = self.studio.cursor
        self._edited(f"{LABELS[voice]} step {step + 1}: velocity {self.studio.current.velocities[step, voice]}")

    def action_straighten(self) -> None:
        if self.studio.straighten():
            self._edited("bar straightened: every hit on its sixteenth (u undoes)")
        else:
            self.say("the bar is already on the grid")

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
        p = self.studio.phrase
        self._edited(f"slot {slot + 1}" + (" (empty: s samples)" if p is None else
                                           f": {len(p)} bar{'s' if len(p) > 1 else ''}"))

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

    # --- views -----------------------------------------------------------------------------
    def action_view(self, name: str) -> None:
        self.main.query_one(ContentSwitcher).current = name
        if name == "letters-view":
            self.main.query_one("#letters-input", Input).focus()
        elif name == "song-view":
            self.main.query_one(SongTable).focus()
        else:
            self.main.query_one(StepGrid).focus()

    def action_next_view(self) -> None:
        self.action_view(VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)])

    def action_prev_view(self) -> None:
        self.action_view(VIEWS[(VIEWS.index(self.view) - 1) % len(VIEWS)])

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_groups()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Under a dialog (prompt, help, a list) the studio's keys stay with the dialog: tab,
        # ctrl+e and the letters go to the path being typed, not to the grid behind it.
        if len(self.screen_stack) > 1 and action in _STUDIO_ACTIONS:
            return False
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for k in KEYS:
            if k.action in ("noop", "command_palette", "help"):
                continue
            yield SystemCommand(k.description.capitalize(), f"key: {k.shown_as or k.keys}",
                                partial(self.call_later, self.run_action, k.action))
        for k in SONG_KEYS:
            yield SystemCommand(k.description.capitalize(), f"key in the song view: {k.shown_as or k.keys}",
                                partial(self.call_later, self.run_action, k.action))
        for action, desc in PALETTE_EXTRA:
            yield SystemCommand(desc.capitalize(), "", partial(self.call_later, self.run_action, action))
        yield SystemCommand("Show every key", "key: ?", self.action_help)

    # --- letters ---------------------------------------------------------------------------
    @on(Input.Submitted, "#letters-input")  # here, not in LettersMixin: Textual collects @on per App class
    def _letters_submitted(self, event: Input.Submitted) -> None:
        self.studio.letters_text = event.value
        self.action_letters_render()

    async def action_quit(self) -> None:
        self.autosave()
        self.exit()

    def on_unmount(self) -> None:
        self._close_tap_input()
        if self.player is not None:
            try:
                self.player.close()
            except Exception:  # closing a vanished port must not turn quitting into a crash
                pass


def _clauses(reasons: str) -> list[str]:
    """Reasons joined by '; ', split again: not at a '; ' inside parentheses (an audio reason
    lists its outputs that way), and a clause that says nothing is off ('jack: no server', a
    second backend of 'MIDI off: no MIDI system could start: alsa: ...; jack: ...') stays with
    the 'X off: ...' before it."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(reasons):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and reasons.startswith("; ", i):
            parts.append(reasons[start:i])
            start = i + 2
    out: list[str] = []
    for part in parts + [reasons[start:]]:
        if out and " off: " in out[-1] and not re.search(r"\boff\b", part):
            out[-1] += "; " + part
        else:
            out.append(part)
    return out


def _gist(reason: str) -> str:
    """A reason whole but short, for the side panel and the status line: what is off and the
    first clause of why ('MIDI off: no MIDI system could start (alsa, jack)'), never cut in a
    word; a reason that names no output ('MIDI is off (--no-midi)') is what play is off by."""
    if " off: " not in reason:
        return f"play off: {_short(reason, 60)}"
    what, why = reason.split(" off: ", 1)
    first = re.split(r": |; | \(|\. ", why, maxsplit=1)[0].strip()
    tried = re.findall(rf"\b({'|'.join(BACKENDS)}): ", why)
    return f"{what} off: {first}" + (f" ({', '.join(tried)})" if tried else "")


def _brief(reason: str) -> str:
    """A reason without the parts only a developer reads: the MIDI library's own error text
    ('(MidiOutAlsa::initialize: ...)')."""
    return re.sub(r"\s*\([^()]*::[^()]*\)", "", reason).strip()


def _short(reason: str, limit: int = 48, cut: str = ":") -> str:
    """The first clause of a reason, for the side panel (the status line has it whole)."""
    first = re.split(f"[;({cut}]", reason, maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[:limit - 1] + "…"


def make_app(data_dir: str | os.PathLike | None = None, **kwargs: Any) -> StudioApp:
    """The studio app, for the CLI and the tests: `data_dir` defaults to the user's data folder."""
    return StudioApp(Path(data_dir) if data_dir else paths.data_dir(), **kwargs)
