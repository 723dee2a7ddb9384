"""Pure scheduling math for the live player: no I/O, no clocks, no MIDI library.

Time is kept as a *musical position* in sixteenth steps (a float; step 16 is bar 2's downbeat)
and turned into an absolute deadline by a `TempoMap`: deadline = anchor_ns + (pos - anchor_pos)
* step_ns. Every deadline is computed from the anchor, never by adding intervals, so rounding
never accumulates (no drift); a tempo change re-anchors at the current position, so the phase
does not jump. The `Sequencer` decides what sounds at each step: pattern, bar-boundary queue,
chain (song mode), swing, gate, note map; mute and solo are applied at send time (`audible`).
Swing and gate mean exactly what they mean in exported .mid files (midifile.swing_offset).

Micro-timing: a hit sounds at its step + its offset (Pattern.offsets, [-0.5, 0.5) of a
sixteenth), plus swing where `midifile.applied_swing` says so (straight bars only, unless
`swing_timed`): the file writer's rule, shared. So a hit may sound up to half a sixteenth before
its step, and the downbeat's early hits belong to the previous bar's time: the clock asks for
step s at position s - LOOKAHEAD (one sixteenth ahead), which is also when a bar-line change
(queue, chain) is resolved for bar n+1's first step. Offsets live in musical position, not in
ns: a hit is placed by the tempo in force where it sounds (the `TempoMap` maps its position when
its deadline comes), so a tempo change between scheduling and sounding moves it with the grid.
Nothing sounds before a start: after Start/Continue (or a follower's Start) the first step's
early hits are clamped onto its downbeat, as the .mid writer clamps bar 1's onto tick 0 (a
follower cannot play before its leader's Start arrives; a leader does the same so that what a
DAW records from the clock matches the exported file). Clock pulses stay on the grid.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np

from drumfont.score.midifile import DRUM_CHANNEL, applied_swing, swing_offset
from drumfont.score.notemap import GM, NoteMap
from drumfont.score.pattern import N_VOICES, OFFSET_MIN, STEPS, Pattern
from drumfont.validate import RANGES

PULSES_PER_STEP = 6          # MIDI clock: 24 pulses per quarter note = 6 per sixteenth
MIN_BPM, MAX_BPM = RANGES["bpm"].lo, RANGES["bpm"].hi
NOTE_ON = 0x90 | DRUM_CHANNEL    # 0x99
NOTE_OFF = 0x80 | DRUM_CHANNEL   # 0x89
CONTROL = 0xB0 | DRUM_CHANNEL    # 0xB9
ALL_NOTES_OFF = (CONTROL, 123, 0)
CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
# Step s is scheduled at position s - LOOKAHEAD: more than the earliest a hit may sound (half a
# sixteenth early), so that an early downbeat is in the heap before its deadline.
LOOKAHEAD = 1.0

# Sort order of events that share a position: a note-off frees its note before a note-on
# re-strikes it; Start/Continue/SPP precede the first pulse they refer to; the pulse marks the
# beat before the notes on it. MARK (playhead) and GEN (schedule the next step) are the clock's
# own bookkeeping and come after the sends at their position.
ORDER_OFF, ORDER_TRANSPORT, ORDER_CLOCK, ORDER_ON, ORDER_MARK, ORDER_GEN = range(6)


def check_bpm(bpm: float) -> float:
    """The tempo as a float, or ValueError outside 20..300."""
    bpm = float(bpm)
    if not MIN_BPM <= bpm <= MAX_BPM:
        raise ValueError(f"tempo {bpm:g} BPM is outside {MIN_BPM:g}..{MAX_BPM:g}")
    return bpm


def check_swing(swing: float) -> float:
    """Swing in MPC percent (50 straight .. 75), or ValueError."""
    swing = float(swing)
    r = RANGES["swing"]
    if not r.lo <= swing <= r.hi:
        raise ValueError(f"swing {swing:g}% is outside {r.text()} (50 = straight, 66 = triplet feel)")
    return swing


def check_gate(gate: float) -> float:
    """Gate as a share of a sixteenth in (0, 1], or ValueError."""
    gate = float(gate)
    if not 0.0 < gate <= 1.0:
        raise ValueError(f"gate {gate:g} must be in (0, 1] of a sixteenth")
    return gate


def step_ns(bpm: float) -> float:
    """Length of a sixteenth in nanoseconds."""
    return 60e9 / bpm / 4.0


def song_position_bytes(step: int) -> tuple[int, int, int]:
    """Song Position Pointer (0xF2) for a position in sixteenths (MIDI beats), 14 bits."""
    step = int(step) & 0x3FFF
    return (SONG_POSITION, step & 0x7F, step >> 7)


class TempoMap:
    """Position (steps) <-> absolute time (ns) at a tempo that may change without a phase jump."""

    def __init__(self, bpm: float, start_ns: int, start_pos: float = 0.0) -> None:
        self.bpm = check_bpm(bpm)
        self.step_ns = step_ns(self.bpm)
        self.anchor_ns = int(start_ns)
        self.anchor_pos = float(start_pos)

    def time_of(self, pos: float) -> int:
        """Absolute deadline (ns) of a position."""
        return self.anchor_ns + round((pos - self.anchor_pos) * self.step_ns)

    def pos_at(self, t_ns: int) -> float:
        """Position reached at time t_ns."""
        return self.anchor_pos + (t_ns - self.anchor_ns) / self.step_ns

    def set_bpm(self, bpm: float, now_ns: int) -> None:
        """Change tempo at `now_ns`: the position there stays where it is (no phase jump)."""
        bpm = check_bpm(bpm)
        self.anchor_pos = self.pos_at(now_ns)
        self.anchor_ns = int(now_ns)
        self.bpm = bpm
        self.step_ns = step_ns(bpm)

    def anchor(self, pos: float, t_ns: int, step_ns_: float | None = None) -> None:
        """Pin `pos` to time `t_ns` (follow mode: each incoming clock pulse re-anchors)."""
        self.anchor_pos = float(pos)
        self.anchor_ns = int(t_ns)
        if step_ns_ is not None:
            self.step_ns = float(step_ns_)
            self.bpm = 60e9 / self.step_ns / 4.0


class Event(NamedTuple):
    """One scheduled MIDI message. `voice` is -1 for messages that are not notes; `tag` pairs a
    note-off with the note-on that it ends."""

    pos: float
    order: int
    data: tuple[int, ...]
    voice: int = -1
    tag: int = 0


def clock_events(step: int) -> list[Event]:
    """The 6 clock pulses of one sixteenth step."""
    return [Event(step + k / PULSES_PER_STEP, ORDER_CLOCK, (CLOCK,)) for k in range(PULSES_PER_STEP)]


@dataclass
class Sequencer:
    """What plays at each global step: the current pattern or chain, the bar-boundary queue,
    swing, gate, note map, mute and solo. Pure state; the clock asks it for one step at a time.
    `swing_timed`: swing bars that carry their own timing too (by default only straight ones).

    A chain is song mode: `[(pattern, bars), ...]` played in order, looping or stopping at its
    end. `set_pattern` replaces the chain with one looping pattern. `at="bar"` waits for the next
    bar whose first step has not been asked for yet; `at="now"` takes effect from the next step.
    """

    pattern: Pattern = field(default_factory=Pattern.empty)
    swing: float = 50.0
    gate: float = 0.5
    notemap: NoteMap = GM
    muted: set[int] = field(default_factory=set)
    soloed: set[int] = field(default_factory=set)
    swing_timed: bool = False

    def __post_init__(self) -> None:
        self.swing = check_swing(self.swing)
        self.gate = check_gate(self.gate)
        self._chain: list[tuple[Pattern, int]] = [(self.pattern, 1)]
        self._loop = True
        self._chain_index = 0
        self._bar_in_entry = 0
        self._pending: tuple[list[tuple[Pattern, int]], bool, bool] | None = None
        self._current_bar = -1
        self.finished = False   # a non-looping chain has played its last bar
        self._tag = 0
        self._floor = float("-inf")   # nothing sounds before the step played first after a start

    # --- control -----------------------------------------------------------------------------
    def set_pattern(self, pattern: Pattern, at: str = "bar") -> None:
        """Loop one pattern from the next bar (at='bar') or the next step (at='now')."""
        self.set_chain([(pattern, 1)], loop=True, at=at)

    def set_chain(self, chain: Sequence[tuple[Pattern, int]], loop: bool = True, at: str = "bar",
                  keep_place: bool = False) -> None:
        """Song mode: each pattern for its number of bars, then loop or stop. From the next bar line
        the new chain starts at its first entry, or, with `keep_place`, where the old chain would
        have gone on (an edited phrase keeps playing from the bar it was at)."""
        entries = [(p if isinstance(p, Pattern) else Pattern(np.asarray(p)), int(n)) for p, n in chain]
        if not entries:
            raise ValueError("a chain needs at least one pattern")
        if any(n < 1 for _, n in entries):
            raise ValueError("each chain entry plays at least one bar")
        if at not in ("bar", "now"):
            raise ValueError("at must be 'bar' or 'now'")
        if at == "now" or self._current_bar < 0:
            self._install(entries, loop)
        else:
            self._pending = (entries, bool(loop), bool(keep_place))

    def _install(self, entries: list[tuple[Pattern, int]], loop: bool, keep_place: bool = False,
                 place: tuple[int, int] = (0, 0)) -> None:
        self._chain, self._loop = entries, loop
        index, bar = place if keep_place else (0, 0)
        self._chain_index = index % len(entries)
        self._bar_in_entry = bar if bar < entries[self._chain_index][1] else 0
        self._pending = None
        self.finished = False
        self.pattern = entries[self._chain_index][0]

    def _next_place(self) -> tuple[int, int]:
        """(entry, bar in entry) the chain plays after the bar playing now."""
        index, bar = self._chain_index, self._bar_in_entry + 1
        if bar >= self._chain[index][1]:
            index, bar = (index + 1) % len(self._chain), 0
        return index, bar

    def set_mute(self, voice: int, on: bool) -> None:
        """Mute or unmute a voice (index 0..8)."""
        _check_voice(voice)
        (self.muted.add if on else self.muted.discard)(voice)

    def set_solo(self, voice: int, on: bool) -> None:
        """Solo or unsolo a voice; while any voice is soloed only soloed voices sound."""
        _check_voice(voice)
        (self.soloed.add if on else self.soloed.discard)(voice)

    def audible(self, voice: int) -> bool:
        """Whether a voice sounds now under mute and solo (solo wins over mute of other voices)."""
        if self.soloed:
            return voice in self.soloed
        return voice not in self.muted

    def rewind(self) -> None:
        """Back to the first entry of the chain (transport Start from bar 1)."""
        if self._pending is not None:
            self._install(*self._pending)
        self._chain_index, self._bar_in_entry = 0, 0
        self._current_bar = -1
        self.finished = False
        self.pattern = self._chain[0][0]

    def seek_bar(self, bar: int) -> None:
        """Place the chain at a bar (Continue after a Song Position Pointer)."""
        self.rewind()
        for _ in range(max(0, bar)):
            self._advance_bar()
        self._current_bar = -1

    # --- stepping ----------------------------------------------------------------------------
    def _advance_bar(self) -> None:
        if self._pending is not None:
            self._install(*self._pending, place=self._next_place())
            return
        self._bar_in_entry += 1
        if self._bar_in_entry >= self._chain[self._chain_index][1]:
            self._bar_in_entry = 0
            self._chain_index += 1
            if self._chain_index >= len(self._chain):
                if self._loop:
                    self._chain_index = 0
                else:
                    self._chain_index = len(self._chain) - 1
                    self.finished = True
        self.pattern = self._chain[self._chain_index][0]

    def step_events(self, step: int) -> list[Event]:
        """Note events of global step `step` (bar = step // 16), in position order.

        Called once per step, in increasing order. At a bar's first step the queue is resolved
        (pending pattern or the chain's next entry); a finished chain yields nothing. Onsets lie
        in [step - 0.5, step + 1): the hit's offset, plus swing where it applies; the first step
        after a start or seek is clamped to its downbeat (see the module docstring).
        """
        bar, s = divmod(step, STEPS)
        if self._current_bar < 0:       # first step after start or seek: no advance
            self._current_bar = bar
            self._floor = float(step)
        elif s == 0 and bar != self._current_bar:
            self._advance_bar()
            self._current_bar = bar
        if self.finished:
            return []
        pattern = self.pattern
        grid = step + swing_offset(s, applied_swing(pattern, self.swing, self.swing_timed), 1.0)
        events: list[Event] = []
        row, timing = pattern.velocities[s], pattern.offsets[s]
        for voice in np.flatnonzero(row).tolist():
            note = self.notemap.note(voice)
            onset = max(grid + float(timing[voice]), self._floor)
            self._tag += 1
            events.append(Event(onset, ORDER_ON, (NOTE_ON, note, int(row[voice])), voice, self._tag))
            events.append(Event(onset + self.gate, ORDER_OFF, (NOTE_OFF, note, 0), voice, self._tag))
        return events

    @property
    def chain_position(self) -> tuple[int, int]:
        """(entry index, bar within the entry) of the bar being played."""
        return self._chain_index, self._bar_in_entry


def _check_voice(voice: int) -> None:
    if not 0 <= int(voice) < N_VOICES:
        raise ValueError(f"voice {voice} is outside 0..{N_VOICES - 1}")


class NoteLedger:
    """Which notes sound now, so that every note-on gets exactly one note-off.

    A note struck again while it still sounds is ended first (its own scheduled note-off, now
    stale, is then dropped by its tag) -- the live form of midifile.note_events cutting a note
    short rather than overlapping its next hit.
    """

    def __init__(self) -> None:
        self.sounding: dict[int, int] = {}   # note -> tag of the note-on that holds it

    def on(self, note: int, tag: int) -> list[tuple[int, ...]]:
        """Messages to send for a note-on (a cutting note-off first where needed)."""
        out: list[tuple[int, ...]] = []
        if note in self.sounding:
            out.append((NOTE_OFF, note, 0))
        self.sounding[note] = tag
        return out

    def off(self, note: int, tag: int) -> bool:
        """Whether this scheduled note-off should be sent (it ends the sounding note)."""
        if self.sounding.get(note) == tag:
            del self.sounding[note]
            return True
        return False

    def release_all(self) -> list[tuple[int, ...]]:
        """Note-offs for everything sounding, then All Notes Off on the drum channel."""
        out = [(NOTE_OFF, note, 0) for note in sorted(self.sounding)]
        self.sounding.clear()
        out.append(ALL_NOTES_OFF)
        return out


def render(sequencer: Sequencer, bars: int, clock_out: bool = False,
           start_step: int = 0) -> list[tuple[float, tuple[int, ...]]]:
    """Offline: the (position, message) list the live clock sends for `bars` bars, with
    mute/solo/ledger applied exactly as the clock applies them. Used by tests and to compare
    the live path with the .mid exporter."""

    heap: list[Event] = []
    ledger = NoteLedger()
    out: list[tuple[float, tuple[int, ...]]] = []
    end = start_step + bars * STEPS
    for step in range(start_step, end):
        for ev in sequencer.step_events(step) + (clock_events(step) if clock_out else []):
            heapq.heappush(heap, ev)
        # the next step's hits may sound up to half a sixteenth before it: hold those events back
        while heap and heap[0].pos < step + 1 + OFFSET_MIN:
            ev = heapq.heappop(heap)
            out.extend((ev.pos, m) for m in dispatch(ev, sequencer, ledger))
    while heap:  # the tail: the last step's own events, then note-offs after the last step
        ev = heapq.heappop(heap)
        if ev.order == ORDER_OFF or ev.pos < end:
            out.extend((ev.pos, m) for m in dispatch(ev, sequencer, ledger))
    return out


def dispatch(ev: Event, sequencer: Sequencer, ledger: NoteLedger) -> list[tuple[int, ...]]:
    """The messages one due event turns into (mute/solo and note pairing applied)."""
    if ev.order == ORDER_ON:
        if not sequencer.audible(ev.voice):
            return []
        return ledger.on(ev.data[1], ev.tag) + [ev.data]
    if ev.order == ORDER_OFF:
        return [ev.data] if ledger.off(ev.data[1], ev.tag) else []
    if ev.order in (ORDER_MARK, ORDER_GEN):
        return []
    return [ev.data]
