"""Patterns -> audio files with the built-in kit: sample-accurate, loopable, peak-normalised.

The notes are exactly those of the exported .mid (`midifile.note_events`: swing, velocities and
whatever timing the MIDI writer applies), so a rendered bar sounds as the .mid would in a DAW
with a GM kit. A loop is rendered as its steady state: the notes of earlier passes that still
ring (up to `ring_s`, longer than any GM cymbal) are rendered before the loop start and carried
in, and a note that the timing pulls before bar 1 sounds at the loop's end. Played in a loop,
the file continues into its own start with no click, exactly as the chain would sound repeated.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.atomic import check_writable, write_atomic
from drumfont.audio.synth import Kit, check_rate, fluidsynth_module, resolve_soundfont
from drumfont.errors import AudioError
from drumfont.score.midifile import TICKS_PER_BEAT, ExportOptions, note_events
from drumfont.score.notemap import GM
from drumfont.score.pattern import Pattern

FORMATS = {".wav": "WAV", ".flac": "FLAC"}
SUBTYPE = "PCM_24"       # 24-bit: no dither needed after normalising, and both formats take it
PEAK_DB = -1.0           # peak level of a rendered file, dBFS
RING_S = 8.0             # the longest ring carried across the loop point (TimGM6mb's crash: -100 dB at 7 s)
SYNTH_BLOCK = 64         # FluidSynth renders in blocks of 64 frames and starts notes on their edges
SILENT = 10 ** (-100 / 20)  # a one-shot render ends where everything has faded below -100 dBFS


@dataclass(frozen=True)
class RenderOptions:
    """How notes become audio: sample rate, SoundFont, loop or one-shot, peak level, muted voices."""

    rate: int = 48000
    soundfont: str | None = None
    loop: bool = True
    peak_db: float = PEAK_DB
    muted: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_rate(self.rate)
        if not -60.0 <= self.peak_db <= -1.0:
            raise AudioError(f"peak level {self.peak_db:g} dBFS is outside -60..-1")


def timed_notes(patterns: Sequence[Pattern], opts: ExportOptions, muted: Sequence[int] = ()
                ) -> tuple[list[tuple[float, int, int]], float]:
    """(seconds, note, velocity) of the chain as the .mid has them (velocity 0: note-off), and
    the chain's length in seconds. The kit is General MIDI, so the notes are GM whatever note
    map `opts` carries for MIDI."""
    opts = replace(opts, notemap=GM)
    if muted:
        patterns = [_mute(p, muted) for p in patterns]
    sec_per_tick = 60.0 / (opts.bpm * TICKS_PER_BEAT)
    events = [(tick * sec_per_tick, note, vel) for tick, note, vel in note_events(patterns, opts)]
    length = len(patterns) * opts.bars_per_pattern * 4 * 60.0 / opts.bpm
    return events, length


def _mute(pattern: Pattern, voices: Sequence[int]) -> Pattern:
    for step, voice in zip(*np.nonzero(pattern.velocities)):
        if int(voice) in voices:
            pattern = pattern.with_velocity(int(step), int(voice), 0)
    return pattern


def _play(kit: Kit, frames: int, events: list[tuple[int, int, int]]) -> np.ndarray:
    """Render `frames` frames, each (frame, note, velocity) event struck at its exact frame."""
    buf = np.zeros((frames, 2), np.float32)
    at = 0
    for frame, note, vel in sorted(events, key=lambda e: (e[0], e[2] > 0)):
        frame = min(max(frame, 0), frames)
        kit.render_into(buf, at, frame)
        at = frame
        if vel > 0:
            kit.note_on(note, vel)
        else:
            kit.note_off(note)
    kit.render_into(buf, at, frames)
    return buf


def render_notes(events: Sequence[tuple[float, int, int]], length_s: float, opts: RenderOptions,
                 kit: Kit | None = None) -> np.ndarray:
    """(frames, 2) float32 audio of timed notes: the loop's steady state (opts.loop) or a
    one-shot that rings out; peak-normalised to opts.peak_db (silence stays silence)."""
    own = kit is None
    kit = kit or Kit(opts.soundfont, opts.rate)
    try:
        rate = opts.rate
        n = max(1, round(length_s * rate))
        if opts.loop:
            # A multiple of FluidSynth's 64-frame block, so that the loop starts on its block grid.
            pre = math.ceil(RING_S * rate / SYNTH_BLOCK) * SYNTH_BLOCK
            copies = pre // n + 2
            placed = []
            for t, note, vel in events:
                base = round(t * rate)
                for j in range(-copies, 2):   # earlier passes still ringing, and early notes wrapped
                    frame = base + j * n
                    if -pre <= frame < n:
                        placed.append((frame + pre, note, vel))
            audio = _play(kit, pre + n, placed)[pre:]
        else:
            first = min([0] + [round(t * rate) for t, _, _ in events])
            total = n - first + math.ceil(RING_S * rate)
            audio = _play(kit, total, [(round(t * rate) - first, note, vel) for t, note, vel in events])
            loud = np.flatnonzero(np.abs(audio).max(axis=1) > SILENT)
            audio = audio[:max(n - first, loud[-1] + 1 if loud.size else 0)]
    finally:
        if own:
            kit.close()
    return normalise(audio, opts.peak_db)


def normalise(audio: np.ndarray, peak_db: float = PEAK_DB) -> np.ndarray:
    """Scale so that the highest sample sits at `peak_db` dBFS (silence is left as it is)."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak == 0.0:
        return audio
    return (audio * (10 ** (peak_db / 20) / peak)).astype(np.float32)


