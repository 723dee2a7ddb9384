"""The clock: the loop that sends patterns to a MIDI port (and the kit) on time, in its own process.

Where the clock runs, and why (benchmarks/bench_player.py; figures in reports/README.md, measured on a
2-core box shared with training jobs, load average 7-10): a clock *thread* in a process whose
other threads run Python (the TUI redrawing, the VAE sampling) must win the GIL back after
every sleep, so it sends late by p50 2.4-6.6 ms, p99 11-35 ms, max 19-78 ms. The same loop in
its own *process*, fed over a pipe, sees no GIL: with the real-time priority it asks for
(SCHED_FIFO, granted to root or to members of an rtprio group, as JACK users are) it sends
within p99 0.06-0.16 ms, idle or loaded (max mostly under 0.5 ms; rare single messages up to
5.6 ms late when both CPUs were saturated); at normal priority on that overloaded box the CPU
itself is the bottleneck (p99 1.7-14 ms), which no placement fixes. So the clock is a child
process started with 'spawn' (nothing of the parent's torch state is inherited; the parent's
__main__ is not re-run, see `player._spawn_safe`), raising its own priority (`_raise_priority`) and
collecting its garbage only in the slack between deadlines; `in_process=True` runs the very
same loop in a thread, for tests and for plain Python ports.

How it waits: every deadline is absolute (`schedule.TempoMap`: position -> ns from one anchor,
so nothing accumulates). The loop sleeps in `connection.wait` on the command pipe until
`spin_us` before the deadline (so a command wakes it at once), then spins on
`time.perf_counter_ns()` to the deadline: sleeping alone overshoots by the kernel's wake-up
latency (50 us .. several ms on a loaded box); the short spin removes it. poll() rounds its
timeout up to whole milliseconds, so the sleep is cut to whole ms below the spin window.

Sound without a DAW: `audio=AudioSpec(...)` (drumfont.audio.engine) also plays the built-in GM
kit on a PortAudio output, from this same clock in this same process: the clock hands each
message to the audio engine at its deadline, as it sends MIDI, and the engine strikes it a fixed
delay later at its exact frame (the engine's docstring says why and how much). `midi=False`
opens no MIDI port (audio only); where both are asked for and one cannot open, the other plays
and `off` says why. `audition(voice)` strikes a voice on the kit at once.

Changes of pattern, swing, gate and note map apply from the first sixteenth not yet scheduled
(the clock schedules one sixteenth ahead, `schedule.LOOKAHEAD`, because a hit with a negative
offset sounds up to half a sixteenth before its step); at="bar" waits for the first bar line not
yet scheduled. Mute and solo apply at send time. Tempo applies at once, keeping the phase.

Micro-timing (schedule.py's docstring has the rules): each hit sounds at step + offset, swing is
added to straight bars only unless `swing_timed=True`, the first step after a start is clamped to
its downbeat, and MIDI clock pulses stay on the grid, so bars line up with followers.

Ableton Link (`link=quantum`, link.py): the loop also reads the Link session every link.POLL_NS
(2 ms; a read costs about 1 us) and re-anchors the tempo map on the session's timeline, so the
same absolute deadlines and the same spin follow the session's tempo and bar lines; MIDI clock
out, being scheduled in musical position like the notes, follows at the session's tempo. The
session's start and stop start and stop the player; its own start, stop and tempo go to the
session. link.py's docstring says why Link is read synchronously here rather than through
aalink's asyncio API.

The parent-side handle that starts it and talks to it is `player.Player`.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import heapq
import math
import os
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from drumfont.audio.engine import open_engine
from drumfont.errors import DrumfontError
from drumfont.live import link as lk
from drumfont.live import schedule as sch
from drumfont.live.leaders import Leaders
from drumfont.live.ports import PortSpec, open_output, wrap_port
from drumfont.live.sync import ClockFollower
from drumfont.score.midifile import Timing
from drumfont.score.notemap import GM, NoteMap
from drumfont.score.pattern import STEPS, Pattern

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
MAX_TIMING_RECORDS = 2_000_000


@dataclass(frozen=True)
class ClockConfig(Timing):
    """Everything the clock needs at launch (the timing a file would get, and more); plain data
    so that it pickles into the child."""

    notes: tuple[int, ...] = GM.notes
    clock_out: bool = False
    bars: int | None = None          # stop after this many bars (None: until stopped)
    spin_us: int = 1000              # spin this long before each deadline (0: sleep only)
    record_timing: bool = False      # keep (deadline, sent) per message, for the benchmark
    nice: int = -5                   # the clock process asks for this priority (granted to root only)
    realtime: bool = True            # ask for SCHED_FIFO first (granted with CAP_SYS_NICE / rtprio)
    midi: bool = True                # open the MIDI port (False: audio only)
    audio: Any = None                # an audio.engine.AudioSpec: also play the built-in kit
    link: int | None = None          # join a Link session with this quantum (beats); None: off


# --- the clock (runs in the child process or the in-process thread) -----------------------------

class Clock(Leaders):
    def __init__(self, conn: Connection, shared, port: Any, cfg: ClockConfig, spec: PortSpec | None) -> None:
        self.conn, self.shared, self.cfg, self.spec = conn, shared, cfg, spec
        self.port = port
        self.priority = "thread of the caller"
        self.manage_gc = False          # the child process collects garbage only in the slack
        self.last_gc = time.perf_counter_ns()
        self.send_raw = port.send if hasattr(port, "send") else None
        self.audio: Any = None          # the built-in kit's engine (drumfont.audio), when open
        self.now = time.perf_counter_ns
        self.seq = sch.Sequencer(swing=cfg.swing, gate=cfg.gate, notemap=NoteMap("live", cfg.notes),
                                 swing_timed=cfg.swing_timed)
        self.tempo = sch.TempoMap(cfg.bpm, self.now())
        self.ledger = sch.NoteLedger()
        self.heap: list[sch.Event] = []
        self.clock_out = cfg.clock_out
        self.bars = cfg.bars
        self.spin_ns = cfg.spin_us * 1000
        self.playing = False
        self.ending = False
        self.resume_step = 0
        self.announce_clock = False
        self.closing = False
        self.port_down = False
        self.last_health = self.now()
        self.last_reopen = 0
        self.timing: list[tuple[int, int, int]] | None = [] if cfg.record_timing else None
        self.off: dict[str, str] = {}   # 'MIDI'/'audio' -> why that output did not open
        # follow mode
        self.follow_in = None
        self.follow_q: collections.deque = collections.deque()
        # rtmidi's input thread wakes the clock through a socket pair (wait() takes sockets on
        # every platform, pipes only on POSIX)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)  # a full buffer must never block rtmidi's thread
        self.follower = ClockFollower()
        # Link mode (link.py): the session whose timeline the tempo map follows
        self.link: lk.LinkFollower | None = None
        self.link_session: lk.Session | None = None
        self.link_polled = 0
        self.link_fresh = False          # switched on since the last reading
        shared[SLOT_BPM] = cfg.bpm
        shared[SLOT_STEP] = -1.0
        shared[SLOT_STATE] = STATE_STOPPED
        shared[SLOT_LINK_PEERS] = -1.0
        shared[SLOT_LINK_PLAYING] = 0.0

    # sending -----------------------------------------------------------------------------------
    def _send(self, data: tuple[int, ...], deadline: int = 0) -> None:
        if self.audio is not None:
            self.audio.send(data, deadline)
        if self.port is not None and not self.port_down:
            try:
                self.send_raw(list(data))
            except Exception as exc:  # rtmidi error or a port object that failed
                self._port_lost(f"sending failed: {exc}")
                return
        elif self.audio is None:
            return
        if self.timing is not None and deadline and len(self.timing) < MAX_TIMING_RECORDS:
            self.timing.append((deadline, self.now(), data[0]))

    def _port_lost(self, why: str) -> None:
        if not self.port_down:
            self.port_down = True
            name = self.spec.describe() if self.spec else "the MIDI port"
            self._report("error", f"{name} vanished ({why}); retrying every second")

    def _health(self, now: int) -> None:
        """Between deadlines: check a port opened by name, and try to reopen a lost one."""
        if self.spec is None:
            return
        if not self.port_down:
            if now - self.last_health >= HEALTH_EVERY_NS:
                self.last_health = now
                if not self.port.alive():
                    self._port_lost("no longer listed")
            return
        if now - self.last_reopen < REOPEN_EVERY_NS:
            return
        self.last_reopen = now
        if self.port is not None:
            with contextlib.suppress(Exception):
                self.port.close(drain=False)   # gone: nothing to deliver, and no time to wait
        try:
            self.port = open_output(self.spec)
        except DrumfontError:
            self.port = None
            return
        self.send_raw = self.port.send
        self.port_down = False
        self.ledger.sounding.clear()
        self._send(sch.ALL_NOTES_OFF)
        self._report("ok", f"{self.spec.describe()} is back")

    def _report(self, *msg: Any) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(msg)

    # transport ---------------------------------------------------------------------------------
    def _begin(self, step: int, at_ns: int, transport: tuple[tuple[int, ...], ...],
               step_ns: float | None = None) -> None:
        """Start playing at global step `step`, whose downbeat is at `at_ns` (at `step_ns` per
        sixteenth where given, else at the tempo in force)."""
        self.heap.clear()
        self.tempo.anchor(step, at_ns, step_ns)
        for data in transport:
            heapq.heappush(self.heap, sch.Event(step, sch.ORDER_TRANSPORT, data))
        heapq.heappush(self.heap, sch.Event(step - sch.LOOKAHEAD, sch.ORDER_GEN, (), tag=step))
        self.playing, self.ending = True, False
        self.shared[SLOT_STATE] = STATE_PLAYING

    def start(self, from_step: int = 0, at_ns: int | None = None, step_ns: float | None = None) -> None:
        """Start (from bar 1) or continue (from `from_step`), as leader; the first downbeat at
        `at_ns` (default: just after now)."""
        if from_step == 0:
            self.seq.rewind()
            transport = ((sch.START,),) if self.clock_out else ()
        else:
            self.seq.seek_bar(from_step // STEPS)
            transport = (sch.song_position_bytes(from_step), (sch.CONTINUE,)) if self.clock_out else ()
        self.announce_clock = False
        if step_ns is not None:
            self.shared[SLOT_BPM] = 60e9 / step_ns / 4.0
        self._begin(from_step, self.now() + START_LEAD_NS if at_ns is None else at_ns, transport, step_ns)

    def halt(self, send_stop: bool = True) -> None:
        """Stop: note-offs for what sounds, All Notes Off, Stop to followers."""
        was = self.playing
        if was:
            self.resume_step = max(0, math.ceil(self.tempo.pos_at(self.now())))
        self.playing, self.ending = False, False
        self.heap.clear()
        if was or self.ledger.sounding:
            for data in self.ledger.release_all():
                self._send(data)
        if was and send_stop and self.clock_out and self.follow_in is None:
            self._send((sch.STOP,))
        self.shared[SLOT_STEP] = -1.0
        waiting = self.follow_in is not None or self.link is not None
        self.shared[SLOT_STATE] = STATE_WAITING if waiting else STATE_STOPPED

    # scheduling --------------------------------------------------------------------------------
    def _generate(self, step: int) -> None:
        if self.bars is not None and step >= self.bars * STEPS:
            self.ending = True
            return
        events = self.seq.step_events(step)
        if self.seq.finished:
            self.ending = True
            return
        if self.clock_out and self.follow_in is None:
            if self.announce_clock:  # clock switched on while playing: tell followers where we are
                events.append(sch.Event(step, sch.ORDER_TRANSPORT, sch.song_position_bytes(step)))
                events.append(sch.Event(step, sch.ORDER_TRANSPORT, (sch.CONTINUE,)))
                self.announce_clock = False
            events.extend(sch.clock_events(step))
        events.append(sch.Event(step, sch.ORDER_MARK, (), tag=step))
        events.append(sch.Event(step + 1 - sch.LOOKAHEAD, sch.ORDER_GEN, (), tag=step + 1))
        for ev in events:
            heapq.heappush(self.heap, ev)

    def _fire(self, ev: sch.Event, deadline: int) -> None:
        if ev.order == sch.ORDER_GEN:
            self._generate(ev.tag)
        elif ev.order == sch.ORDER_MARK:
            self.shared[SLOT_STEP] = float(ev.tag)
            self.shared[SLOT_ENTRY] = float(self.seq.chain_position[0])
        else:
            for data in sch.dispatch(ev, self.seq, self.ledger):
                self._send(data, deadline)

    def _next_deadline(self) -> int | None:
        """Deadline of the heap's head, or None when there is nothing to wait for."""
        if not self.playing:
            return None
        if not self.heap:
            if self.ending:  # all note-offs of the last bar are out
                self.halt()
                self._report("ended", self.resume_step)
            return None
        head = self.heap[0]
        if self.follow_in is not None:
            # Between pulses, interpolate at the measured tempo; beyond the next pulse, wait for it.
            if head.pos >= self.follower.limit() - 1e-9:
                return None
        return self.tempo.time_of(head.pos)

    # main loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            audio = (self.audio.name, self.audio.delay_ns / 1e6) if self.audio is not None else None
            self._report("ready", self.port_name(), self.priority, audio, self.off)
            while not self.closing:
                if self.link is not None and self.now() - self.link_polled >= lk.POLL_NS:
                    self._link_poll()
                deadline = self._next_deadline()
                if deadline is None or deadline - self.now() - self.spin_ns >= 1_000_000:
                    self._idle(deadline)
                    continue
                while self.now() < deadline:
                    pass
                ev = heapq.heappop(self.heap)
                self._fire(ev, deadline)
        except (EOFError, OSError, KeyboardInterrupt, SystemExit):
            pass  # parent gone, or asked to end: fall through to silence
        except Exception as exc:
            self._report("error", f"the MIDI clock failed: {exc!r}")
            raise
        finally:
            self.shutdown()

    def port_name(self) -> str:
        """Name of the port we send to."""
        if self.port is None:
            return ""
        return getattr(self.port, "port_name", type(self.port).__name__)

    def _idle(self, deadline: int | None) -> None:
        """Wait for a command, an incoming clock message or the spin window before `deadline`;
        housekeeping (port health, garbage collection) only where the slack is long."""
        now = self.now()
        if deadline is None or deadline - now > HEALTH_ROOM_NS:  # listing ports takes a while
            self._health(now)
            if self.audio is not None:
                self.shared[SLOT_UNDERRUNS] = float(self.audio.underruns)
                self.shared[SLOT_LATE] = float(self.audio.late)
                self.shared[SLOT_CALLBACK] = self.audio.callback_max_ns / 1e6
            if self.manage_gc and now - self.last_gc > GC_EVERY_NS:
                gc.collect()
                self.last_gc = self.now()
        if deadline is None:
            timeout = 0.25 if (self.spec is not None or self.playing or self.manage_gc) else None
        else:
            # poll() sleeps in whole milliseconds, rounded up: sleep whole ms below the spin
            # window, so that the wake-up never lands past the deadline.
            sleep_ms = (deadline - self.now() - self.spin_ns) // 1_000_000
            if sleep_ms < 1:
                return
            timeout = min(sleep_ms / 1000, 0.25)  # 0.25 s: keep the housekeeping going
        if self.link is not None:   # wake up to read the session (tempo, start/stop, peers)
            timeout = lk.POLL_NS / 1e9 if timeout is None else min(timeout, lk.POLL_NS / 1e9)
        ready = wait([self.conn, self.wake_r], timeout)
        if self.conn in ready:
            while self.conn.poll():
                self._command(self.conn.recv())
                if self.closing:
                    return
        if self.wake_r in ready:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                self.wake_r.recv(4096)
            while self.follow_q:
                self._clock_in(*self.follow_q.popleft())

    def _command(self, cmd: tuple) -> None:
        op, *a = cmd
        if op == "start":
            if self.follow_in is None:
                if self.playing:
                    self.halt(send_stop=False)
                if self.link is not None:
                    self._link_start(0)
                else:
                    self.start(0)
        elif op == "resume":
            if self.follow_in is None and not self.playing:
                if self.link is not None:   # bars start on the session's bar lines
                    self._link_start(self.resume_step // STEPS * STEPS)
                else:
                    self.start(self.resume_step)
        elif op == "stop":
            self.halt()
            if self.link is not None:
                self.link_session.set_playing(False)
                self.link.session_playing = False
                self.link.stopped()
            self._report("stopped", self.resume_step)
        elif op == "tempo":
            if self.link is not None:   # to the session; a reading of it re-anchors the map
                self.link_session.set_tempo(a[0])
            if self.link is not None and self.link_session.enabled:
                self._link_poll()
            else:
                self.tempo.set_bpm(a[0], self.now())
                self.shared[SLOT_BPM] = self.tempo.bpm
        elif op == "pattern":
            self.seq.set_pattern(Pattern(*a[0]), at=a[1])
        elif op == "chain":
            self.seq.set_chain([(Pattern(*p), n) for p, n in a[0]], loop=a[1], at=a[2],
                               keep_place=len(a) > 3 and bool(a[3]))
        elif op == "swing":
            self.seq.swing = a[0]
        elif op == "swing_timed":
            self.seq.swing_timed = a[0]
        elif op == "gate":
            self.seq.gate = a[0]
        elif op == "notes":
            self.seq.notemap = NoteMap("live", tuple(a[0]))
            if self.audio is not None:
                self.audio.set_notes(tuple(a[0]))
        elif op == "mute":
            self.seq.set_mute(a[0], a[1])
        elif op == "solo":
            self.seq.set_solo(a[0], a[1])
        elif op == "clock_out":
            if a[0] and not self.clock_out and self.playing:
                self.announce_clock = True
            if not a[0] and self.clock_out and self.playing and self.follow_in is None:
                self._send((sch.STOP,))
            self.clock_out = bool(a[0])
        elif op == "bars":
            self.bars = a[0]
        elif op == "follow":
            self._set_follow(a[0], a[1])
        elif op == "link":
            self._set_link(a[0])
        elif op == "audition":
            if self.audio is not None:
                self.audio.audition(GM.note(a[0]), a[1])
        elif op == "timing":
            self._report("timing", np.array(self.timing or [], dtype=np.int64).reshape(-1, 3))
        elif op == "close":
            self.closing = True

    def shutdown(self) -> None:
        """Silence everything and release the port (also on errors and parent death)."""
        with contextlib.suppress(Exception):
            self.halt()
        with contextlib.suppress(Exception):
            self._link_off()
        with contextlib.suppress(Exception):
            if self.follow_in is not None:
                self.follow_in.cancel_callback()
                self.follow_in.delete()
        with contextlib.suppress(Exception):
            if self.spec is not None and self.port is not None:
                self.port.close()
        with contextlib.suppress(Exception):
            if self.audio is not None:
                self.audio.close()
        for sock in (self.wake_r, self.wake_w):
            with contextlib.suppress(OSError):
                sock.close()
        self._report("closed")


RT_PRIORITY = 20  # SCHED_FIFO priority: above every normal process, below JACK's own threads (70+)


def _raise_priority(cfg: ClockConfig) -> str:
    """Ask the OS to run the clock first: SCHED_FIFO where allowed (as JACK and DAWs do), else
    a better nice value, else nothing. The loop sleeps between deadlines and spins at most
    ~2 ms at a time, so a real-time clock cannot starve the machine. Returns what was granted."""
    if cfg.realtime and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
            return f"SCHED_FIFO {RT_PRIORITY}"
        except (OSError, AttributeError):
            pass
    if cfg.nice:
        try:
            os.nice(cfg.nice)
            return f"nice {cfg.nice}"
        except (OSError, AttributeError):
            pass
    return "normal"


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def run_in_child(conn: Connection, shared, spec: PortSpec, cfg: ClockConfig) -> None:
    """Entry point of the clock process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _exit_on_signal)  # terminate(): unwind, so notes are released
    # ...and let a system call the signal lands in restart rather than fail: libjack prints two
    # lines ("Cannot read socket ... Interrupted system call") for a request cut short that way.
    signal.siginterrupt(signal.SIGTERM, False)
    granted = _raise_priority(cfg)
    try:
        port, audio, off = _open_outputs(spec, None, cfg)
    except DrumfontError as exc:
        conn.send(("fatal", str(exc)))
        return
    clock = Clock(conn, shared, port, cfg, spec if port is not None else None)
    clock.priority = granted
    clock.audio, clock.off = audio, off
    if not _join_link(clock, conn, cfg):
        return
    # A collection of the cyclic GC can take milliseconds in the middle of a spin: freeze what
    # startup made, switch automatic collection off, and collect in the slack instead (_idle).
    gc.freeze()
    gc.disable()
    clock.manage_gc = True
    clock.run()


def run_in_thread(conn: Connection, shared, port: Any, spec: PortSpec | None, cfg: ClockConfig) -> None:
    try:
        port, audio, off = _open_outputs(spec, port, cfg)
    except DrumfontError as exc:
        conn.send(("fatal", str(exc)))
        return
    clock = Clock(conn, shared, port, cfg, spec if port is not None and spec is not None else None)
    clock.audio, clock.off = audio, off
    if _join_link(clock, conn, cfg):
        clock.run()


def _join_link(clock: Clock, conn: Connection, cfg: ClockConfig) -> bool:
    """Join the Link session `cfg` asks for, looking for peers for up to link.JOIN_WAIT_S so that
    the first bar is already the session's; False (and 'fatal' sent) where Link cannot start."""
    if cfg.link is None:
        return True
    try:
        clock.link_on(cfg.link, wait_s=lk.JOIN_WAIT_S)
    except DrumfontError as exc:
        conn.send(("fatal", str(exc)))
        clock.shutdown()   # closes the port (its 'closed' comes after 'fatal', unread)
        return False
    return True


def _open_outputs(spec: PortSpec | None, port_obj: Any, cfg: ClockConfig) -> tuple[Any, Any, dict[str, str]]:
    """The MIDI port (opened from `spec`, or `port_obj` wrapped) and the audio engine that `cfg`
    asks for. Where both are asked for, one that fails is reported in `off` and the other plays
    alone; where nothing opens, DrumfontError with every reason."""
    port = audio = None
    off: dict[str, str] = {}
    if cfg.midi:
        try:
            port = wrap_port(port_obj) if port_obj is not None else open_output(spec)
        except DrumfontError as exc:
            if cfg.audio is None:
                raise
            off["MIDI"] = str(exc)
    if cfg.audio is not None:
        try:
            audio = open_engine(cfg.audio)
            audio.set_notes(cfg.notes)
        except DrumfontError as exc:
            if port is None:
                raise DrumfontError("; ".join([*(f"{k} off: {v}" for k, v in off.items()),
                                               f"audio off: {exc}"])) from None
            off["audio"] = str(exc)
    return port, audio, off
