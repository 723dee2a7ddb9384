"""The live player's parent-side handle: starts the clock (`clock.py`, its own process) and talks to
it over a pipe and a few shared-memory slots.

Parent-side API (the TUI builds on this)::

    from drumfont.live import Player, PortSpec, RecordingPort
    with Player(port=PortSpec(virtual="drumfont"), notemap="gm", bpm=120, swing=54, gate=0.5) as p:
        p.set_pattern(pattern)               # Pattern; at="bar" (next bar line) or at="now"
        p.start()                            # from bar 1 (sends Start when clock out is on)
        p.set_chain([(a, 2), (b, 2)], loop=True)   # song mode, queued to the next bar line
        p.set_tempo(140); p.set_swing(60); p.set_gate(0.8)
        p.set_swing_timed(True)              # swing bars with their own timing too (default: straight only)
        p.set_mute(KICK, True); p.set_solo(SNARE, True)
        p.set_clock_out(True)                # 24 ppq + Start/Stop/Continue/SPP
        p.follow("some input")               # lock to incoming clock; follow(None) = lead again
        p.set_link(4)                        # join Ableton Link, quantum 4 (None: leave); link.py
        p.link_state()  # -> (peers, session playing), or None when Link is off
        p.set_notemap("tr8s"); p.set_bars(8)  # note map; stop after 8 bars (None: never)
        p.playhead()    # -> (bar, step) from 0, or None when stopped; never blocks
        p.error()       # -> "port ... vanished; retrying" or None; never blocks
        p.notices()     # -> [("error"|"ok"|"stopped"|"started"|"ended", ...)] since the last call;
                        #    a stop or start that came from the leader / the Link session says
                        #    which: ("stopped", step, "clock"|"link"), ("started", "link")
        p.ended(); p.bpm(); p.waiting_for_clock(); p.chain_entry(); p.priority; p.port_name
        p.stop(); p.resume()
        p.audition(SNARE); p.audio_counts()  # kit only: (underruns from the backend, late notes)
    # leaving the block (or close(), Ctrl-C, process exit) sends note-offs + All Notes Off

Every setter returns at once (it writes one message to the pipe). `port` is either a
`PortSpec` (opened in the clock process) or any object with `send(msg)` (a mido port, a
`RecordingPort`), which implies `in_process=True`. For tests without a MIDI system::

    port = RecordingPort()
    p = Player(port=port, bpm=300)           # in_process implied
    p.set_pattern(pattern); p.start(); ...; p.close()
    port.messages()   # [(0x99, 36, 90), (0x89, 36, 0), ...]

Where the clock runs and how it keeps time: `clock.py`'s docstring.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import multiprocessing as mp
import sys
import threading
import time
import types
from multiprocessing.connection import Connection
from typing import Any, Sequence

import numpy as np

from drumfont.errors import DrumfontError, LiveMidiError
from drumfont.live import clock
from drumfont.live import link as lk
from drumfont.live import schedule as sch
from drumfont.live.clock import (
    N_SLOTS,
    SLOT_BPM,
    SLOT_CALLBACK,
    SLOT_ENTRY,
    SLOT_LATE,
    SLOT_LINK_PEERS,
    SLOT_LINK_PLAYING,
    SLOT_STATE,
    SLOT_STEP,
    SLOT_UNDERRUNS,
    STATE_PLAYING,
    STATE_WAITING,
    ClockConfig,
)
from drumfont.live.ports import PortSpec
from drumfont.score.notemap import GM, NoteMap, load_notemap
from drumfont.score.pattern import STEPS, Pattern


def _user_value(check, value):
    try:
        return check(value)
    except ValueError as exc:
        raise DrumfontError(str(exc)) from None


@contextlib.contextmanager
def _spawn_safe():
    """Make the parent safe to spawn the clock from.

    - Hide the parent's __main__: 'spawn' re-runs the main script in the child, which would
      import torch and textual there (seconds, and memory) and, in a script without an
      `if __name__ == "__main__"` guard, start another player. The clock needs nothing from it.
    - Hand spawn a real stderr: Textual swaps sys.stderr for an object whose fileno() is -1, and
      multiprocessing passes that number on to the child and its resource tracker, failing with
      "bad value(s) in fds_to_keep"."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    saved_err = sys.stderr
    try:
        usable = saved_err is not None and saved_err.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if not usable and sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = saved_err
        if main is not None:
            sys.modules["__main__"] = main


# --- the parent-side handle ----------------------------------------------------------------------

