"""The built-in drum kit: a General-MIDI SoundFont played by FluidSynth, rendering float32 stereo.

Why FluidSynth (through pyfluidsynth, pure-Python ctypes bindings): it is the reference SoundFont
synthesiser, maintained, packaged everywhere (`apt install libfluidsynth3`, `brew install
fluid-synth`), and fast (a 16-bar render takes milliseconds). tinysoundfont, which needs no system
library, was the first choice, but its wheel declares a hard dependency on PyAudio, which has no
Linux wheel and only builds with the PortAudio headers and a C compiler installed.

Default kit: TimGM6mb.sf2, the GM SoundFont that pretty_midi installs inside its package (found
by its import spec, without importing pretty_midi: 0.6 s). `--soundfont FILE.sf2` or the
DRUMFONT_SOUNDFONT setting takes any other; its drum kit is bank 128, preset 0.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import io
import os
from pathlib import Path

import numpy as np

from drumfont.errors import AudioError, DrumfontError
from drumfont.quiet import caught_stderr
from drumfont.validate import MAX_SOUNDFONT_BYTES, check_count, open_regular

SAMPLE_RATES = (44100, 48000)
DRUM_CHANNEL = 9          # "channel 10"
DRUM_BANK = 128           # SoundFont bank of the percussion presets
SOUNDFONT_SETTING = "DRUMFONT_SOUNDFONT"
DEFAULT_SOUNDFONT = "TimGM6mb.sf2"
# FluidSynth's output gain. TimGM6mb's loudest hits peak near 0.4 at 0.5; a full kit on one step
# stays below 1 at this gain, so the live path does not clip. Files are peak-normalised anyway.
LIVE_GAIN = 0.5


def default_soundfont() -> Path:
    """pretty_midi's TimGM6mb.sf2; AudioError if pretty_midi is not installed."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        raise AudioError("no SoundFont: pretty_midi (which ships TimGM6mb.sf2) is not installed; "
                         "pip install pretty_midi, or pass --soundfont FILE.sf2")
    return Path(list(spec.submodule_search_locations)[0]) / DEFAULT_SOUNDFONT


def resolve_soundfont(path: str | os.PathLike | None = None) -> Path:
    """The SoundFont to use: `path`, else $DRUMFONT_SOUNDFONT, else the default; checked to be a
    readable regular SoundFont 2 file (RIFF sfbk) of at most MAX_SOUNDFONT_BYTES, which FluidSynth
    loads into memory (a FIFO would block it forever)."""
    chosen = path or os.environ.get(SOUNDFONT_SETTING) or default_soundfont()
    p = Path(chosen).expanduser()
    try:
        fd = open_regular(p, "SoundFont (.sf2)")
    except DrumfontError as exc:
        raise AudioError(str(exc)) from None
    try:
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(12)
        check_count(size, MAX_SOUNDFONT_BYTES, "bytes", p, "a SoundFont may hold at most {limit}")
    except OSError as exc:
        raise AudioError(f"{p}: cannot read the SoundFont ({exc.strerror or exc})") from None
    except DrumfontError as exc:
        raise AudioError(str(exc)) from None
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise AudioError(f"{p}: not a SoundFont 2 file (.sf2)")
    return p


def check_rate(rate: int) -> int:
    """The sample rate as an int, or AudioError outside 44100/48000."""
    if int(rate) not in SAMPLE_RATES:
        raise AudioError(f"sample rate {rate} Hz: choose 44100 or 48000")
    return int(rate)


def fluidsynth_module():
    """The pyfluidsynth module; AudioError saying what to install when it or its library is missing."""
    try:
        # pyfluidsynth prints where it found the library when $CI is set: on a terminal the studio
        # draws, that line would land in the middle of the screen.
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth  # noqa: PLC0415 (optional system library: a missing one is reported when it is used)
    except ImportError as exc:  # the package, or the C library it looks for at import
        what = "the FluidSynth library" if "FluidSynth" in str(exc) or "fluidsynth" in str(exc) else "pyfluidsynth"
        raise AudioError(f"audio needs {what}: install libfluidsynth3 (apt) / fluid-synth (brew) and "
                         f"pip install pyfluidsynth ({exc})") from None
    return fluidsynth