def render_patterns(patterns: Sequence[Pattern], opts: ExportOptions = ExportOptions(),
                    ropts: RenderOptions = RenderOptions()) -> np.ndarray:
    """A chain of patterns as (frames, 2) float32 audio, timed exactly as its .mid."""
    if not patterns:
        raise AudioError("nothing to render: no patterns")
    events, length = timed_notes(patterns, opts, ropts.muted)
    return render_notes(events, length, ropts)


def audio_format(path: str | os.PathLike) -> str:
    """'WAV' or 'FLAC' from the file name; AudioError for anything else."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise AudioError(f"{path}: the audio file must end in .wav or .flac")
    return fmt


def check_render(ropts: RenderOptions = RenderOptions()) -> Path:
    """Everything a render needs, checked before a command writes anything (its .mid files
    included): FluidSynth and its library, a readable SoundFont, and soundfile (libsndfile) to
    encode. Returns the SoundFont; AudioError naming what is missing and how to install it."""
    fluidsynth_module()
    soundfont = resolve_soundfont(ropts.soundfont)
    try:
        import soundfile  # noqa: F401, PLC0415 (optional system library: checked here, used by encode)
    except (ImportError, OSError) as exc:
        raise AudioError(f"audio files need soundfile and libsndfile: pip install soundfile ({exc})") from None
    return soundfont


def encode(audio: np.ndarray, rate: int, fmt: str) -> bytes:
    """The bytes of a WAV or FLAC file (24-bit) holding `audio`."""
    import soundfile  # noqa: PLC0415 (optional system library: a missing one is reported when it is used)

    buf = io.BytesIO()
    soundfile.write(buf, audio, rate, format=fmt, subtype=SUBTYPE)
    return buf.getvalue()


def write_audio(path: str | os.PathLike, patterns: Sequence[Pattern], opts: ExportOptions = ExportOptions(),
                ropts: RenderOptions = RenderOptions(), force: bool = False) -> Path:
    """Render the chain and write it to `path` (.wav/.flac) atomically, refusing to overwrite
    unless `force`."""
    fmt = audio_format(path)
    check_writable(path, force)
    audio = render_patterns(patterns, opts, ropts)
    return write_atomic(path, encode(audio, ropts.rate, fmt), force=force)
