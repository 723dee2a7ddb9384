"""The studio's Groove and Drumify keys: humanise the bar or the bank (undoable), and tap mode
(a count-in, one bar of taps, drumify fills the slot). A mixin of `StudioApp` (app.py).

Tap mode keeps time on `self.clock` (time.monotonic; the tests give a fake one). The click is
the live player playing a hat on every beat when a MIDI port is open, and always the status
line's beat flash. Inference runs in worker threads that post messages back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from textual import work
from textual.message import Message

from drumfont.drums import groove
from drumfont.errors import DrumfontError
from drumfont.live.ports import open_tap_input
from drumfont.score.phrase import Phrase
from drumfont.tui import tap
from drumfont.tui.messages import Drawn, WorkFailed
from drumfont.tui.widgets import ChoiceScreen

NO_PAD = "no pad (keys only)"


@dataclass
class Humanized(Message):
    """Humanised phrases by bank slot, and the genre they were played in (None: no genre)."""

    bars: dict[int, Phrase]
    style: str | None


class GrooveMixin:
    """Humanise and tap-mode actions (needs: studio, player, playing, say, fail, refresh_all,
    _send_pattern, _player, post_message, set_interval)."""

    clock: Callable[[], float] = staticmethod(time.monotonic)
    tap_take: tap.TapTake | None = None
    _tap_timer: Any = None
    _tap_click = False
    _tap_input: Any = None

    # --- humanise ------------------------------------------------------------------------------
    def action_humanize(self) -> None:
        """Humanise the slot's phrase: a drummer's dynamics and timing, the same hits."""
        s = self.studio
        if s.phrase is None or not any(b.hits.any() for b in s.phrase.bars):
            self.say("nothing to humanise: the phrase is empty")
            return
        self._humanize({s.doc.slot: s.phrase}, s.genre, s.temperature, s.next_seed())

    def action_humanize_bank(self) -> None:
        """Humanise every filled slot of the bank, as one undo step."""
        s = self.studio
        phrases = {i: p for i in range(len(s.doc.bank))
                   if (p := s.phrase_in(i)) is not None and any(b.hits.any() for b in p.bars)}
        if not phrases:
            self.say("nothing to humanise: the bank is empty")
            return
        self._humanize(phrases, s.genre, s.temperature, s.next_seed())

    @work(thread=True, group="groove")
    def _humanize(self, phrases: dict[int, Phrase], genre: str, temperature: float, seed: int) -> None:
        try:
            tool = groove.load("humanize")
            style = genre if genre in tool.genres else None
            bars = [b for p in phrases.values() for b in p.bars]
            out = iter(groove.humanize(bars, style, 1.0, temperature, seed, tool, self.studio.transport.bpm))
        except DrumfontError as exc:
            self.post_message(WorkFailed("humanize", str(exc)))
            return
        done = {slot: Phrase(tuple(next(out) for _ in p.bars), p.fills, p.name) for slot, p in phrases.items()}
        self.post_message(Humanized(done, style))

    def on_humanized(self, msg: Humanized) -> None:
        self.studio.put_bank(msg.bars)
        self.refresh_all()
        self._send_pattern()
        where = (f"slot {next(iter(msg.bars)) + 1}" if len(msg.bars) == 1 else f"{len(msg.bars)} slots")
        self.say(f"humanised {where} as {msg.style or 'no genre in particular'} (u undoes, Q straightens)")

    # --- tap mode ------------------------------------------------------------------------------
    def action_tap(self) -> None:
        """Start tap mode (count-in, then one bar of taps); inside it, a tap."""
        if self.tap_take is not None:
            self.tap()
            return
        self.tap_take = tap.TapTake(self.studio.transport.bpm, self.clock())
        self._tap_click = False
        if self.player is not None and not self.playing:
            # The click: the player loops a bar of hats from now, in step with the count-in.
            if self._player("set_pattern", tap.click_pattern(), "now") and self._player("start"):
                self._tap_click = True
        self._tap_timer = self.set_interval(1 / 30, self._tap_tick)
        self._tap_tick()

    def tap(self, velocity: int = tap.TAP_VELOCITY, at: float | None = None) -> None:
        """One tap now, or at a time stamped where it arrived (a pad's note-on, with its velocity)."""
        if self.tap_take is not None:
            self.tap_take.tap(self.clock() if at is None else at, velocity)

    def pad_note(self, velocity: int) -> None:
        """A pad's note-on, on the MIDI input's thread: stamped there, recorded on the UI's."""
        at = self.clock()
        self.call_from_thread(self.tap, velocity, at)

    def action_choose_tap_input(self) -> None:
        """Choose a MIDI input (a pad) whose notes tap in tap mode, or none."""
        names, note = self._port_names("inputs")

        def chosen(name: str | None) -> None:
            if name is None:
                return
            self._close_tap_input()
            if name == NO_PAD:
                self.say("taps: the keyboard only")
                return
            try:
                self._tap_input = open_tap_input(name, self.pad_note)
            except (ImportError, DrumfontError) as exc:
                self.fail(f"tap input: {exc}")
                return
            self.say(f"taps: {name} (its notes tap in tap mode, i starts it)")
        self.push_screen(ChoiceScreen("tap input (a pad)", [NO_PAD] + names, NO_PAD, note[:200]), chosen)

    def _close_tap_input(self) -> None:
        if self._tap_input is not None:
            try:
                self._tap_input.delete()
            except Exception:  # a vanished port may fail to close; it is being dropped anyway
                pass
            self._tap_input = None

    def _tap_tick(self) -> None:
        take = self.tap_take
        if take is None or not self.screen_stack:  # a last tick during shutdown
            return
        now = self.clock()
        phase, beat = take.beat_at(now)
        if phase == "done":
            self._finish_take()
            return
        into = (now - (take.start if phase == "count-in" else take.bar_start)) % take.beat
        flash = "●" if into < take.beat / 4 else "○"
        if phase == "count-in":
            self.say(f"{flash} count-in {beat}/4 — then tap one bar with space or i")
        else:
            self.say(f"{flash} tap! beat {beat}/4, {len(take.taps)} tap(s)")

    def _finish_take(self) -> None:
        take, self.tap_take = self.tap_take, None
        if self._tap_timer is not None:
            self._tap_timer.stop()
            self._tap_timer = None
        if self._tap_click:
            self._player("stop")
            self._tap_click = False
            self._send_pattern()
        taps = take.as_taps()
        if not taps[:, 0].any():
            self.say("no taps in the bar: nothing changed")
            return
        s = self.studio
        self._drumify(taps, s.doc.slot, s.genre, s.temperature, s.next_seed(), time.perf_counter_ns(), s.bar_index)

    @work(thread=True, group="groove")
    def _drumify(self, taps, slot: int, genre: str, temperature: float, seed: int, started_ns: int,
                 bar_index: int = 0) -> None:
        try:
            tool = groove.load("drumify")
            style = genre if genre in tool.genres else None
            bar = groove.drumify(taps, style, 1, temperature, seed, tool)[0][0]
        except DrumfontError as exc:
            self.post_message(WorkFailed("drumify", str(exc)))
            return
        self.post_message(Drawn("drumify", bar, slot, started_ns, f" from {int(taps[:, 0].sum())} taps", bar_index))
