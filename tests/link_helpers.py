"""Witnesses for the Ableton Link tests (tests/test_live_link.py) and benchmarks/bench_link.py: a
private JACK server at a short period, a JACK MIDI receiver that stamps arrivals on the machine's
monotonic clock, and a Link peer (aalink) whose beat is sampled on that same clock.

Why a receiver of our own beside jack_midi_dump: the dump stamps frames counted from its own
start, which say nothing about where the session's beat was. This receiver is a libjack client
(ctypes, in its own process, so that no Python thread of the test competes with its callback for
a GIL) that stamps what each JACK cycle delivers with perf_counter_ns() on entering its process
callback: the clock of the player's deadlines and of the peer's samples. rtmidi's JACK output
writes every message at frame 0 of the first cycle after it was sent, so a message sent at t
arrives stamped in (t, t + period + the callback's wake-up]: measured against the player's own
send record on the dev VM (real-time JACK, 256 frames = 5.33 ms), 0.26-5.36 ms, median 3.0-3.3.
(JACK's own estimate of the cycle's start, jack_frames_to_time, was tried first: with the dummy
driver it strayed up to 15 ms from the truth after a late cycle, stamping messages before they
were sent.)

Run as a script (`python tests/link_helpers.py receiver NAME SOURCE OUT.npy`) it is the receiver.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np

RATE = 48_000
PERIOD = 256            # frames: 5.3 ms at 48 kHz (64 frames lose MIDI under load; see conftest)
NOTE_ON = 0x99
CRASH = 49              # GM crash: the tests' patterns strike it on every downbeat, and only there


# --- a private JACK server ------------------------------------------------------------------------

def _jack_ports(env: dict) -> str:
    try:
        return subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


@contextlib.contextmanager
def jack_server(period: int = PERIOD, rate: int = RATE, realtime: bool = False) -> Iterator[dict]:
    """A JACK server (dummy driver, sync mode as in conftest) at `period` frames; this process's
    JACK_DEFAULT_SERVER names it while the block runs (clock processes inherit it)."""
    name = f"drumfont-link-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1")
    log = tempfile.NamedTemporaryFile(prefix="jackd-", suffix=".log", delete=False)
    rt = ["-R", "-P", "70"] if realtime else ["--no-realtime"]
    proc = subprocess.Popen(["jackd", *rt, "--sync", "-n", name, "-d", "dummy", "-r", str(rate),
                             "-p", str(period)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    end = time.monotonic() + 15
    while "system:capture_1" not in _jack_ports(env):
        if time.monotonic() > end or proc.poll() is not None:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"jackd did not start: {Path(log.name).read_text(errors='replace')[-500:]}")
        time.sleep(0.05)
    saved = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        yield env
    finally:
        if saved is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = saved
        proc.send_signal(signal.SIGTERM)
        try:
            # generously: a jackd killed before it unregisters leaves its slot in JACK's server
            # registry for good, and after 8 such no server starts on this machine at all
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


# --- the receiver (its own process) ---------------------------------------------------------------

class _MidiEvent(ctypes.Structure):
    _fields_ = [("time", ctypes.c_uint32), ("size", ctypes.c_size_t),
                ("buffer", ctypes.POINTER(ctypes.c_ubyte))]


def receiver_main(name: str, source: str, out_path: str) -> None:
    """Record (perf_counter ns of the delivering cycle's callback, status, data1, data2) per
    message until SIGTERM, then save them to `out_path` (.npy)."""
    jack = ctypes.CDLL("libjack.so.0")
    jack.jack_client_open.restype = ctypes.c_void_p
    jack.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    jack.jack_port_register.restype = ctypes.c_void_p
    jack.jack_port_register.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                                        ctypes.c_ulong]
    jack.jack_port_get_buffer.restype = ctypes.c_void_p
    jack.jack_port_get_buffer.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    jack.jack_midi_get_event_count.restype = ctypes.c_uint32
    jack.jack_midi_get_event_count.argtypes = [ctypes.c_void_p]
    jack.jack_midi_event_get.argtypes = [ctypes.POINTER(_MidiEvent), ctypes.c_void_p, ctypes.c_uint32]
    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)
    jack.jack_set_process_callback.argtypes = [ctypes.c_void_p, callback_type, ctypes.c_void_p]
    jack.jack_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    jack.jack_activate.argtypes = [ctypes.c_void_p]
    jack.jack_client_close.argtypes = [ctypes.c_void_p]
    status = ctypes.c_int(0)
    client = jack.jack_client_open(name.encode(), 1, ctypes.byref(status))  # 1 = JackNoStartServer
    if not client:
        raise SystemExit(f"receiver: cannot open a JACK client (status {status.value})")
    port = jack.jack_port_register(client, b"input", b"8 bit raw midi", 1, 0)  # 1 = JackPortIsInput
    rows: list[tuple[int, int, int, int]] = []
    ev = _MidiEvent()
    now = time.perf_counter_ns

    def process(nframes, _arg):
        t = now()
        buf = jack.jack_port_get_buffer(port, nframes)
        for i in range(jack.jack_midi_get_event_count(buf)):
            if jack.jack_midi_event_get(ctypes.byref(ev), buf, i) == 0 and ev.size:
                data = [ev.buffer[k] for k in range(min(3, ev.size))] + [0, 0]
                rows.append((t, data[0], data[1], data[2]))
        return 0

    cb = callback_type(process)
    jack.jack_set_process_callback(client, cb, None)
    jack.jack_activate(client)
    if jack.jack_connect(client, source.encode(), f"{name}:input".encode()) != 0:
        raise SystemExit(f"receiver: cannot connect {source}")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    while not done.wait(0.2):
        pass
    jack.jack_client_close(client)
    np.save(out_path, np.array(rows, dtype=np.int64).reshape(-1, 4))


class Receiver:
    """The receiver process, connected to JACK output port `source`; stop() -> (N, 4) int64 of
    (arrival ns, status, data1, data2) in arrival order."""

    def __init__(self, source: str) -> None:
        fd, self.path = tempfile.mkstemp(suffix=".npy")
        os.close(fd)
        self.proc = subprocess.Popen([sys.executable, __file__, "receiver", f"rx{uuid.uuid4().hex[:6]}",
                                      source, self.path], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("the JACK receiver did not start")
        Receiver._alive.append(self)

    @classmethod
    def kill_all(cls) -> None:
        """End the receivers a failed test left running."""
        while cls._alive:
            rx = cls._alive.pop()
            if rx.proc.poll() is None:
                rx.proc.kill()
                rx.proc.wait()
            with contextlib.suppress(OSError):
                os.unlink(rx.path)

    _alive: list[Receiver] = []

    def stop(self, settle: float = 0.2) -> np.ndarray:
        """End the receiver and read what it recorded."""
        time.sleep(settle)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        try:
            return np.load(self.path)
        finally:
            os.unlink(self.path)
            with contextlib.suppress(ValueError):
                Receiver._alive.remove(self)


# --- a Link peer in this process ------------------------------------------------------------------

class Peer:
    """An aalink peer (quantum 4, start/stop sync on) whose (time, beat, tempo) is sampled every
    `every_s` on perf_counter's clock, so that its beat at any instant of a run can be looked up."""

    def __init__(self, bpm: float, quantum: int = 4, every_s: float = 0.002) -> None:
        import aalink

        from drumfont.live.link import make_link

        self.link, self._loop = make_link(aalink, bpm)
        self.link.quantum = quantum
        self.link.start_stop_sync_enabled = True
        self.link.enabled = True
        self.quantum = quantum
        self._rows: list[tuple[int, float, float]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._sample, name="link-peer-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        link, now = self.link, time.perf_counter_ns
        while not self._stop.wait(self._every):
            t0 = now()
            beat = link.beat
            t1 = now()
            if t1 - t0 < 200_000:
                row = ((t0 + t1) // 2, beat, link.tempo)
                with self._lock:
                    self._rows.append(row)

    def samples(self) -> np.ndarray:
        """(N, 3) float64 of (ns, beat, bpm)."""
        with self._lock:
            return np.array(self._rows, dtype=np.float64).reshape(-1, 3)

    def phase_error_ms(self, t_ns: np.ndarray) -> np.ndarray:
        """How far each instant lies from the nearest bar line (phase 0 of the quantum), in ms:
        the peer's beat there, from the last sample before it at that sample's tempo."""
        s = self.samples()
        idx = np.clip(np.searchsorted(s[:, 0], t_ns, side="right") - 1, 0, len(s) - 1)
        beat = s[idx, 1] + (t_ns - s[idx, 0]) / 60e9 * s[idx, 2]
        off = (beat + self.quantum / 2) % self.quantum - self.quantum / 2
        return off * 60e3 / s[idx, 2]

    def beat_at(self, t_ns: np.ndarray) -> np.ndarray:
        """The peer's beat at each instant (as phase_error_ms reads it)."""
        s = self.samples()
        idx = np.clip(np.searchsorted(s[:, 0], t_ns, side="right") - 1, 0, len(s) - 1)
        return s[idx, 1] + (t_ns - s[idx, 0]) / 60e9 * s[idx, 2]

    def wait_for_peers(self, n: int = 1, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while self.link.num_peers < n:
            if time.monotonic() > end:
                return False
            time.sleep(0.01)
        return True

    def assert_alone(self, timeout: float = 6.0) -> None:
        """Fail unless the peer is alone in its session (waiting out Link's 5 s time-to-live of
        peers that just left): a test needs the session to itself (a Link session cannot be
        fenced off from other Link apps on the machine or its network)."""
        end = time.monotonic() + timeout
        while self.link.num_peers and time.monotonic() < end:
            time.sleep(0.02)
        others = self.link.num_peers
        assert others == 0, (f"{others} other Link peer(s) on this machine or its network joined the "
                             "test's session: run the Link tests where no other Link app runs")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.link.enabled = False
        self.link = None         # its destructor waits until the others were told it left
        if self._loop is not None:
            self._loop.close()


def downbeats(rows: np.ndarray, note: int = CRASH) -> np.ndarray:
    """Arrival ns of the note-ons of `note` (the tests strike the crash on downbeats only)."""
    sel = (rows[:, 1] == NOTE_ON) & (rows[:, 2] == note) & (rows[:, 3] > 0)
    return rows[sel, 0]


def sent_estimate(arrivals_ns: np.ndarray, period: int = PERIOD, rate: int = RATE) -> np.ndarray:
    """Where in its period each message was most likely sent: half a period before its arrival
    (the module docstring says why)."""
    return arrivals_ns - period * 1e9 / rate / 2


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "receiver":
        receiver_main(*sys.argv[2:])
    else:
        raise SystemExit("usage: link_helpers.py receiver NAME SOURCE OUT.npy")
