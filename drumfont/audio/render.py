"""Patterns -> audio files with the built-in kit: sample-accurate, loopable, peak-normalised.

The notes are exactly those of the exported .mid (`midifile.note_array`: swing, velocities and
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
from typing import Iterator, Sequence

import numpy as np

from drumfont.atomic import atomic_file, check_writable
from drumfont.audio.synth import Kit, check_rate, fluidsynth_module, resolve_soundfont
from drumfont.errors import AudioError
from drumfont.score.midifile import TICKS_PER_BEAT, ExportOptions, note_array
from drumfont.score.notemap import GM
from drumfont.score.pattern import Pattern

FORMATS = {".wav": "WAV", ".flac": "FLAC"}
SUBTYPE = "PCM_24"       # 24-bit: no dither needed after normalising, and both formats take it
PEAK_DB = -1.0           # peak level of a rendered file, dBFS
RING_S = 8.0             # the longest ring carried across the loop point (TimGM6mb's crash: -100 dB at 7 s)
SYNTH_BLOCK = 64         # FluidSynth renders in blocks of 64 frames and starts notes on their edges
SILENT = 10 ** (-100 / 20)  # a one-shot render ends where everything has faded below -100 dBFS
BLOCK = 1 << 16          # frames rendered and written at a time (1.4 s at 48 kHz, 512 KB of float32)
FRAME_BYTES = 6          # a 24-bit stereo frame
MAX_WAV_BYTES = 2**32 - 1 - 1024  # RIFF sizes are 32-bit; less room for the header chunks


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
                ) -> tuple[np.ndarray, float]:
    """(seconds, note, velocity) rows of the chain as the .mid has them (velocity 0: note-off), an
    (events, 3) float64 array, and the chain's length in seconds. The kit is General MIDI, so the
    notes are GM whatever note map `opts` carries for MIDI."""
    opts = replace(opts, notemap=GM)
    if muted:
        patterns = [_mute(p, muted) for p in patterns]
    sec_per_tick = 60.0 / (opts.bpm * TICKS_PER_BEAT)
    events = note_array(patterns, opts).astype(np.float64)
    events[:, 0] *= sec_per_tick
    length = len(patterns) * opts.bars_per_pattern * 4 * 60.0 / opts.bpm
    return events, length


def _mute(pattern: Pattern, voices: Sequence[int]) -> Pattern:
    for step, voice in zip(*np.nonzero(pattern.velocities)):
        if int(voice) in voices:
            pattern = pattern.with_velocity(int(step), int(voice), 0)
    return pattern


@dataclass(frozen=True)
class _Score:
    """Notes placed on the frames of one synthesiser run: the run lasts `frames` frames, of which
    [skip, skip + length) are the file; events are (frame, note, velocity) arrays in play order."""

    frames: int
    skip: int
    length: int
    frame: np.ndarray
    note: np.ndarray
    velocity: np.ndarray


def _score(events: Sequence[tuple[float, int, int]], length_s: float, opts: RenderOptions) -> _Score:
    """Where each note falls in the synthesiser's run: the loop's steady state (earlier passes that
    still ring, rendered before the loop start and thrown away; early notes wrapped to the end)
    or a one-shot that starts at its earliest note and may ring RING_S past the end."""
    rate = opts.rate
    n = max(1, round(length_s * rate))
    ev = np.asarray(events, np.float64).reshape(-1, 3)
    base = np.rint(ev[:, 0] * rate).astype(np.int64)
    note, vel = ev[:, 1].astype(np.int64), ev[:, 2].astype(np.int64)
    if opts.loop:
        # A multiple of FluidSynth's 64-frame block, so that the loop starts on its block grid.
        pre = math.ceil(RING_S * rate / SYNTH_BLOCK) * SYNTH_BLOCK
        copies = pre // n + 2
        shifts = np.arange(-copies, 2, dtype=np.int64) * n  # earlier passes, this one, the next
        frame = base[:, None] + shifts[None, :]             # (notes, passes), note by note
        keep = (frame >= -pre) & (frame < n)
        rows = np.broadcast_to(np.arange(len(base))[:, None], frame.shape)[keep]
        frame, note, vel, frames, skip = frame[keep] + pre, note[rows], vel[rows], pre + n, pre
    else:
        first = min(0, int(base.min())) if len(base) else 0
        frame, frames, skip, n = base - first, n - first + math.ceil(RING_S * rate), 0, n - first
    order = np.lexsort((vel > 0, frame))  # stable: note-offs before note-ons on one frame
    return _Score(frames, skip, n, frame[order], note[order], vel[order])


def _blocks(kit: Kit, score: _Score, stop: int | None = None) -> Iterator[np.ndarray]:
    """Frames [score.skip, stop) of the run, BLOCK frames at a time, each note struck at its exact
    frame. A block is a view of one buffer that the next block overwrites: use it, or copy it."""
    stop = score.frames if stop is None else stop
    buf = np.zeros((BLOCK, 2), np.float32)
    k, count = 0, len(score.frame)
    frames = np.clip(score.frame, 0, score.frames)
    pos = 0
    while pos < stop:
        end = min(pos + BLOCK, stop)
        block = buf[:end - pos]
        block.fill(0.0)
        at = pos
        while k < count and frames[k] < end:
            kit.render_into(block, at - pos, int(frames[k]) - pos)
            at = int(frames[k])
            if score.velocity[k] > 0:
                kit.note_on(int(score.note[k]), int(score.velocity[k]))
            else:
                kit.note_off(int(score.note[k]))
            k += 1
        kit.render_into(block, at - pos, end - pos)
        if end > score.skip:
            yield block[max(0, score.skip - pos):]
        pos = end


def _measure(score: _Score, opts: RenderOptions, kit: Kit) -> tuple[float, int]:
    """The run's peak and the file's length in frames: the loop's, or a one-shot's up to where
    everything has faded below SILENT (never shorter than the chain itself)."""
    peak, last = 0.0, -1
    at = score.skip
    for block in _blocks(kit, score):
        level = np.abs(block).max(axis=1) if len(block) else block[:, 0]
        if len(level):
            peak = max(peak, float(level.max()))
            loud = np.flatnonzero(level > SILENT)
            if loud.size:
                last = at + int(loud[-1])
        at += len(block)
    if opts.loop:
        return peak, score.length
    return peak, max(score.length, last + 1)


def _gain(peak: float, peak_db: float) -> float:
    """The factor that puts `peak` at `peak_db` dBFS (1 for silence, which stays silence)."""
    return 1.0 if peak == 0.0 else 10 ** (peak_db / 20) / peak


def render_notes(events: Sequence[tuple[float, int, int]], length_s: float, opts: RenderOptions,
                 kit: Kit | None = None) -> np.ndarray:
    """(frames, 2) float32 audio of timed notes: the loop's steady state (opts.loop) or a
    one-shot that rings out; peak-normalised to opts.peak_db (silence stays silence). The whole
    song in memory: write_audio streams a file instead."""
    own = kit is None
    kit = kit or Kit(opts.soundfont, opts.rate)
    try:
        score = _score(events, length_s, opts)
        audio = np.concatenate([b.copy() for b in _blocks(kit, score)] or [np.zeros((0, 2), np.float32)])
    finally:
        if own:
            kit.close()
    if not opts.loop:
        loud = np.flatnonzero(np.abs(audio).max(axis=1) > SILENT) if len(audio) else np.zeros(0, int)
        audio = audio[:max(score.length, loud[-1] + 1 if loud.size else 0)]
    return normalise(audio, opts.peak_db)


def normalise(audio: np.ndarray, peak_db: float = PEAK_DB) -> np.ndarray:
    """Scale so that the highest sample sits at `peak_db` dBFS (silence is left as it is)."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak == 0.0:
        return audio
    return (audio * _gain(peak, peak_db)).astype(np.float32)


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


