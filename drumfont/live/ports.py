"""MIDI ports through python-rtmidi: backends, listing, opening by name or as a virtual port,
and a RecordingPort for tests.

python-rtmidi is used directly (mido's rtmidi backend wraps the same library): the clock sends
raw byte lists, and skipping mido's Message objects keeps the send path short. Backend names
follow mido's: `--backend jack` or MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK pick the same
API. Every failure is a LiveMidiError whose message says what to do.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import mido

from drumfont.errors import LiveMidiError
from drumfont.quiet import quiet_stderr

# Our backend name -> (rtmidi API constant name, mido's name for it).
BACKENDS: dict[str, tuple[str, str]] = {
    "alsa": ("API_LINUX_ALSA", "LINUX_ALSA"),
    "jack": ("API_UNIX_JACK", "UNIX_JACK"),
    "coremidi": ("API_MACOSX_CORE", "MACOSX_CORE"),
    "windows": ("API_WINDOWS_MM", "WINDOWS_MM"),
}

# rtmidi's JACK output hands what it was sent to the next JACK cycle, and its close_port()
# unregisters the port as soon as that cycle has taken the messages -- before the clients
# downstream have read them in the same cycle. Measured (tests/test_live_exits.py, a 1024-frame
# server): 2 of 5 Ctrl-C runs lost the final note-off and All Notes Off. So a JACK port waits this
# long after its last message before it closes: two periods of 2048 frames at 44.1 kHz.
JACK_DRAIN_S = 0.1

NO_RTMIDI = ("python-rtmidi is not installed, so live MIDI is off (the rest of drumfont works); "
             "install it with `pip install python-rtmidi` (it may have no wheel for your Python yet: "
             "use Python 3.11 or 3.12)")


def rtmidi_module():
    """The rtmidi module, or a LiveMidiError saying how to get it."""
    try:
        import rtmidi  # noqa: PLC0415 (optional system library: a missing one is reported when it is used)
    except ImportError:
        raise LiveMidiError(NO_RTMIDI) from None
    return rtmidi




def _default_backends() -> list[str]:
    if sys.platform.startswith("linux"):
        return ["alsa", "jack"]
    if sys.platform == "darwin":
        return ["coremidi", "jack"]
    if sys.platform.startswith("win"):
        return ["windows"]
    return ["alsa", "jack"]


def backend_from_env() -> str | None:
    """Our backend name from MIDO_BACKEND (e.g. 'mido.backends.rtmidi/UNIX_JACK'), if set."""
    value = os.environ.get("MIDO_BACKEND", "")
    if "/" not in value:
        return None
    api = value.rsplit("/", 1)[1].upper()
    for name, (_, mido_name) in BACKENDS.items():
        if api == mido_name:
            return name
    raise LiveMidiError(f"MIDO_BACKEND={value}: unknown API {api!r}; use one of "
                        + ", ".join(m for _, m in BACKENDS.values()))


def compiled_backends() -> list[str]:
    """Our backend names that this python-rtmidi build supports."""
    rtmidi = rtmidi_module()
    apis = set(rtmidi.get_compiled_api())
    return [n for n, (const, _) in BACKENDS.items() if getattr(rtmidi, const, None) in apis]


def _api(backend: str) -> int:
    rtmidi = rtmidi_module()
    key = backend.lower()
    if key not in BACKENDS:
        raise LiveMidiError(f"unknown MIDI backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if key not in compiled_backends():
        raise LiveMidiError(f"this python-rtmidi has no {key} support; available: "
                            f"{', '.join(compiled_backends()) or 'none'}")
    return getattr(rtmidi, BACKENDS[key][0])


def _hint(backend: str) -> str:
    return {
        "alsa": "no ALSA sequencer (is snd-seq loaded? `sudo modprobe snd-seq`)",
        "jack": "no JACK server running (start one, e.g. `jackd -d dummy` or via qjackctl/pipewire-jack)",
        "coremidi": "CoreMIDI did not start",
        "windows": "Windows MIDI did not start",
    }[backend]


def _client(kind: str, backend: str, client_name: str):
    rtmidi = rtmidi_module()
    cls = rtmidi.MidiOut if kind == "out" else rtmidi.MidiIn
    try:
        with quiet_stderr():
            return cls(_api(backend), name=client_name)
    except rtmidi.RtMidiError as exc:
        raise LiveMidiError(f"{backend}: {_hint(backend)} ({exc})") from None


def pick_backend(backend: str | None = None, client_name: str = "drumfont", kind: str = "out"):
    """(backend name, rtmidi client) for the named backend, MIDO_BACKEND, or the first of the
    platform's backends that starts. One LiveMidiError lists what was tried."""
    wanted = backend or backend_from_env()
    if wanted:
        return wanted.lower(), _client(kind, wanted.lower(), client_name)
    tried = []
    for name in _default_backends():
        if name not in compiled_backends():
            continue
        try:
            return name, _client(kind, name, client_name)
        except LiveMidiError as exc:
            tried.append(str(exc))
    raise LiveMidiError("no MIDI system could start: " + "; ".join(tried or ["no backend compiled in"])
                        + ". Start one, or choose it with --backend")


