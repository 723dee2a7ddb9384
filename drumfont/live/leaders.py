"""The clock's leaders: an incoming MIDI clock to follow (sync.py reads its pulses) or an
Ableton Link session (link.py reads its timeline). A base class of `clock.Clock`, split out of
it so the loop and the two ways it can be led read apart; it runs in the clock's process."""


from __future__ import annotations

import contextlib

from drumfont.errors import DrumfontError
from drumfont.live import link as lk
from drumfont.live.ports import open_input
from drumfont.live.sync import ClockFollower
from drumfont.score.pattern import STEPS

# Shared-memory slots the clock writes and the parent reads without a lock: each is one aligned
# 8-byte double, written whole.
(SLOT_STEP, SLOT_BPM, SLOT_STATE, SLOT_ENTRY, SLOT_UNDERRUNS, SLOT_LATE, SLOT_CALLBACK,
 SLOT_LINK_PEERS, SLOT_LINK_PLAYING) = range(9)
N_SLOTS = 9
STATE_STOPPED, STATE_PLAYING, STATE_WAITING = 0.0, 1.0, 2.0   # waiting: for the leader's clock / Link start

START_LEAD_NS = 3_000_000        # the first downbeat sits this far after start(): room to schedule
HEALTH_EVERY_NS = 500_000_000    # how often a port opened by name is checked to still exist
REOPEN_EVERY_NS = 1_000_000_000  # how often a vanished port is tried again
HEALTH_ROOM_NS = 10_000_000      # ...and only with this much time left before the next deadline
GC_EVERY_NS = 1_000_000_000      # the clock process's own garbage collection, in the same slack

