"""The studio's transport and live player: play / stop, chains, tempo, swing, bars, note map,
clock out, ports, follow mode and Ableton Link, the playhead. A mixin of `StudioApp` (app.py), kept apart so
that each file reads in one sitting.

The player's setters return at once (one message down a pipe to the clock process); opening a
port can take a while, so it runs in a worker thread.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import work

from drumfont.errors import DrumfontError
from drumfont.live import link as lk
from drumfont.live import ports
from drumfont.score.notemap import available_notemaps
from drumfont.score.pattern import Pattern
from drumfont.tui.session import OUTPUTS
from drumfont.tui.widgets import ChoiceScreen, SongTable, StepGrid
from drumfont.validate import RANGES

VIRTUAL_PORT = "drumfont (virtual)"
INTERNAL_CLOCK = "internal clock"


class TransportMixin:
    """Transport actions of the studio app (needs: studio, player, player_factory, midi, main,
    say, fail, refresh_all, push_screen, call_from_thread)."""

    @work(thread=True, exclusive=True, group="player")
    def open_player(self) -> None:
        """Open (or reopen) the live player on the transport's port, off the UI thread."""
        old, self.player = self.player, None
        if old is not None:
            try:
                old.close()
            except Exception:  # a port that vanished may fail to close; we are replacing it
                pass
        out = self.effective_output()
        if out == "none":
            self.call_from_thread(self._player_opened, None, self.no_output_reason())
            return
        try:
            player = self.player_factory(replace(self.studio.transport, output=out))
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
            for what, why in getattr(player, "off", {}).items():
                self.say(f"{what} is off: {why}")
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
                self._player("follow", tr.follow, self.midi_backend)
            elif tr.link:
                if lk.missing():   # a session saved where aalink was installed
                    tr.link = False
                    self.say(f"Link is off: {lk.missing()}")
                else:
                    self._player("set_link", lk.DEFAULT_QUANTUM)
            self._send_pattern()
        self.refresh_all(save=False)

    def midi_open(self) -> bool:
        """Whether notes go out on a MIDI port now, or will once the player opens: the header
        names the port only then."""
        if self.effective_output() not in ("both", "midi"):
            return False
        if self.player is None:
            return self.player_reason == "opening the player"
        return "MIDI" not in getattr(self.player, "off", {})

    def effective_output(self) -> str:
        """Where play sounds: the transport's choice less what --no-midi / --no-audio switched off."""
        out = self.studio.transport.output
        midi = self.midi and out in ("both", "midi")
        audio = self.audio and out in ("both", "audio")
        return "both" if midi and audio else "midi" if midi else "audio" if audio else "none"

    def no_output_reason(self) -> str:
        """Why nothing plays when effective_output() is 'none'."""
        out = self.studio.transport.output
        if out == "none":
            return "output is none (A chooses MIDI / audio / both)"
        why = []
        if out in ("both", "midi") and not self.midi:
            why.append("MIDI is off (--no-midi)")
        if out in ("both", "audio") and not self.audio:
            why.append("audio is off (--no-audio)")
        return "; ".join(why)

    def action_output(self) -> None:
        """Cycle where play sounds: both / built-in kit / MIDI / none; reopen the player."""
        tr = self.studio.transport
        tr.output = OUTPUTS[(OUTPUTS.index(tr.output) + 1) % len(OUTPUTS)]
        self.say(f"output: {tr.output}" + (f" ({self.no_output_reason()})"
                                            if self.effective_output() == "none" else ""))
        self.open_player()
        self.refresh_all()

    def action_audition(self) -> None:
        """Sound the voice under the cursor on the built-in kit."""
        step, voice = self.studio.cursor
        vel = int(self.studio.current.velocities[step, voice]) or 100
        if self.player is None or not getattr(self.player, "audio_name", ""):
            self.fail("audition needs the built-in kit: A chooses audio or both")
            return
        self._player("audition", voice, vel)

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
        """Give the player the slot's phrase, looped: one bar as a pattern (or a chain of its
        repeats), several as a chain that, after an edit, goes on from the bar it was at."""
        if self.player is None or self._chain_playing:
            return
        phrase = self.studio.phrase
        if phrase is not None and len(phrase) > 1:
            self._player("set_chain", [(b, 1) for b in phrase.bars], True, at, at == "bar")
            return
        bars = self.studio.transport.bars
        if bars > 1:
            self._player("set_chain", [(self.studio.current, bars)], True)
        else:
            self._player("set_pattern", self.studio.current, at)

    def _send_song(self) -> None:
        """After an edit, the song that plays goes on with the edited song from where it was."""
        if self.player is None or not self._song_playing:
            return
        try:
            bars, self._song_owner = self.studio.song_bars()
        except DrumfontError as exc:
            self.fail(str(exc))
            return
        if bars:
            self._player("set_chain", [(b, 1) for b in bars], True, "bar", True)

    def action_play(self) -> None:
        """Play or stop the current bar (or the chain that is playing); in tap mode, a tap."""
        if getattr(self, "tap_take", None) is not None:
            self.tap()
            return
        if self.player is None:
            self.play_off()
            return
        if self.playing:
            if self._player("stop"):
                self.playing = False
                self.main.query_one(StepGrid).set_playhead(None)
        else:
            self._chain_playing = self._song_playing = False
            self._send_pattern("now")
            if self._player("start"):
                self.playing = True
        self.say("playing" if self.playing else "stopped")
        self.refresh_all(save=False)

    def _play_chain(self, chain: list[tuple[Pattern, int]], what: str, song: bool = False) -> None:
        if self.player is None:
            self.play_off()
            return
        if not chain:
            self.fail(f"nothing to play: the {what} is empty")
            return
        if self._player("set_chain", chain, True):
            self._chain_playing, self._song_playing = True, song
            if song:
                self._song_owner = self.studio.song_bars()[1]
            if not self.playing and self._player("start"):
                self.playing = True
            self.say(f"playing the {what}: {sum(n for _, n in chain)} bars, looped")
        self.refresh_all(save=False)

    def action_play_morph(self) -> None:
        bars = self.studio.transport.bars
        self._play_chain([(p, bars) for p in self.studio.morph], "morph")

    def action_play_bank(self) -> None:
        """The bank's phrases in order, each played `transport.bars` times, looped."""
        times = self.studio.transport.bars
        self._play_chain([(b, 1) for p in self.studio.bank_phrases() for b in list(p.bars) * times], "bank")

    def action_tempo(self, delta: float) -> None:
        bpm = self.studio.nudge_tempo(delta)
        self._player("set_tempo", bpm)
        self.say(f"tempo {bpm:g} BPM")
        self.refresh_all()

    def action_swing(self, delta: float) -> None:
        sw = self.studio.nudge_swing(delta)
        self._player("set_swing", sw)
        # The player and the exporter swing straight bars only: a timed bar already has its groove.
        timed = sw > 50 and self.studio.current.timed
        self.say(f"swing {sw:g}%" + (" (not on this bar: it has its own timing; Q straightens it)"
                                     if timed else ""))
        self.refresh_all()

    def action_bars(self) -> None:
        n = self.studio.cycle_bars()
        self._send_pattern()
        self.say(f"{n} bar{'s' if n > 1 else ''} per pattern")
        self.refresh_all()

    def action_notemap(self) -> None:
        """Cycle the output note map (player and export alike)."""
        names = available_notemaps()
        tr = self.studio.transport
        tr.notemap = names[(names.index(tr.notemap) + 1) % len(names)] if tr.notemap in names else names[0]
        self._player("set_notemap", tr.notemap)
        self.say(f"note map: {tr.notemap}")
        self.refresh_all()

    def action_clock_out(self) -> None:
        tr = self.studio.transport
        tr.clock_out = not tr.clock_out
        self._player("set_clock_out", tr.clock_out)
        self.say(f"MIDI clock out {'on' if tr.clock_out else 'off'}")
        self.refresh_all()

    def action_link(self) -> None:
        """Join or leave the Ableton Link session (following a MIDI clock stops)."""
        tr = self.studio.transport
        if not tr.link and lk.missing():
            self.fail(lk.missing())
            return
        tr.link = not tr.link
        if tr.link:
            tr.follow = None
        self._link_shown = None
        self._player("set_link", lk.DEFAULT_QUANTUM if tr.link else None)
        self.say("Ableton Link on: the session's tempo and bar lines lead; space starts and stops it"
                 if tr.link else "Ableton Link off")
        self.refresh_all()

    def _follow_link(self) -> None:
        """In a Link session: show its peers, take its tempo, and play / stop with it."""
        for kind, *rest in self.player.notices():
            if kind == "stopped" and rest[1:] and self.playing:   # the session (or a leader) stopped
                self.playing = False
            elif kind == "started" and not self.playing:          # the session started
                self.playing = True
        tr = self.studio.transport
        state = self.player.link_state() if tr.link else None
        bpm = round(self.player.bpm(), 2) if tr.link else tr.bpm
        shown = (state, bpm, self.playing)
        if shown == getattr(self, "_link_shown", None):
            return
        self._link_shown = shown
        if tr.link and RANGES["bpm"].lo <= bpm <= RANGES["bpm"].hi:
            tr.bpm = bpm   # so that [ ] nudge the session's tempo, and the session saves it
        self.refresh_all(save=False)

    def _port_names(self, kind: str) -> tuple[list[str], str]:
        try:
            listing = ports.list_ports(self.midi_backend)
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
            if follow:
                self.studio.transport.link = False   # the player leaves the Link session too
            self._player("follow", follow, self.midi_backend)
            self.say(f"clock: {name}")
            self.refresh_all()
        self.push_screen(ChoiceScreen("clock source", [INTERNAL_CLOCK] + names,
                                      self.studio.transport.follow or INTERNAL_CLOCK, note[:200]), chosen)

    def poll_player(self) -> None:
        """Move the playhead; show a player error (a vanished port) once."""
        # A tick can still fire while the app shuts down, after its screens are gone.
        if self.player is None or not self.screen_stack:
            return
        try:
            err = self.player.error()
            ph = self.player.playhead() if self.playing else None
        except DrumfontError as exc:
            err, ph = str(exc), None
        if err:  # the player reports each problem once
            self.fail(f"MIDI: {err}")
        self._follow_link()
        grids = self.main.query(StepGrid)  # empty while the screen is being torn down
        if grids:
            grids.first().set_playhead(None if ph is None else ph[1])
            phrase = self.studio.phrase
            entry = self.player.chain_entry() if ph is not None else None
            grids.first().set_playing_bar(entry if entry is not None and not self._chain_playing
                                          and phrase is not None and len(phrase) > 1 else None)
        tables = self.main.query(SongTable)
        if tables:
            owner = self._song_owner
            playing = (owner[self.player.chain_entry()] if ph is not None and self._song_playing
                       and self.player.chain_entry() < len(owner) else None)
            tables.first().set_playing(playing)