def list_ports(backend: str | None = None) -> dict[str, dict[str, list[str] | str]]:
    """{backend: {"outputs": [...], "inputs": [...]}} for each backend that starts, or
    {backend: {"error": "..."}} for one that does not."""
    names = [backend.lower()] if backend else ([backend_from_env()] if backend_from_env() else
                                               [b for b in _default_backends() if b in compiled_backends()])
    result: dict[str, dict[str, list[str] | str]] = {}
    for name in names:
        try:
            out = _client("out", name, "drumfont-list")
            inp = _client("in", name, "drumfont-list")
            result[name] = {"outputs": list(out.get_ports()), "inputs": list(inp.get_ports())}
            out.delete()
            inp.delete()
        except LiveMidiError as exc:
            result[name] = {"error": str(exc)}
    return result


def match_port(names: list[str], query: str, kind: str = "output") -> int:
    """Index of the port whose name contains `query` (case-insensitive); an exact name wins.
    Missing or ambiguous -> LiveMidiError listing the ports."""
    q = query.lower()
    exact = [i for i, n in enumerate(names) if n.lower() == q]
    if len(exact) == 1:
        return exact[0]
    hits = [i for i, n in enumerate(names) if q in n.lower()]
    listing = ", ".join(repr(n) for n in names) or "none"
    if not hits:
        raise LiveMidiError(f"no MIDI {kind} matches {query!r}; {kind}s: {listing}")
    if len(hits) > 1:
        raise LiveMidiError(f"MIDI {kind} {query!r} is ambiguous: it matches "
                            + ", ".join(repr(names[i]) for i in hits) + "; give more of the name")
    return hits[0]


@dataclass(frozen=True)
class PortSpec:
    """Where the player sends (or follow mode listens): a port by name, or a virtual port.

    Plain data so that it crosses into the clock process. `name` is a case-insensitive
    substring of an existing port; otherwise a virtual port called `virtual` is created.
    """

    name: str | None = None
    virtual: str | None = "drumfont"
    backend: str | None = None
    client_name: str = "drumfont"

    def describe(self) -> str:
        """Human name for messages."""
        return f"port {self.name!r}" if self.name else f"virtual port {self.virtual!r}"


class RtOutput:
    """An open rtmidi output: `send(bytes)`, `alive()` (the named port still exists), `close()`."""

    def __init__(self, spec: PortSpec) -> None:
        self.spec = spec
        self.backend, self._out = pick_backend(spec.backend, spec.client_name, "out")
        self.port_name = ""
        try:
            if spec.name:
                names = list(self._out.get_ports())
                idx = match_port(names, spec.name, "output")
                self.port_name = names[idx]
                self._out.open_port(idx, "out")
            else:
                if self.backend == "windows":
                    raise LiveMidiError("Windows has no virtual MIDI ports: install loopMIDI, create a port "
                                        "there and open it by name with --port NAME")
                self.port_name = spec.virtual or "drumfont"
                self._out.open_virtual_port(self.port_name)
        except LiveMidiError:
            self._out.delete()
            raise
        except Exception as exc:  # rtmidi's errors (port gone between list and open, ...)
            self._out.delete()
            raise LiveMidiError(f"cannot open {spec.describe()} on {self.backend}: {exc}") from None
        self.send = self._out.send_message  # the hot path: no wrapper call per message

    def alive(self) -> bool:
        """Whether the port we opened by name is still there (virtual ports live with us)."""
        if not self.spec.name:
            return True
        try:
            return self.port_name in self._out.get_ports()
        except Exception:
            return False

    def close(self, drain: bool = True) -> None:
        """Close the port and the client (on JACK, once the last messages have gone out, unless
        `drain` is False: a port that vanished has nothing to deliver)."""
        if drain and self.backend == "jack":
            time.sleep(JACK_DRAIN_S)
        with contextlib.suppress(Exception):
            self._out.close_port()
        with contextlib.suppress(Exception):
            self._out.delete()


