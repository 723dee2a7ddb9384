"""Tap mode: one bar of tapped rhythm after a count-in, kept as a Pattern with its timing (no
textual here: the studio's groove pane drives it with key presses or pad note-ons)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drumfont.score.pattern import CLOSED_HAT, N_VOICES, STEPS, Pattern

TAP_VELOCITY = 100  # a key has no velocity; a pad's note-on brings its own


@dataclass
class TapTake:
    """One bar of tapped rhythm after a count-in, on a clock the caller gives (seconds).

    The count-in runs `count_in` beats from `start`; the take is the bar after it. A tap is kept
    on its nearest sixteenth with its offset (a tap up to half a sixteenth before the bar's
    downbeat is step 1, early); of two taps on one step the louder stays. Taps before the count-in
    ends (earlier than that) or after the bar are ignored."""

    bpm: float
    start: float
    count_in: int = 4
    taps: list[tuple[float, int]] = field(default_factory=list)   # (time, velocity)

    @property
    def beat(self) -> float:
        return 60.0 / self.bpm

    @property
    def bar_start(self) -> float:
        """When the tapped bar begins (after the count-in)."""
        return self.start + self.count_in * self.beat

    @property
    def end(self) -> float:
        """When the take is over: the bar plus half a sixteenth for a late last tap."""
        return self.bar_start + 4 * self.beat + self.beat / 8

    def tap(self, t: float, velocity: int = TAP_VELOCITY) -> None:
        """Record a tap at time t."""
        self.taps.append((float(t), int(np.clip(velocity, 1, 127))))

    def beat_at(self, t: float) -> tuple[str, int]:
        """("count-in" | "take" | "done", beat number 1..4) at time t, for the flash and the click."""
        if t < self.bar_start:
            return "count-in", int(max(0.0, t - self.start) // self.beat) % 4 + 1
        if t < self.end:
            return "take", int((t - self.bar_start) // self.beat) % 4 + 1
        return "done", 4

    def as_taps(self) -> np.ndarray:
        """The take as a (16, 3) tap line: onset, velocity, offset in sixteenths."""
        out = np.zeros((STEPS, 3), np.float32)
        sixteenth = self.beat / 4
        for t, vel in self.taps:
            pos = (t - self.bar_start) / sixteenth
            step = int(np.ceil(pos - 0.5))
            if not 0 <= step < STEPS or vel <= out[step, 1]:
                continue
            off = min(max(pos - step, -0.5), float(np.nextafter(np.float32(0.5), np.float32(0))))
            out[step] = (1.0, vel, off)
        return out


def click_pattern() -> Pattern:
    """What the MIDI click plays during a take: a closed hat on every beat, the downbeat accented."""
    v = np.zeros((STEPS, N_VOICES), np.uint8)
    v[[0, 4, 8, 12], CLOSED_HAT] = (127, 80, 80, 80)
    return Pattern(v)
