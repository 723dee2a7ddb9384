"""MIDI clock as a follower: incoming pulses and transport -> position, tempo and actions.

Pure logic (no ports, no clock): the player feeds it (arrival ns, message bytes) and acts on
what it returns. 24 pulses per quarter note = 6 per sixteenth; the tempo is the mean interval
of the last 24 pulses (one beat), which smooths the jitter of the transport without lagging a
tempo change by more than a beat. Start plays from bar 1 (also when no Song Position Pointer
came first, as some devices send); Continue plays from the last SPP, else from where Stop left.
Clock out as leader is the player's job: schedule.clock_events and the transport bytes there.
"""

from __future__ import annotations

import collections
from typing import NamedTuple

from drumfont.live.schedule import (
    CLOCK,
    CONTINUE,
    MAX_BPM,
    MIN_BPM,
    PULSES_PER_STEP,
    SONG_POSITION,
    START,
    STOP,
    step_ns,
)

PAUSE_NS = 500_000_000  # a gap between pulses longer than this is a pause, not a tempo (< 5 BPM)


class Action(NamedTuple):
    """What the player does after a message: 'start' at `step`, 'pulse' (re-anchor `pos` at the
    pulse's arrival, at `step_ns` per sixteenth), or 'stop' (remember `step` for Continue)."""

    kind: str
    step: int = 0
    pos: float = 0.0
    step_ns: float = 0.0


class ClockFollower:
    """State of a follower: running or not, pulse count since (re)start, tempo estimate."""

    def __init__(self, window: int = 24) -> None:
        self.intervals: collections.deque[int] = collections.deque(maxlen=window)
        self.last_pulse_ns = 0
        self.running = False
        self.start_step = 0
        self.pulse = -1            # pulses since Start/Continue; the first one is pulse 0
        self.spp: int | None = None
        self.resume_step = 0

    def step_ns(self, default: float) -> float:
        """Measured length of a sixteenth (ns), clamped to 20..300 BPM; `default` before any."""
        if not self.intervals:
            return default
        est = sum(self.intervals) / len(self.intervals) * PULSES_PER_STEP
        return min(max(est, step_ns(MAX_BPM)), step_ns(MIN_BPM))

    def bpm(self, default: float) -> float:
        """Measured tempo."""
        return 60e9 / self.step_ns(step_ns(default)) / 4.0

    def limit(self) -> float:
        """Position of the next pulse: events at or beyond it wait for that pulse to arrive."""
        return self.start_step + (self.pulse + 1) / PULSES_PER_STEP

    def feed(self, t_ns: int, msg: tuple[int, ...], default_step_ns: float) -> Action | None:
        """Take one incoming message; return what the player must do, if anything."""
        status = msg[0] if msg else 0
        if status == CLOCK:
            if self.last_pulse_ns and 0 < t_ns - self.last_pulse_ns < PAUSE_NS:
                self.intervals.append(t_ns - self.last_pulse_ns)
            self.last_pulse_ns = t_ns
            if not self.running:
                return None
            self.pulse += 1
            return Action("pulse", pos=self.start_step + self.pulse / PULSES_PER_STEP,
                          step_ns=self.step_ns(default_step_ns))
        if status == SONG_POSITION and len(msg) >= 3:
            self.spp = (msg[1] & 0x7F) | ((msg[2] & 0x7F) << 7)
            return None
        if status in (START, CONTINUE):
            if status == START:
                step = 0
            else:
                step = self.spp if self.spp is not None else self.resume_step
            self.spp = None
            self.start_step, self.pulse, self.running = step, -1, True
            return Action("start", step=step)
        if status == STOP and self.running:
            self.running = False
            # The first step whose downbeat pulse has not arrived: Continue resumes there.
            self.resume_step = self.start_step + (self.pulse + PULSES_PER_STEP) // PULSES_PER_STEP
            return Action("stop", step=self.resume_step)
        return None