_CALLS = None


def _calls():
    """The three FluidSynth calls the audio thread makes, bound with ctypes.PyDLL so that they
    keep the GIL: a ctypes.CDLL call lets go of it and must win it back afterwards, and in the
    live callback each win-back can wait on another thread (the GIL is not priority-aware).
    fluid_synth_write_float is not in pyfluidsynth at all (it offers int16 copies only): float32
    straight into a numpy buffer, no conversion, no copy. Each call takes microseconds."""
    global _CALLS
    if _CALLS is None:
        lib = ctypes.PyDLL(fluidsynth_module().lib)
        write = lib.fluid_synth_write_float
        write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                          ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        write.restype = ctypes.c_int
        on = lib.fluid_synth_noteon
        on.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        on.restype = ctypes.c_int
        off = lib.fluid_synth_noteoff
        off.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        off.restype = ctypes.c_int
        _CALLS = (write, on, off)
    return _CALLS


def _reason(said: list[str]) -> str:
    """FluidSynth's first error line, as ' (the reason)', from what it printed."""
    for line in said:
        if line.startswith("fluidsynth: error:"):
            return f" ({line.removeprefix('fluidsynth: error:').strip()})"
    return ""


class Kit:
    """FluidSynth with one SoundFont's drum kit on the GM drum channel. Not shared between threads:
    the live engine calls it from the audio callback only."""

    def __init__(self, soundfont: str | os.PathLike | None = None, rate: int = 48000,
                 gain: float = LIVE_GAIN) -> None:
        fs = fluidsynth_module()
        self.rate = check_rate(rate)
        self.soundfont = resolve_soundfont(soundfont)
        # Dry kit: no reverb or chorus (a producer adds their own), and a synth without effect
        # state renders the same note the same way wherever it starts.
        self._synth = fs.Synth(gain=float(gain), samplerate=float(self.rate),
                               **{"synth.reverb.active": 0, "synth.chorus.active": 0})
        with caught_stderr() as said:  # FluidSynth and libinstpatch print their reasons to fd 2
            sfid = self._synth.sfload(str(self.soundfont))
        if sfid < 0:
            self.close()
            raise AudioError(f"{self.soundfont}: FluidSynth could not load this SoundFont{_reason(said)}")
        if self._synth.program_select(DRUM_CHANNEL, sfid, DRUM_BANK, 0) != 0:
            self.close()
            raise AudioError(f"{self.soundfont}: no drum kit (bank {DRUM_BANK}, preset 0) in this SoundFont")
        self._write, self._on, self._off = _calls()
        self._ptr = self._synth.synth

    def note_on(self, note: int, velocity: int) -> None:
        """Strike a GM drum note (velocity 1..127; 0 is a note-off)."""
        self._on(self._ptr, DRUM_CHANNEL, int(note), int(velocity))

    def note_off(self, note: int) -> None:
        """Release a note (GM kits mostly play their one-shots to the end regardless)."""
        self._off(self._ptr, DRUM_CHANNEL, int(note))

    def silence(self) -> None:
        """Cut every sounding note at once."""
        self._synth.all_sounds_off(DRUM_CHANNEL)

    def render_into(self, buf: np.ndarray, start: int = 0, stop: int | None = None) -> None:
        """Synthesise frames [start, stop) of a C-contiguous (n, 2) float32 buffer, in place."""
        stop = len(buf) if stop is None else stop
        n = stop - start
        if n <= 0:
            return
        if buf.dtype != np.float32 or buf.ndim != 2 or buf.shape[1] != 2 or not buf.flags.c_contiguous:
            raise ValueError("render_into needs a C-contiguous (n, 2) float32 buffer")
        ptr = buf.ctypes.data
        self._write(self._ptr, n, ptr, 2 * start, 2, ptr, 2 * start + 1, 2)

    def render(self, frames: int) -> np.ndarray:
        """The next `frames` frames as a new (frames, 2) float32 array."""
        buf = np.zeros((int(frames), 2), np.float32)
        self.render_into(buf)
        return buf

    def close(self) -> None:
        """Free the synthesiser. Safe to call twice."""
        synth, self._synth = getattr(self, "_synth", None), None
        if synth is not None:
            synth.delete()