class Leaders:
    """Follow mode and Link mode of the clock (needs: the Clock's state and its transport calls)."""

    # follow mode -------------------------------------------------------------------------------
    def _set_follow(self, query: str | None, backend: str | None) -> None:
        if query is not None and self.link is not None:   # one source of time at once
            self._link_off()
            self._report("ok", "Link off (following MIDI clock)")
        self.halt(send_stop=self.follow_in is None)
        if self.follow_in is not None:
            with contextlib.suppress(Exception):
                self.follow_in.cancel_callback()
                self.follow_in.close_port()
                self.follow_in.delete()
            self.follow_in = None
        if query is None:
            self.shared[SLOT_STATE] = STATE_STOPPED
            self._report("ok", "leading")
            return
        try:
            inp = open_input(query, backend or (self.spec.backend if self.spec else None))
        except DrumfontError as exc:
            self._report("error", str(exc))
            return
        q, wake_w, now = self.follow_q, self.wake_w, self.now

        def on_message(event, _data=None):  # rtmidi's thread: stamp, queue, wake the clock
            q.append((now(), tuple(event[0])))
            with contextlib.suppress(OSError):
                wake_w.send(b"!")

        inp.set_callback(on_message)
        self.follow_in = inp
        self.follower = ClockFollower()
        self.shared[SLOT_STATE] = STATE_WAITING
        self._report("ok", f"following {query}")

    def _clock_in(self, t: int, msg: tuple[int, ...]) -> None:
        act = self.follower.feed(t, msg, self.tempo.step_ns)
        if act is None:
            return
        if act.kind == "pulse":
            if self.playing:
                self.tempo.anchor(act.pos, t, act.step_ns)
                self.shared[SLOT_BPM] = self.tempo.bpm
        elif act.kind == "start":
            if act.step == 0:
                self.seq.rewind()
            else:
                self.seq.seek_bar(act.step // STEPS)
            self._begin(act.step, t, ())
        elif act.kind == "stop" and self.playing:
            self.halt()
            self.resume_step = act.step
            self._report("stopped", act.step, "clock")

    # Link mode (link.py) -----------------------------------------------------------------------
    def link_on(self, quantum: int, wait_s: float = 0.0) -> None:
        """Join a Link session (DrumfontError where aalink cannot start); `wait_s`: enable it now
        and look for peers that long (at launch, so that the first bar is already the session's);
        else it is enabled by _link_poll once link.ENABLE_DELAY_S has passed."""
        session = lk.Session(self.tempo.bpm, quantum, self.now)
        if wait_s:
            session.wait_for_peers(wait_s)
        self.link_session, self.link = session, lk.LinkFollower(quantum, START_LEAD_NS)
        self.link_fresh, self.link_polled = True, 0
        self.shared[SLOT_LINK_PEERS] = float(session.link.num_peers)
        self.shared[SLOT_BPM] = float(session.link.tempo)

    def _link_off(self) -> None:
        if self.link_session is not None:
            with contextlib.suppress(Exception):
                self.link_session.close()
        self.link = self.link_session = None
        self.shared[SLOT_LINK_PEERS] = -1.0
        self.shared[SLOT_LINK_PLAYING] = 0.0
        if not self.playing and self.follow_in is None:
            self.shared[SLOT_STATE] = STATE_STOPPED

    def _set_link(self, quantum: int | None) -> None:
        if quantum is None:
            if self.link is not None:
                self._link_off()
                self._report("ok", "Link off")
            return
        if self.link is not None:
            if quantum != self.link.quantum:   # a new bar grid: the next reading realigns
                self.link_session.link.quantum = quantum
                self.link.quantum, self.link.mapped = quantum, False
            return
        if self.follow_in is not None:
            self._set_follow(None, None)
        try:
            self.link_on(quantum)   # enabled by _link_poll, link.ENABLE_DELAY_S later
        except DrumfontError as exc:
            self._report("error", str(exc))
            return
        self._report("ok", f"Link on (quantum {quantum})")

    def _link_read(self) -> lk.Reading:
        """A reading of the session; retried where one was preempted."""
        for _ in range(100):
            r = self.link_session.read()
            if r is not None:
                return r
        raise DrumfontError("Ableton Link cannot be read in time (the machine is overloaded)")

    def _link_start(self, step: int) -> None:
        """Start from bar line `step` at the session's next bar line, and start the session."""
        r = self._link_read()
        act = self.link.start(r, step)
        if not r.playing:
            self.link_session.set_playing(True)
            self.link.session_playing = True
        self.start(act.step, act.t_ns, act.step_ns)

    def _link_poll(self) -> None:
        """Read the session and follow it: tempo and phase, start/stop, timeline jumps."""
        self.link_polled = self.now()
        if not self.link_session.enabled:   # switched on in the loop: not in the network yet
            if not self.link_session.enable_when_due():
                return
            if self.playing:   # alone, the session takes our bar lines; with peers, it realigns
                with contextlib.suppress(Exception):
                    self.link_session.link.request_beat(self.tempo.pos_at(self.now()) / lk.STEPS_PER_BEAT)
        r = self.link_session.read()
        if r is None:
            return
        self.shared[SLOT_LINK_PEERS] = float(r.peers)
        self.shared[SLOT_LINK_PLAYING] = 1.0 if r.playing else 0.0
        if self.link_fresh:   # switched on while playing: tell the session we play
            self.link_fresh = False
            if self.playing and not r.playing:
                self.link_session.set_playing(True)
                r = r._replace(playing=True)
                self.link.session_playing = True
        act = self.link.feed(r, self.playing, self.tempo.pos_at(r.t_ns))
        if not self.playing or act is not None and act.kind == "anchor":
            self.shared[SLOT_BPM] = r.bpm
        if act is None:
            return
        if act.kind == "anchor":
            self.tempo.anchor(act.pos, act.t_ns, act.step_ns)
        elif act.kind == "session_start":
            self.link_session.mark_start()
            act = self.link.session_start(self._link_read())
            self.start(act.step, act.t_ns, act.step_ns)
            self._report("started", "link")
        elif act.kind == "stop":
            self.halt()
            self._report("stopped", self.resume_step, "link")
        elif act.kind == "realign":   # Stop, then Continue at the new bar line for followers
            self.halt()
            self.start(act.step, act.t_ns, act.step_ns)
            self._report("ok", "realigned to the Link session's bar lines")

