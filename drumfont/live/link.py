"""Ableton Link: the player joins a Link session, follows its tempo and bar lines, sends its own
tempo changes to it and starts and stops with it (start/stop sync).

The musical contract: drumfont's bars start on the session's bar lines, where the Link beat is a
multiple of the quantum (4 beats by default, one 4/4 bar; `--quantum 8` starts on every other
bar line of the session). Step positions map to Link beats linearly: step = origin_step +
(beat - origin_beat) * 4, so a bar of 16 sixteenths is 4 beats whatever the quantum. Tempo
changes from any peer keep the beat where it is (Link's rule), so they move no bar line.

How Link fits the clock. aalink (the maintained Python wrapper of Link) is an asyncio API:
`await link.sync(beat)` and its tempo/start-stop/peer callbacks are delivered through an event
loop (`call_soon_threadsafe`), woken by aalink's own scheduler thread, which polls Link every
1 ms. The clock is a synchronous real-time loop in its own process (clock.py's docstring), and
an event loop there would have to run in a second thread of that process, competing for the
GIL with the loop that sends the notes -- the very contention the clock process exists to
avoid. Measured (benchmarks/bench_link.py --api, three runs on the 2-core dev VM, load 4-5):
- aalink's `sync(0.5)` futures resolve a median 0.6-0.8 ms and up to 1.3-2.5 ms after their beat
  in an otherwise idle asyncio loop (its scheduler thread polls every 1 ms, then the loop runs);
- aalink's synchronous properties (beat, tempo, playing, num_peers) cost 0.16-0.29 us each, and
  `Session.read` below (two clock reads around the beat, then tempo, playing, peers) 0.8-2.0 us.
aalink's scheduler thread takes the GIL only to resolve sync() futures, and Link's own threads
only for its tempo/peer/start-stop callbacks (once per change, not per beat).
So the clock does not use the asyncio side at all: it reads Link's timeline synchronously,
every POLL_NS from its own loop (`Session.read`: perf_counter, beat, perf_counter -> beat B at
time t, with the tempo), anchors its TempoMap on (t, B) and keeps computing its own absolute
deadlines and spinning to them, as it does without Link. Reading the beat between two reads of
the clock's own time base also removes any question of which system clock Link uses (on Linux it
is CLOCK_MONOTONIC_RAW, perf_counter is CLOCK_MONOTONIC: they drift apart by the NTP slew rate,
tens of ppm, milliseconds per minute). aalink still needs an event loop to construct its Link
object (it takes the running loop); `Session` creates one, runs it only for that, and never
registers a callback, so nothing is ever queued on it.

What the user sees of it: `Session.read()` gives the number of peers, the tempo and whether the
session plays; the clock publishes them in shared slots (`player.Player.link_state`).

How close it gets (benchmarks/bench_link.py, seven 60 s runs against a peer at 100 BPM, three
of them moving to 130 BPM halfway; the clock at SCHED_FIFO, a 256-frame JACK server as the
receiver, load 2-5 on 2 cores): downbeats as sent lie a median 0.05-0.07 ms from the peer's phase
0, at most 0.09-0.32 ms in six runs and 2.2 ms once (one downbeat); as they arrive at the
receiver (less half a period of delivery) a median 0.4-2.2 ms, at most 2.4-2.8 ms (5.1 ms in that
run): JACK's 5.3 ms period at work.

Start/stop sync is always on. A session start (from any peer) starts the player on the session's
first bar line at or after the start time: Link knows that time, aalink does not expose it, so
the clock asks Link to put beat 0 there (`requestBeatAtStartPlayingTime`, which with peers only
moves this peer's beat numbering to the next bar line, never the session) and reads where beat 0
fell. Where it fell in the recent past (the start was on a bar line and the reading came a few
ms later: polling, the network) the player starts on it, its first notes late by that much,
up to CATCH_NS; otherwise on the next bar line. A session stop stops the player (note-offs, All
Notes Off). The player's own start/stop is committed to the session, so the DAW starts and stops
with drumfont. Link shares start/stop as changes only: a peer that joins a playing session sees
it stopped until someone starts or stops it (measured: still "stopped" 3 s after joining). So
`play --link` starts the session itself (a no-op for the others where it already plays), and
nothing shown to the user claims to know whether the session plays. A jump of the timeline (drumfont joining a session that was
already playing, two sessions merging) re-aligns the player at the next bar line of the new
timeline instead of rushing through or repeating the notes in between.

`LinkFollower` is pure logic (no aalink, no clock), fed `Reading`s, as sync.ClockFollower is for
MIDI clock; `Session` is the only code here that touches aalink.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import time
from typing import Callable, NamedTuple

from drumfont.errors import DrumfontError
from drumfont.validate import RANGES

INSTALL_HINT = ("Ableton Link needs the aalink package: pip install 'drumfont[link]' "
                "(or pip install aalink)")
DEFAULT_QUANTUM = 4
BEATS_PER_BAR = 4                # a drumfont bar is 16 sixteenths = 4 beats
STEPS_PER_BEAT = 4

POLL_NS = 2_000_000              # how often the clock reads the session (tempo, start/stop, peers)
READ_MAX_NS = 200_000            # a read that took longer was preempted: its time is unsure, skip it
JUMP_STEPS = 0.25                # a timeline that moved by more than this (sixteenths) was realigned
CATCH_NS = 30_000_000            # a session start seen this late still starts on its bar line
JOIN_WAIT_S = 1.0                # at launch, how long to look for a session before playing alone
# Link is enabled this long after its object is made: enabled at once, a newcomer resets the
# session's tempo to its own in some joins (Ableton/link#146, aalink#7; measured here with two
# plain aalink processes: 5 of 15 joins took the newcomer's 120 BPM with no delay, 0 of 15 with
# 0.6 s; 0.5 s is the workaround reported upstream, 0.2 s too little).
ENABLE_DELAY_S = 0.6
PROBE_WAIT_S = 0.5               # `drumfont ports`: the same, just to report (a session answers
                                 # a newcomer within 5-60 ms, measured)


def missing() -> str | None:
    """The one-line install hint where aalink is not installed, else None (imports nothing)."""
    return None if importlib.util.find_spec("aalink") is not None else INSTALL_HINT


def check_quantum(quantum: float) -> int:
    """The quantum as an int of beats, or a DrumfontError outside validate.RANGES['quantum']."""
    return int(RANGES["quantum"].check(quantum, "Link quantum"))


class Reading(NamedTuple):
    """The session at one instant: Link beat `beat` (at the follower's quantum) falls at
    `t_ns` on the clock's own time base (perf_counter_ns)."""

    t_ns: int
    beat: float
    bpm: float
    playing: bool
    peers: int


class Action(NamedTuple):
    """What the clock does after a reading: 'anchor' (pin position `pos` to `t_ns` at `step_ns`
    per sixteenth), 'start' (play from `step`, whose downbeat is at `t_ns`), 'session_start' (put
    beat 0 on the session's start, read again and call `session_start`), 'stop', or 'realign'
    (silence what sounds, then as 'start')."""

    kind: str
    pos: float = 0.0
    t_ns: int = 0
    step_ns: float = 0.0
    step: int = 0


def step_ns_at(bpm: float) -> float:
    """Length of a sixteenth in ns at a Link tempo (not clamped to drumfont's 20..300: the
    session's tempo is followed whatever it is, 20..999 in Link)."""
    return 60e9 / bpm / STEPS_PER_BEAT


def bar_line_at_or_after(beat: float, quantum: int) -> float:
    """The first multiple of `quantum` at or after `beat`."""
    return math.ceil(beat / quantum - 1e-9) * quantum


class LinkFollower:
    """The player's side of a Link session: the map from Link beats to step positions, and what
    each reading asks the clock to do. Pure state; the clock feeds it (clock.py)."""

    def __init__(self, quantum: int = DEFAULT_QUANTUM, lead_ns: int = 3_000_000) -> None:
        self.quantum = check_quantum(quantum)
        self.lead_ns = lead_ns           # the first downbeat is at least this far after a start
        self.origin_beat = 0.0
        self.origin_step = 0
        self.mapped = False              # the beat -> step map holds (while playing)
        self.session_playing: bool | None = None   # as last seen; None before the first reading

    # the map ---------------------------------------------------------------------------------
    def pos(self, beat: float) -> float:
        """Step position of a Link beat under the current map."""
        return self.origin_step + (beat - self.origin_beat) * STEPS_PER_BEAT

    def _start_at(self, r: Reading, step: int, line: float | None = None) -> Action:
        """Map `step` (a bar line) to Link beat `line` (default: the session's next bar line)
        and start there."""
        beats_per_ns = r.bpm / 60e9
        if line is None:
            line = bar_line_at_or_after(r.beat + self.lead_ns * beats_per_ns, self.quantum)
        self.origin_beat, self.origin_step, self.mapped = line, step, True
        at = r.t_ns + round((line - r.beat) / beats_per_ns)
        return Action("start", pos=float(step), t_ns=at, step_ns=step_ns_at(r.bpm), step=step)

    def start(self, r: Reading, step: int = 0) -> Action:
        """The player starts (or continues from bar line `step`): at the next bar line."""
        self.session_playing = r.playing
        return self._start_at(r, step)

    def session_start(self, r: Reading) -> Action:
        """The session started, and beat 0 now marks its first bar line (the clock asked Link
        for that): start on it, unless it passed more than CATCH_NS ago (then on the next)."""
        late_ns = r.beat / (r.bpm / 60e9)
        return self._start_at(r, 0, 0.0 if late_ns <= CATCH_NS else None)

    def stopped(self) -> None:
        """The player stopped: the map no longer holds."""
        self.mapped = False

    # readings --------------------------------------------------------------------------------
    def feed(self, r: Reading, playing: bool, clock_pos: float) -> Action | None:
        """One reading of the session. `playing`: whether the player plays now; `clock_pos`:
        the position its own tempo map gives for r.t_ns."""
        seen, self.session_playing = self.session_playing, r.playing
        if seen is not None and r.playing != seen:       # start/stop from the session
            if r.playing and not playing:
                return Action("session_start")
            if not r.playing and playing:
                self.mapped = False
                return Action("stop")
        if not playing:
            return None
        if not self.mapped:                               # Link switched on while playing
            return self._realign(r, clock_pos)
        pos = self.pos(r.beat)
        if abs(pos - clock_pos) > JUMP_STEPS:
            return self._realign(r, clock_pos)
        return Action("anchor", pos=pos, t_ns=r.t_ns, step_ns=step_ns_at(r.bpm))

    def _realign(self, r: Reading, clock_pos: float) -> Action:
        """Carry on from the next bar (by the player's own count) at the session's next bar line."""
        bar = math.floor(clock_pos / 16 + 1e-9) + 1
        act = self._start_at(r, max(0, bar) * 16)
        return act._replace(kind="realign")


def make_link(aalink, bpm: float):
    """(an aalink.Link, the event loop made for it or None). aalink takes the running event loop
    when a Link is made (its callbacks and sync() futures would be delivered there); we use
    neither, so where no loop runs in this thread one is run only for the construction."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()

        async def make():
            return aalink.Link(float(bpm))

        try:
            return loop.run_until_complete(make()), loop
        except BaseException:
            loop.close()
            raise
    return aalink.Link(float(bpm)), None


class Session:
    """One Link peer in this process, through aalink, read synchronously (see the module
    docstring for why not through its event loop)."""

    def __init__(self, bpm: float, quantum: int = DEFAULT_QUANTUM,
                 now: Callable[[], int] = time.perf_counter_ns) -> None:
        try:
            import aalink  # noqa: PLC0415  (an optional extra: drumfont[link])
        except ImportError:
            raise DrumfontError(INSTALL_HINT) from None
        self.now = now
        self.quantum = check_quantum(quantum)
        try:
            self.link, self._loop = make_link(aalink, bpm)
        except Exception as exc:   # no network stack, no multicast, a broken build
            raise DrumfontError(f"Ableton Link did not start: {exc}") from None
        self.link.quantum = self.quantum
        self.link.start_stop_sync_enabled = True
        self._made = time.monotonic()

    @property
    def enabled(self) -> bool:
        """Whether this peer takes part in the network session yet."""
        return bool(self.link.enabled)

    def enable_when_due(self) -> bool:
        """Enable Link once ENABLE_DELAY_S has passed since it was made (never blocks); whether
        it is enabled now."""
        if not self.link.enabled and time.monotonic() - self._made >= ENABLE_DELAY_S:
            self.link.enabled = True
        return bool(self.link.enabled)

    def enable(self) -> None:
        """Enable Link, waiting out what is left of ENABLE_DELAY_S (for a start, not a loop)."""
        time.sleep(max(0.0, self._made + ENABLE_DELAY_S - time.monotonic()))
        self.link.enabled = True

    def read(self) -> Reading | None:
        """The session now, or None where the read was preempted (its time would be unsure)."""
        link = self.link
        t0 = self.now()
        beat = link.beat
        t1 = self.now()
        if t1 - t0 > READ_MAX_NS:
            return None
        return Reading((t0 + t1) // 2, beat, link.tempo, link.playing, link.num_peers)

    def wait_for_peers(self, timeout_s: float = JOIN_WAIT_S) -> int:
        """Enable Link and wait up to `timeout_s` for a session to answer (joining one takes
        5-60 ms where a peer runs, measured); the number of peers found."""
        self.enable()
        end = time.monotonic() + timeout_s
        while self.link.num_peers == 0 and time.monotonic() < end:
            time.sleep(0.005)
        return int(self.link.num_peers)

    def set_tempo(self, bpm: float) -> None:
        """Send a tempo to the session (the beat at this instant stays where it is)."""
        self.link.tempo = float(bpm)

    def mark_start(self) -> None:
        """Put beat 0 on the session's first bar line at or after its start time (with peers this
        renumbers this peer's beats only; the session's timeline does not move)."""
        self.link.request_beat_at_start_playing_time(0.0)

    def set_playing(self, playing: bool) -> None:
        """Start or stop the session (start/stop sync)."""
        if bool(self.link.playing) != bool(playing):
            self.link.playing = bool(playing)

    def close(self) -> None:
        """Leave the session (the others play on). Dropping the Link object runs its destructor,
        which waits until Link has said goodbye to the others; otherwise a process that exits
        right after would stay in their peer lists for Link's 5 s time-to-live."""
        try:
            self.link.enabled = False
        finally:
            self.link = None
            if self._loop is not None:
                self._loop.close()


def describe(peers: int | None, bpm: float | None = None, playing: bool | None = None) -> str:
    """One line about the session: 'Link: 2 peers · 120.0 BPM · playing' (or 'Link: off')."""
    if peers is None or peers < 0:
        return "Link: off"
    who = "no other peers" if peers == 0 else f"{peers} peer{'s' if peers != 1 else ''}"
    parts = [who]
    if bpm is not None:
        parts.append(f"{bpm:.1f} BPM")
    if playing is not None:
        parts.append("playing" if playing else "stopped")
    return "Link: " + " · ".join(parts)


def probe(wait_s: float = PROBE_WAIT_S) -> str:
    """`drumfont ports`' line about Link: join for up to `wait_s`, say what is there, leave."""
    hint = missing()
    if hint:
        return f"Link: not installed ({hint.split(': ', 1)[1]})"
    try:
        session = Session(120.0)
    except DrumfontError as exc:
        return f"Link: unavailable - {exc}"
    try:
        peers = session.wait_for_peers(wait_s)
        if peers == 0:
            return f"Link: no session found in {wait_s:g} s (drumfont play --link starts one)"
        return describe(peers, session.link.tempo)   # not playing/stopped: see the module docstring
    finally:
        session.close()