class Player:
    """Handle on the clock: setters send one message down a pipe; readers never block.

    port: a PortSpec (opened by the clock), or an object with send(msg) (implies in_process).
    notemap: a NoteMap or a name/path for load_notemap. in_process: run the clock in a thread
    of this process instead of its own process (see the module docstring for the cost).
    link: join an Ableton Link session with this quantum in beats (None: no Link).
    """

    def __init__(self, port: PortSpec | Any = None, notemap: NoteMap | str | None = None,
                 bpm: float = 120.0, swing: float = 50.0, gate: float = 0.5, clock_out: bool = False,
                 bars: int | None = None, in_process: bool | None = None, spin_us: int = 1000,
                 record_timing: bool = False, nice: int = -5, realtime: bool = True,
                 swing_timed: bool = False, midi: bool = True, audio: Any = None,
                 link: int | None = None) -> None:
        port = PortSpec() if port is None else port
        self._spec = port if isinstance(port, PortSpec) else None
        self._port_obj = None if self._spec else port
        if self._port_obj is not None and not hasattr(port, "send"):
            raise TypeError("port must be a PortSpec or an object with send(msg)")
        self.in_process = bool(in_process) or self._port_obj is not None
        nm = notemap if isinstance(notemap, NoteMap) else load_notemap(notemap)
        if bars is not None and bars < 1:
            raise DrumfontError("--bars must be at least 1")
        if link is not None:
            link = _link_quantum(link)
        self.config = ClockConfig(
            bpm=_user_value(sch.check_bpm, bpm), swing=_user_value(sch.check_swing, swing),
            gate=_user_value(sch.check_gate, gate), notes=tuple(nm.notes), clock_out=bool(clock_out),
            bars=bars, spin_us=int(spin_us), record_timing=record_timing, nice=int(nice),
            realtime=bool(realtime), swing_timed=bool(swing_timed), midi=bool(midi), audio=audio, link=link)
        if not midi and audio is None:
            raise DrumfontError("nothing to play to: MIDI and audio are both off")
        self.notemap = nm
        self.audio_name = ""       # '<host API>: <device>' of the built-in kit's output, when open
        self.audio_delay_ms = 0.0  # how far the kit's notes sound after their MIDI twins
        self.off: dict[str, str] = {}  # 'MIDI'/'audio' -> why that output is off
        self._conn: Connection | None = None
        self._worker: Any = None
        self._shared = None
        self._errors: collections.deque[str] = collections.deque()
        self._notices: collections.deque[tuple] = collections.deque()
        self._ended = False
        self._port_name = ""
        self.priority = ""   # how the OS runs the clock: 'SCHED_FIFO 20', 'nice -5', 'normal', ...
        self._lock = threading.Lock()

    # lifecycle -----------------------------------------------------------------------------------
    def open(self, timeout: float = 20.0) -> Player:
        """Launch the clock and open the port; LiveMidiError if the port cannot open."""
        if self._conn is not None:
            return self
        ctx = mp.get_context("spawn")
        with _spawn_safe():
            self._shared = ctx.RawArray("d", N_SLOTS)
            parent, child = ctx.Pipe(duplex=True)
            if self.in_process:
                self._worker = threading.Thread(
                    target=clock.run_in_thread, args=(child, self._shared, self._port_obj, self._spec, self.config),
                    name="drumfont-clock", daemon=True)
            else:
                self._worker = ctx.Process(target=clock.run_in_child,
                                           args=(child, self._shared, self._spec, self.config),
                                           name="drumfont-clock", daemon=True)
            self._worker.start()
        self._conn = parent
        if not parent.poll(timeout):
            self._kill()
            raise LiveMidiError("the MIDI clock did not start within "
                                f"{timeout:g} s (the machine may be overloaded)")
        msg = parent.recv()
        if msg[0] == "fatal":
            self._kill()
            raise LiveMidiError(msg[1])
        self._port_name, self.priority = msg[1], msg[2]
        if msg[3] is not None:
            self.audio_name, self.audio_delay_ms = msg[3]
        self.off = dict(msg[4])
        atexit.register(self.close)
        return self

    @property
    def port_name(self) -> str:
        """The name of the open output port."""
        return self._port_name

    def close(self, timeout: float = 3.0) -> None:
        """Silence (note-offs, All Notes Off, Stop) and end the clock. Safe to call twice."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        if self._conn is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(("close",))
        deadline = time.monotonic() + timeout
        with contextlib.suppress(OSError, EOFError, ValueError):
            while time.monotonic() < deadline and self._conn.poll(max(0.0, deadline - time.monotonic())):
                if self._conn.recv()[0] == "closed":
                    break
        self._worker.join(max(0.0, deadline - time.monotonic()))
        self._kill()

    def _kill(self) -> None:
        if isinstance(self._worker, mp.process.BaseProcess) and self._worker.is_alive():
            self._worker.terminate()  # SIGTERM: the clock still sends its note-offs
            self._worker.join(1.0)
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None

    def __enter__(self) -> Player:
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _cmd(self, *msg: Any) -> None:
        if self._conn is None:
            self.open()
        try:
            with self._lock:
                self._conn.send(msg)
        except (OSError, ValueError):
            raise LiveMidiError("the MIDI clock has stopped; restart the player") from None

    # transport -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Play from bar 1 (Start to followers when clock out is on)."""
        self._ended = False
        self._cmd("start")

    def stop(self) -> None:
        """Stop: note-offs, All Notes Off, Stop to followers."""
        self._cmd("stop")

    def resume(self) -> None:
        """Continue from where stop() left off (Song Position Pointer + Continue)."""
        self._ended = False
        self._cmd("resume")

    # music -----------------------------------------------------------------------------------------
    def set_pattern(self, pattern: Pattern, at: str = "bar") -> None:
        """Loop one pattern, from the next bar line (at='bar') or the next sixteenth (at='now')."""
        if at not in ("bar", "now"):
            raise ValueError("at must be 'bar' or 'now'")
        self._cmd("pattern", _wire(pattern), at)

    def set_chain(self, chain: Sequence[tuple[Pattern, int]], loop: bool = True, at: str = "bar",
                  keep_place: bool = False) -> None:
        """Song mode: [(pattern, bars), ...] in order; loop, or stop at the end (then ended()).
        `keep_place`: from the next bar line, go on where the old chain would have (an edit)."""
        entries = [(_wire(p), int(n)) for p, n in chain]
        if not entries or any(n < 1 for _, n in entries):
            raise DrumfontError("a chain needs at least one pattern, each for at least one bar")
        self._cmd("chain", entries, bool(loop), at, bool(keep_place))

    def set_tempo(self, bpm: float) -> None:
        """Tempo in BPM (20..300), applied now without a jump in phase."""
        self._cmd("tempo", _user_value(sch.check_bpm, bpm))

    def set_swing(self, pct: float) -> None:
        """MPC swing percent (50..75), from the next sixteenth."""
        self._cmd("swing", _user_value(sch.check_swing, pct))

    def set_swing_timed(self, on: bool) -> None:
        """Swing bars that carry their own timing too (default off: only straight bars swing)."""
        self._cmd("swing_timed", bool(on))

    def set_gate(self, gate: float) -> None:
        """Note length as a share of a sixteenth (0..1], from the next sixteenth."""
        self._cmd("gate", _user_value(sch.check_gate, gate))

    def set_notemap(self, notemap: NoteMap | str) -> None:
        """Output note map, from the next sixteenth."""
        nm = notemap if isinstance(notemap, NoteMap) else load_notemap(notemap)
        self.notemap = nm
        self._cmd("notes", tuple(nm.notes))

    def set_mute(self, voice: int, on: bool) -> None:
        """Mute (True) or unmute a voice 0..8, at once."""
        self._cmd("mute", _voice(voice), bool(on))

    def set_solo(self, voice: int, on: bool) -> None:
        """Solo (True) or unsolo a voice 0..8, at once."""
        self._cmd("solo", _voice(voice), bool(on))

    def set_clock_out(self, on: bool) -> None:
        """Send MIDI clock (24 ppq) and transport as leader."""
        self._cmd("clock_out", bool(on))

    def set_bars(self, bars: int | None) -> None:
        """Stop after this many bars from the start (None: play until stopped)."""
        self._cmd("bars", bars)

    def audition(self, voice: int, velocity: int = 100) -> None:
        """Sound a voice on the built-in kit at once (no MIDI is sent); nothing without audio."""
        self._cmd("audition", _voice(voice), max(1, min(127, int(velocity))))

    def audio_counts(self) -> tuple[int, int]:
        """(buffer underruns reported by the audio backend, notes struck late), updated a few
        times a second; (0, 0) without audio."""
        if self._shared is None:
            return 0, 0
        return int(self._shared[SLOT_UNDERRUNS]), int(self._shared[SLOT_LATE])

    def audio_callback_ms(self) -> float:
        """The longest time the audio callback took so far (its budget is one block)."""
        return float(self._shared[SLOT_CALLBACK]) if self._shared is not None else 0.0

    def follow(self, port: str | None, backend: str | None = None) -> None:
        """Lock to the MIDI clock arriving on input `port` (None: lead again; Link goes off while
        following). Errors via error()."""
        self._cmd("follow", port, backend)

    def set_link(self, quantum: int | None) -> None:
        """Join an Ableton Link session with this quantum in beats (None: leave it); following
        MIDI clock goes off. DrumfontError at once where aalink is not installed."""
        self._cmd("link", None if quantum is None else _link_quantum(quantum))

    def link_state(self) -> tuple[int, bool] | None:
        """(other peers in the Link session, whether the session plays as this peer knows it), or
        None when Link is off. Link shares start/stop as changes only: just after joining a
        playing session, this says False until someone starts or stops it."""
        if self._shared is None or self._shared[SLOT_LINK_PEERS] < 0:
            return None
        return int(self._shared[SLOT_LINK_PEERS]), bool(self._shared[SLOT_LINK_PLAYING])

    # readers (never block) ---------------------------------------------------------------------
    def _drain(self) -> None:
        conn = self._conn
        if conn is None:
            return
        with contextlib.suppress(OSError, EOFError, ValueError):
            while conn.poll():
                msg = conn.recv()
                if msg[0] == "error":
                    self._errors.append(msg[1])
                elif msg[0] == "ended":
                    self._ended = True
                self._notices.append(msg)

    def playhead(self) -> tuple[int, int] | None:
        """(bar, step) sounding now, both from 0; None when stopped."""
        if self._shared is None:
            return None
        step = self._shared[SLOT_STEP]
        if step < 0 or self._shared[SLOT_STATE] != STATE_PLAYING:
            return None
        bar, s = divmod(int(step), STEPS)
        return bar, s

    def chain_entry(self) -> int:
        """Index of the chain entry playing now."""
        return int(self._shared[SLOT_ENTRY]) if self._shared is not None else 0

    def bpm(self) -> float:
        """Tempo now (in follow mode: measured from the incoming clock)."""
        return float(self._shared[SLOT_BPM]) if self._shared is not None else self.config.bpm

    def waiting_for_clock(self) -> bool:
        """Follow mode or Link, and the leader (the session) has not started."""
        return self._shared is not None and self._shared[SLOT_STATE] == STATE_WAITING

    def error(self) -> str | None:
        """The latest problem the clock reported (port vanished, follow input missing), once."""
        self._drain()
        return self._errors.popleft() if self._errors else None

    def notices(self) -> list[tuple]:
        """Everything the clock reported since the last call: ('error'|'ok'|'stopped'|'started'|
        'ended', ...); a stop or start from the leader or the Link session names it last."""
        self._drain()
        out = list(self._notices)
        self._notices.clear()
        return out

    def ended(self) -> bool:
        """Whether a --bars limit or a non-looping chain has played out."""
        self._drain()
        return self._ended

    def alive(self) -> bool:
        """Whether the clock is running."""
        return self._worker is not None and self._worker.is_alive()

    def timing(self, timeout: float = 10.0) -> np.ndarray:
        """(N, 3) int64 of (deadline ns, sent ns, status byte) per message; needs record_timing."""
        self._cmd("timing")
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._conn.poll(max(0.0, end - time.monotonic())):
            msg = self._conn.recv()
            if msg[0] == "timing":
                return msg[1]
            self._notices.append(msg)
            if msg[0] == "error":
                self._errors.append(msg[1])
        raise LiveMidiError("the clock did not return its timing record")


def _wire(pattern: Pattern) -> tuple[np.ndarray, np.ndarray | None]:
    """A pattern as it travels down the pipe: velocities, and offsets only where it has timing."""
    return np.asarray(pattern.velocities), (np.asarray(pattern.offsets) if pattern.timed else None)


def _link_quantum(quantum: int) -> int:
    """A checked quantum; DrumfontError where it is out of range or aalink is missing."""
    hint = lk.missing()
    if hint:
        raise DrumfontError(hint)
    return lk.check_quantum(quantum)


def _voice(voice: int) -> int:
    if not 0 <= int(voice) < len(GM.notes):
        raise DrumfontError(f"voice {voice} is outside 0..{len(GM.notes) - 1}")
    return int(voice)
