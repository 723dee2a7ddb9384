"""The studio's phrase and song keys: move between a phrase's bars, continue it, re-roll its fill;
arrange sections in the song view, draw, play and export the song (a mixin of the app, like
transport.py and groove.py)."""


from __future__ import annotations

import time
from typing import Any, Callable

from textual import work

from drumfont.errors import DrumfontError
from drumfont.tui.messages import SongDrawn, WorkFailed
from drumfont.tui.widgets import (
    PathPrompt,
    SongRow,
    SongTable,
)


class SongMixin:
    """Phrase and song actions (needs: studio, engine, the drawing helpers of the app)."""

    def action_bar(self, delta: int) -> None:
        """Show another bar of the phrase in the grid."""
        s = self.studio
        n = len(s.phrase) if s.phrase is not None else 1
        i = s.move_bar(delta)
        self.refresh_all(save=False)
        fill = " (its fill)" if s.phrase is not None and s.phrase.fills[i] else ""
        self.say(f"bar {i + 1} of {n}{fill}" if n > 1 else "the phrase is one bar: w sets the bars a sample draws")

    def action_phrase_bars(self) -> None:
        n = self.studio.cycle_phrase_bars()
        self.say(f"a sample draws {n} bar{'s' if n > 1 else ''}" + (", a fill in the last" if n > 1 else ""))
        self.refresh_all()

    def action_continue_phrase(self) -> None:
        """Carry the phrase on from the bar in the grid: the bars after it drawn again; from the
        last bar, the phrase grows by as many bars as it has (to at most 8)."""
        s = self.studio
        try:
            head, new = s.continue_plan()
        except DrumfontError as exc:
            self.fail(str(exc))
            return
        phrase = s.phrase
        self.say(f"continuing from bar {len(head)}…")
        # a phrase that ended in a fill ends in one again
        self._start_draw("continue", phrase.head(len(head)), (new, "end" if phrase.fills[-1] else "none"))

    def action_reroll_fill(self) -> None:
        """Draw the phrase's last bar again, as a fill after the bars before it."""
        s = self.studio
        if s.phrase is None or len(s.phrase) < 2:
            self.fail("re-rolling the fill needs a phrase of 2 bars or more (w, then s)")
            return
        self._start_draw("fill", s.phrase)

    def _draw_song(self) -> None:
        s = self.studio
        rows = [SongRow(x.name, x.slot, None if (p := s.phrase_in(x.slot)) is None else len(p), x.repeats)
                for x in s.doc.song]
        bars = s.song_length()
        secs = bars * 4 * 60 / s.transport.bpm
        self._update("#song-head", f"[b]song[/b] · {len(rows)} section{'s' if len(rows) != 1 else ''} · "
                     f"{bars} bars · {int(secs // 60)}:{int(secs % 60):02d} at {s.transport.bpm:g} BPM\n"
                     "[dim]a add · x cut · ←→ slot · +- times · JK move · r name · s draw · e export[/dim]")
        table = self.main.query_one(SongTable)
        if table.rows != rows or table.cursor != s.song_cursor:
            table.show(rows, s.song_cursor)

    # --- the song --------------------------------------------------------------------------
    def _song_edited(self, msg: str) -> None:
        self.refresh_all()
        self._send_song()
        self.say(msg)

    def _song_try(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except DrumfontError as exc:
            self.fail(str(exc))
            return None

    def action_song_select(self, delta: int) -> None:
        self.studio.song_select(delta)
        self.refresh_all(save=False)

    def action_song_add(self) -> None:
        s = self.studio
        if s.phrase is None:
            self.fail(f"slot {s.doc.slot + 1} is empty: sample a phrase into it first (s in the grid)")
            return
        sec = self._song_try(s.song_add)
        if sec is not None:
            self._song_edited(f"added {sec.name} (slot {sec.slot + 1}) to the song (u undoes)")

    def action_song_remove(self) -> None:
        gone = self.studio.song_remove()
        self._song_edited(f"removed {gone.name} from the song (u undoes)" if gone else "the song is empty")

    def action_song_slot(self, delta: int) -> None:
        sec = self._song_try(lambda: self.studio.song_slot(delta))
        if sec is not None:
            self._song_edited(f"{sec.name} plays slot {sec.slot + 1}")

    def action_song_repeats(self, delta: int) -> None:
        sec = self._song_try(lambda: self.studio.song_repeats(delta))
        if sec is not None:
            self._song_edited(f"{sec.name} plays its phrase {sec.repeats} time{'s' if sec.repeats > 1 else ''}")

    def action_song_reorder(self, delta: int) -> None:
        self.studio.song_reorder(delta)
        self._song_edited("section moved")

    def action_song_rename(self) -> None:
        s = self.studio
        if not s.doc.song:
            self.fail("the song is empty: a adds a section")
            return
        sec = s.doc.song[s.song_cursor]

        def named(name: str | None) -> None:
            if name:
                done = self._song_try(lambda: s.song_rename(name))
                if done is not None:
                    self._song_edited(f"section {s.song_cursor + 1} is {done.name}")
        self.push_screen(PathPrompt(f"name section {s.song_cursor + 1}:", sec.name,
                                    "enter: rename   esc: cancel"), named)

    def action_song_draw(self) -> None:
        """Draw every slot the song plays afresh from the engine, as one song: one drummer's feel,
        each section its own variation, a fill in its last bar."""
        s = self.studio
        form = s.song_form()
        if not form:
            self.fail("the song is empty: a adds a section playing the current slot")
            return
        self.say("drawing the song…")
        self._draw_song_worker(s.genre, form, s.temperature, s.next_seed(), time.perf_counter_ns())

    @work(thread=True, exclusive=True, group="song")
    def _draw_song_worker(self, genre: str, form: list[tuple[str, int, int]], temperature: float, seed: int,
                          started_ns: int) -> None:
        self._engine_ready.wait()
        try:
            sections = self.engine.song(genre, [(name, bars) for name, bars, _ in form], temperature, seed)
        except DrumfontError as exc:
            self.post_message(WorkFailed("song", str(exc)))
            return
        self.post_message(SongDrawn({slot: sec for (_, _, slot), sec in zip(form, sections)}, started_ns,
                                    self.engine.phrase_reason))

    def on_song_drawn(self, msg: SongDrawn) -> None:
        self.studio.put_bank(msg.phrases)
        self.last_latency_ms = (time.perf_counter_ns() - msg.started_ns) / 1e6
        self.refresh_all()
        self._send_song() if self._song_playing else self._send_pattern()
        slots = ", ".join(str(i + 1) for i in msg.phrases)
        self.say(f"drew the song: slot{'s' if len(msg.phrases) > 1 else ''} {slots} (u undoes)"
                 + (" (no phrase model: bar 1 again, a rule fill)" if msg.reason else ""))

    def action_play_song(self) -> None:
        """Play the song, looped (or stop it)."""
        if self._song_playing and self.playing:
            self.action_play()
            return
        try:
            bars, _ = self.studio.song_bars()
        except DrumfontError as exc:
            self.fail(str(exc))
            return
        if not bars:
            self.fail("nothing to play: the song is empty (a adds a section)")
            return
        self._play_chain([(b, 1) for b in bars], "song", song=True)

    def action_export_song(self) -> None:
        self._export("song")