def open_output(spec: PortSpec) -> RtOutput:
    """Open the output a PortSpec describes."""
    return RtOutput(spec)


def open_input(query: str, backend: str | None = None, client_name: str = "drumfont-follow"):
    """An rtmidi MidiIn on the input matching `query`, with clock and SPP not filtered
    (rtmidi drops timing messages unless told otherwise)."""
    inp = _open_midi_in(query, backend, client_name, "clock in")
    inp.ignore_types(sysex=True, timing=False, active_sense=True)
    return inp


def _open_midi_in(query: str, backend: str | None, client_name: str, port_name: str) -> Any:
    """An rtmidi MidiIn opened on the input matching `query` (deleted again on any failure)."""
    used, inp = pick_backend(backend, client_name, "in")
    try:
        inp.open_port(match_port(list(inp.get_ports()), query, "input"), port_name)
    except LiveMidiError:
        inp.delete()
        raise
    except Exception as exc:
        inp.delete()
        raise LiveMidiError(f"cannot open MIDI input {query!r} on {used}: {exc}") from None
    return inp


def open_tap_input(query: str, on_note: Callable[[int], None], backend: str | None = None) -> Any:
    """An rtmidi MidiIn on the input matching `query` that calls `on_note(velocity)` for every
    note-on (any channel, any note: a pad), on rtmidi's thread; close it with `.delete()`."""
    inp = _open_midi_in(query, backend, "drumfont-taps", "taps in")

    def callback(event, _data=None):
        msg = event[0]
        if len(msg) >= 3 and msg[0] & 0xF0 == 0x90 and msg[2] > 0:
            on_note(int(msg[2]))
    inp.set_callback(callback)
    return inp


class RecordingPort:
    """A port that records what it is sent, for tests (the TUI's too): no MIDI system needed.

    `send` takes a mido Message or a byte sequence. `messages()` returns the recorded byte
    tuples; `events()` returns (perf_counter_ns, bytes) pairs. Thread-safe.
    """

    port_name = "recording"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[int, tuple[int, ...]]] = []

    def send(self, msg: Any) -> None:
        """Record one message."""
        data = tuple(msg.bytes()) if hasattr(msg, "bytes") else tuple(int(b) for b in msg)
        with self._lock:
            self._events.append((time.perf_counter_ns(), data))

    def events(self) -> list[tuple[int, tuple[int, ...]]]:
        """(arrival ns, message bytes), in order."""
        with self._lock:
            return list(self._events)

    def messages(self) -> list[tuple[int, ...]]:
        """Message bytes in order."""
        return [m for _, m in self.events()]

    def clear(self) -> None:
        """Forget what was recorded."""
        with self._lock:
            self._events.clear()


class _MidoAdapter:
    """Lets the clock send byte lists to a mido-style port (send(Message))."""

    def __init__(self, port: Any) -> None:

        self._port, self._from_bytes = port, mido.Message.from_bytes
        self.port_name = getattr(port, "name", type(port).__name__)

    def send(self, data: list[int]) -> None:
        self._port.send(self._from_bytes(data))


def wrap_port(port: Any) -> Any:
    """A port the clock can send byte lists to: RecordingPort/RtOutput as they are, anything
    else with send(msg) (a mido port) through an adapter."""
    if isinstance(port, (RecordingPort, RtOutput)):
        return port
    return _MidoAdapter(port)
