"""Live audio: the built-in kit played through PortAudio (`sounddevice`), driven by the player's
clock in the clock's own process.

How notes are timed. The clock calls `send()` at each message's deadline, exactly as it sends
MIDI. The audio callback runs once per block, ahead of the sound card by the output latency, so
a note cannot be struck "now": it is struck `delay` later, at the exact frame where the block
that plays that instant holds it. `delay` is one block plus the output latency the backend
reports plus a 3 ms margin for a late callback, fixed when the stream starts, so every note
lags its MIDI twin by the same amount and the grid's rhythm is kept to the synthesiser's
64-frame block (1.3 ms at 48 kHz). Block times are frames counted from the earliest callback
seen in the last two seconds, on the clock's `perf_counter_ns`, plus the output latency the
backend reports: a callback woken late only ever looks later, never earlier, so the minimum is
the true anchor, and the windows follow the sound card's drift. When the backend flags an
underrun it may have skipped cycles that our count did not see, so the anchor is found afresh.
(PortAudio's own stream times were tried as the clock instead: on JACK at 1024-frame periods
they jitter by +-10 ms.) A note whose frame has already gone out is struck
at the start of the next block and counted (`late`); underruns are the backend's own flags.

The callback is the only thread that touches the synthesiser; `send()` appends to a deque.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from drumfont.audio.synth import Kit, check_rate
from drumfont.errors import AudioError
from drumfont.quiet import quiet_stderr
from drumfont.score.notemap import GM

MARGIN_NS = 3_000_000          # room for a callback that wakes late
ANCHOR_WINDOW_NS = 2_000_000_000
SWITCH_INTERVAL = 0.0005       # the clock's spin loop must hand the GIL to the callback quickly
NOTE_ON, NOTE_OFF = 0x90, 0x80


@dataclass(frozen=True)
class AudioSpec:
    """Which audio output and how: plain data, so that it pickles into the clock process."""

    device: str | None = None     # part of an output's name or of its host API's; None: the default
    hostapi: str | None = None    # part of a host API's name ("JACK", "ALSA", "Core Audio", ...)
    rate: int = 48000
    soundfont: str | None = None
    blocksize: int = 0            # frames per callback; 0: the backend's own
    latency: str = "low"          # PortAudio's suggested latency: "low" or "high"

    def __post_init__(self) -> None:
        check_rate(self.rate)

    def describe(self) -> str:
        """How a person would name this output."""
        return repr(self.device) if self.device else (f"the default {self.hostapi} output" if self.hostapi else "the default output")


def _sounddevice():
    """The sounddevice module, PortAudio started quietly; AudioError when PortAudio is missing."""
    # A JACK client must not start a JACK server of its own (libjack does, by default).
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    with quiet_stderr():
        try:
            import sounddevice  # noqa: PLC0415 (optional system library: a missing one is reported when it is used)
        except (ImportError, OSError) as exc:
            raise AudioError(f"audio output needs PortAudio: install libportaudio2 (apt) / portaudio "
                             f"(brew) and pip install sounddevice ({exc})") from None
    return sounddevice


def choose_device(spec: AudioSpec) -> int:
    """The PortAudio output device index for `spec`; AudioError naming what exists otherwise."""
    sd = _sounddevice()
    devices = sd.query_devices()
    apis = sd.query_hostapis()
    outs = [(i, d) for i, d in enumerate(devices) if d["max_output_channels"] >= 1]
    if spec.hostapi:
        outs = [(i, d) for i, d in outs if spec.hostapi.lower() in apis[d["hostapi"]]["name"].lower()]
    if spec.device:
        want = spec.device.lower()
        outs = [(i, d) for i, d in outs
                if want in d["name"].lower() or want in apis[d["hostapi"]]["name"].lower()]
    if not outs:
        names = ", ".join(sorted({apis[d["hostapi"]]["name"] + ": " + d["name"]
                                  for d in devices if d["max_output_channels"] >= 1})) or "none"
        raise AudioError(f"no audio output matches {spec.describe()} (outputs: {names}; "
                         "a JACK server or a sound card is needed)")
    default = sd.default.device[1] if isinstance(sd.default.device, (list, tuple)) else -1
    if not spec.device and not spec.hostapi:
        for i, _ in outs:
            if i == default:
                return i
    return outs[0][0]


class AudioEngine:
    """The kit on an open PortAudio output stream; `send(midi_bytes, deadline_ns)` plays a note
    `delay_ns` after its deadline, at its exact frame."""

    def __init__(self, spec: AudioSpec = AudioSpec(), now=time.perf_counter_ns) -> None:
        self.spec = spec
        self.now = now
        self.kit = Kit(spec.soundfont, spec.rate)
        self.queue: collections.deque = collections.deque()
        self.to_gm: dict[int, int] = {}     # the clock's output note -> the kit's GM note
        self.pending: list[tuple[int, int, int, bool]] = []   # (target ns, note, velocity, audition)
        self.underruns = 0
        self.late = 0
        self.callbacks = 0
        self.callback_max_ns = 0     # the longest callback, start to end (its budget: one block)
        self.frames_done = 0
        self.delay_ns = 0
        self.block_frames = 0
        self.out_latency_ns = 0
        self._anchor = [None, None]         # earliest clock offset seen: this window, last window
        self._window_start = 0
        sd = _sounddevice()
        index = choose_device(spec)
        self.device_name = sd.query_devices(index)["name"]
        self.hostapi = sd.query_hostapis(sd.query_devices(index)["hostapi"])["name"]
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        try:
            with quiet_stderr():
                self.stream = sd.OutputStream(samplerate=spec.rate, channels=2, dtype="float32",
                                              device=index, blocksize=spec.blocksize,
                                              latency=spec.latency, callback=self._callback)
                self.out_latency_ns = int(self.stream.latency * 1e9)
                # Until the first callback tells the block size, assume the latency's worth.
                self.delay_ns = 2 * self.out_latency_ns + MARGIN_NS
                self.stream.start()
        except Exception as exc:  # PortAudioError and friends: the device refused
            self.kit.close()
            raise AudioError(f"cannot open audio output {self.device_name!r}: {exc}") from None
        deadline = time.monotonic() + 2.0
        while not self.callbacks and time.monotonic() < deadline:  # delay_ns is known from the first
            time.sleep(0.002)

    @property
    def name(self) -> str:
        """The output, as '<host API>: <device>'."""
        return f"{self.hostapi}: {self.device_name}"

    # the clock's side ---------------------------------------------------------------------------
    def set_notes(self, notes: tuple[int, ...]) -> None:
        """The note the clock sends for each voice (its note map): the kit plays each voice's GM
        note whatever map the MIDI output uses."""
        self.to_gm = {int(n): GM.note(v) for v, n in reversed(list(enumerate(notes)))}

    def send(self, data: tuple[int, ...] | list[int], deadline_ns: int = 0) -> None:
        """A MIDI message from the clock: note-ons and note-offs of any channel are played."""
        kind = data[0] & 0xF0
        if kind == NOTE_ON or kind == NOTE_OFF:
            vel = data[2] if kind == NOTE_ON else 0
            note = self.to_gm.get(data[1], data[1])
            self.queue.append((int(deadline_ns or self.now()) + self.delay_ns, note, vel, False))

    def audition(self, note: int, velocity: int = 100) -> None:
        """Strike a note as soon as the next block allows (a key press, not a scheduled note)."""
        self.queue.append((self.now(), int(note), int(velocity), True))

    def stats(self) -> dict[str, Any]:
        """Underruns (from the backend), notes struck late, callbacks, latency figures."""
        return {"underruns": self.underruns, "late": self.late, "callbacks": self.callbacks,
                "callback_max_ms": self.callback_max_ns / 1e6,
                "block": self.block_frames, "delay_ms": self.delay_ns / 1e6,
                "output_latency_ms": self.out_latency_ns / 1e6, "device": self.name}

    def close(self) -> None:
        """Stop the stream and free the synthesiser. Safe to call twice."""
        stream, self.stream = getattr(self, "stream", None), None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
        self.kit.close()

    # the audio thread's side --------------------------------------------------------------------
    def _earliest(self, now: int, seen: int) -> int:
        """The smallest `seen` of this two-second window and the last one: wake-up delays only
        ever add, so the minimum is the true offset, and the windows follow a drifting clock."""
        if now - self._window_start > ANCHOR_WINDOW_NS:
            self._anchor = [None, self._anchor[0]]
            self._window_start = now
        if self._anchor[0] is None or seen < self._anchor[0]:
            self._anchor[0] = seen
        return min(a for a in self._anchor if a is not None)

    def _block_dac_ns(self, now: int, frames: int) -> int:
        """perf_counter_ns() time at which this block's first frame reaches the DAC: frames
        counted from the earliest callback (plus the output latency)."""
        first = self.frames_done
        self.frames_done += frames
        frame0 = self._earliest(now, now + self.out_latency_ns - round(first * 1e9 / self.spec.rate))
        return frame0 + round(first * 1e9 / self.spec.rate)

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        now = self.now()
        self.callbacks += 1
        lead = time_info.outputBufferDacTime - time_info.currentTime
        lead_ns = int(lead * 1e9) if 0 < lead < 1 else self.out_latency_ns
        if self.block_frames != frames:
            self.block_frames = frames
            self.delay_ns = round(frames * 1e9 / self.spec.rate) + lead_ns + MARGIN_NS
        self.out_latency_ns = lead_ns
        if status.output_underflow:
            # The backend lost cycles: our count of frames no longer matches its clock, so the
            # anchor is found afresh (the minimum settles within a few callbacks).
            self.underruns += 1
            self._anchor = [None, None]
        block_ns = self._block_dac_ns(now, frames)
        end_ns = block_ns + round(frames * 1e9 / self.spec.rate)
        while self.queue:
            self.pending.append(self.queue.popleft())
        due = [e for e in self.pending if e[0] < end_ns]
        if due:
            self.pending = [e for e in self.pending if e[0] >= end_ns]
            due.sort(key=lambda e: (e[0], e[2] > 0))
        outdata.fill(0.0)
        at = 0
        for target, note, vel, audition in due:
            offset = min(frames - 1, round((target - block_ns) * self.spec.rate / 1e9))
            if offset < 0:
                if not audition:
                    self.late += 1
                offset = 0
            offset = max(offset, at)
            self.kit.render_into(outdata, at, offset)
            at = offset
            if vel > 0:
                self.kit.note_on(note, vel)
            else:
                self.kit.note_off(note)
        self.kit.render_into(outdata, at, frames)
        np.clip(outdata, -1.0, 1.0, out=outdata)
        self.callback_max_ns = max(self.callback_max_ns, self.now() - now)


def open_engine(spec: AudioSpec) -> AudioEngine:
    """The engine on `spec`'s output, started; AudioError with the reason when it cannot be."""
    return AudioEngine(spec)