def check_size(path: str | os.PathLike, frames: int, rate: int) -> None:
    """Refuse a .wav past what its 32-bit RIFF sizes can state (4 GB), before any work."""
    if audio_format(path) == "WAV" and frames * FRAME_BYTES > MAX_WAV_BYTES:
        hours = frames / rate / 3600
        raise AudioError(f"{path}: {hours:.1f} hours of 24-bit stereo is {frames * FRAME_BYTES / 1e9:.1f} GB; "
                         f"a .wav holds at most {MAX_WAV_BYTES / 1e9:.1f} GB (about "
                         f"{MAX_WAV_BYTES / FRAME_BYTES / rate / 3600:.1f} hours at {rate} Hz): write .flac, "
                         "or fewer bars")


def write_audio(path: str | os.PathLike, patterns: Sequence[Pattern], opts: ExportOptions = ExportOptions(),
                ropts: RenderOptions = RenderOptions(), force: bool = False) -> Path:
    """Render the chain and write it to `path` (.wav/.flac) atomically, refusing to overwrite
    unless `force`. Streamed: the synthesiser runs twice, once to find the peak (and a one-shot's
    end), once writing each block of BLOCK frames, normalised, straight into the file, so the
    memory a render takes does not grow with the song's length (benchmarks/bench_render_memory.py).
    The kit renders the same notes to the same samples every time, so both runs agree."""
    import soundfile  # noqa: PLC0415 (optional system library: a missing one is reported when it is used)

    fmt = audio_format(path)
    check_writable(path, force)
    if not patterns:
        raise AudioError("nothing to render: no patterns")
    events, length = timed_notes(patterns, opts, ropts.muted)
    score = _score(events, length, ropts)
    check_size(path, score.frames - score.skip, ropts.rate)
    kit = Kit(ropts.soundfont, ropts.rate)
    try:
        peak, frames = _measure(score, ropts, kit)
    finally:
        kit.close()
    gain = np.float32(_gain(peak, ropts.peak_db))
    kit = Kit(ropts.soundfont, ropts.rate)
    try:
        with atomic_file(path, force) as fh:
            try:
                with soundfile.SoundFile(fh.fileno(), "w", ropts.rate, 2, SUBTYPE, format=fmt, closefd=False) as out:
                    for block in _blocks(kit, score, score.skip + frames):
                        out.write(block * gain if peak else block)
            except (soundfile.LibsndfileError, RuntimeError) as exc:
                raise AudioError(f"cannot write {path}: {' '.join(str(exc).split())}") from None
    finally:
        kit.close()
    return Path(path)
