"""Patterns <-> Standard MIDI Files.

Export writes a type-1 file with mido: a conductor track (tempo, 4/4, name) and a drum track on
channel 10 with one note-on (velocity >= 1) and one note-off per hit, swing and gate applied.

Import reads type-0/1 files with a small scanner of our own rather than mido: it only needs
note-ons and two meta events, and skipping mido's per-event Message objects makes it several
times faster on large libraries (see benchmarks/bench_import.py). Every malformed byte becomes a
MidiFileError naming the file, never a traceback.
"""

from __future__ import annotations

import io
import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import mido
import numpy as np

from drumfont.atomic import write_atomic
from drumfont.errors import DrumfontError, MidiFileError
from drumfont.score.notemap import FOLD, GM, NoteMap
from drumfont.score.pattern import N_VOICES, STEPS, Pattern, clip_offsets
from drumfont.validate import (
    MAX_MIDI_BARS,
    MAX_MIDI_BYTES,
    MAX_MIDI_NOTES,
    MIDI_OUT,
    RANGES,
    check_count,
    output_format,
    read_capped,
    total_bars,
)

TICKS_PER_BEAT = 480
DEFAULT_BPM = 120.0   # MIDI's tempo where a file sets none
DRUM_CHANNEL = 9  # "channel 10" to a musician
MAX_FILE_BYTES = MAX_MIDI_BYTES  # larger than any drum file; refuse rather than exhaust memory
MAX_BARS = MAX_MIDI_BARS


# --- export ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """The timing both a file and the live clock play with: tempo, swing (MPC %), gate (share of a
    sixteenth) and whether bars with their own timing are swung too. Ranges: validate.RANGES."""

    bpm: float = DEFAULT_BPM
    swing: float = 50.0
    gate: float = 0.5
    # Swing moves a straight pattern's even sixteenths; a pattern with its own timing (offsets)
    # already swings the way its drummer did, so swing is added to it only when asked.
    swing_timed: bool = False

    def __post_init__(self) -> None:
        for key in ("bpm", "swing", "gate"):
            value = getattr(self, key)
            r = RANGES[key]
            if not ((r.lo < value) if r.open_low else (r.lo <= value)) or value > r.hi:
                raise MidiFileError(f"{key} {value:g} is outside {r.text()} ({r.what})")


@dataclass(frozen=True)
class ExportOptions(Timing):
    """How patterns become MIDI: the timing, plus repeats, the note map and the track name."""

    bars_per_pattern: int = 1
    notemap: NoteMap = GM
    name: str = "drumfont"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bars_per_pattern < 1:
            raise MidiFileError("bars per pattern must be at least 1")


def swing_offset(step: int, swing: float, ticks_per_step: float) -> float:
    """Delay of a step under MPC swing: the even sixteenths (odd indices) move late so that the
    first sixteenth of each pair lasts `swing`% of the eighth."""
    if step % 2 == 0:
        return 0.0
    return (swing - 50.0) / 100.0 * 2.0 * ticks_per_step


def applied_swing(pattern: Pattern, swing: float, swing_timed: bool = False) -> float:
    """The swing a bar is played with (file and live player alike): as asked on a straight bar;
    none on a bar with its own timing (its drummer already swung it) unless `swing_timed`."""
    return swing if swing_timed or not pattern.timed else 50.0


def note_events(patterns: Sequence[Pattern], opts: ExportOptions,
                tpb: int = TICKS_PER_BEAT) -> list[tuple[int, int, int]]:
    """Absolute (tick, note, velocity) events of a chain; velocity 0 marks the note-off.
    Each hit sits at its step plus its offset (plus swing on straight patterns). Note-offs sort
    before note-ons on the same tick, and a note is cut short rather than overlap its own next
    hit (a swung late step followed by a straight one). A hit played before the chain's first
    downbeat (a negative offset on step 0 of bar 1) sits on the downbeat: a file cannot start
    before its own start."""
    ticks, notes, vels = note_array(patterns, opts, tpb).T
    return list(zip(ticks.tolist(), notes.tolist(), vels.tolist()))


def note_array(patterns: Sequence[Pattern], opts: ExportOptions, tpb: int = TICKS_PER_BEAT) -> np.ndarray:
    """note_events as an (events, 3) int64 array of tick, note, velocity: 24 bytes an event where
    a tuple of three ints takes about 100, so that a render of 10,000 bars holds its notes in a
    few MB (benchmarks/bench_render_memory.py)."""
    step_ticks = tpb / 4
    bar_ticks = 4 * tpb
    note_of = np.array([opts.notemap.note(v) for v in range(N_VOICES)], np.int64)
    late = (np.arange(STEPS) % 2 == 1).astype(np.float64)  # swing moves the even sixteenths
    parts: list[np.ndarray] = []
    bar = 0
    for pattern in patterns:
        swing = applied_swing(pattern, opts.swing, opts.swing_timed)
        steps, voices = np.nonzero(pattern.velocities)
        offsets = pattern.offsets[steps, voices].astype(np.float64)
        shift = late[steps] * swing_offset(1, swing, step_ticks)
        for _ in range(opts.bars_per_pattern):
            grid = bar * bar_ticks + steps * step_ticks
            tick = np.rint(grid + offsets * step_ticks + shift).astype(np.int64)
            # Exactly half a step early reads back as the step before (the importer rounds
            # half down, for 75 % swing): a tick later keeps the hit on its own step.
            tick = np.maximum(np.maximum(tick, 0), np.floor(grid - step_ticks / 2).astype(np.int64) + 1)
            parts.append(np.stack([tick, note_of[voices], pattern.velocities[steps, voices].astype(np.int64)], 1))
            bar += 1
    onsets = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    tick, note, vel = onsets[np.lexsort((onsets[:, 2], onsets[:, 0], onsets[:, 1]))].T  # by note, tick, velocity
    # Two voices on one note (a custom map) at one tick: the loudest is played.
    last = np.ones(len(tick), bool)
    last[:-1] = (note[1:] != note[:-1]) | (tick[1:] != tick[:-1])
    tick, note, vel = tick[last], note[last], vel[last]
    # A note is cut short rather than overlap its own next hit.
    gate = max(1, round(opts.gate * step_ticks))
    nxt = np.full(len(tick), np.iinfo(np.int64).max)
    same = note[1:] == note[:-1]
    nxt[:-1][same] = tick[1:][same]
    off = np.maximum(np.minimum(tick + gate, nxt), tick + 1)
    events = np.concatenate([np.stack([tick, note, vel], 1), np.stack([off, note, np.zeros_like(note)], 1)])
    # note-offs before note-ons on one tick, then by note
    return events[np.lexsort((events[:, 1], events[:, 2] > 0, events[:, 0]))]


def to_midi_bytes(patterns: Sequence[Pattern], opts: ExportOptions = ExportOptions()) -> bytes:
    """A type-1 Standard MIDI File holding the chain of patterns."""

    conductor = mido.MidiTrack([
        mido.MetaMessage("track_name", name=opts.name, time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, clocks_per_click=24,
                         notated_32nd_notes_per_beat=8, time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(opts.bpm), time=0),
        mido.MetaMessage("end_of_track", time=0),
    ])
    drums = mido.MidiTrack([mido.MetaMessage("track_name", name=f"{opts.name} drums", time=0)])
    now = 0
    for tick, note, vel in note_events(patterns, opts):
        kind = "note_on" if vel > 0 else "note_off"
        drums.append(mido.Message(kind, channel=DRUM_CHANNEL, note=note, velocity=vel if vel else 0,
                                  time=tick - now))
        now = tick
    total = len(patterns) * opts.bars_per_pattern * 4 * TICKS_PER_BEAT
    drums.append(mido.MetaMessage("end_of_track", time=max(0, total - now)))
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, tracks=[conductor, drums])
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def write_midi(path: str | os.PathLike, patterns: Sequence[Pattern],
               opts: ExportOptions = ExportOptions(), force: bool = False) -> Path:
    """Write the chain to `path` (.mid or .midi) atomically (refusing to overwrite unless `force`)."""
    output_format(path, MIDI_OUT, "the MIDI writer")
    if not patterns:
        raise MidiFileError("nothing to write: no patterns")
    total_bars(len(patterns), opts.bars_per_pattern, f"{len(patterns)} patterns × {opts.bars_per_pattern} bars")
    return write_atomic(path, to_midi_bytes(patterns, opts), force=force)


# --- import ----------------------------------------------------------------------------------

@dataclass
class ImportResult:
    """Bars read from one file, with where each came from and what was passed over."""

    source: str
    patterns: list[Pattern] = field(default_factory=list)
    bars: list[int] = field(default_factory=list)  # 1-based bar number of each pattern in the file
    skipped_meter: int = 0   # bars not in 4/4
    empty_bars: int = 0      # 4/4 bars without a drum hit


@dataclass
class _Scan:
    tpb: int
    hits: list[tuple[int, int, int]]        # (tick, voice, velocity)
    meters: list[tuple[int, int, int]]      # (tick, numerator, denominator)
    end_tick: int
    channels: int = 0                        # bit c set: channel c (0..15) holds a note-on
    events: int = 0                          # events in all tracks
    tempos: list[tuple[int, int]] = field(default_factory=list)  # (tick, µs per beat)


def _read_vlq(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if pos >= end:
            raise ValueError("truncated variable-length number")
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, pos
    raise ValueError("variable-length number longer than 4 bytes")


# Data bytes that follow each channel-message status nibble.
_DATA_LEN = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}
# ... and each system common status (MTC quarter frame, song position, song select).
_SYSTEM_DATA_LEN = {0xF1: 1, 0xF2: 2, 0xF3: 1}
MAX_HITS = MAX_MIDI_NOTES  # a 64 MB file of nothing but note-ons; refuse rather than exhaust memory


def _scan(data: bytes, all_channels: bool, fold: Sequence[int] = FOLD, channel: int | None = None) -> _Scan:
    """Walk the chunks and events; collect folded drum note-ons and time signatures (`fold`
    maps a note to its voice, -1 = ignored; `channel` replaces the drum channel)."""
    wanted = DRUM_CHANNEL if channel is None else channel
    if data[:4] != b"MThd" or len(data) < 14:
        raise ValueError("not a MIDI file (no MThd header)")
    hlen, fmt, ntracks, division = struct.unpack(">IHHH", data[4:14])
    if fmt not in (0, 1, 2):
        raise ValueError(f"unknown MIDI file type {fmt}")
    if fmt == 2:
        raise ValueError("type-2 files (independent sequences) are not supported")
    if division & 0x8000:
        raise ValueError("SMPTE time division is not supported; re-save the file with ticks per beat")
    if division == 0:
        raise ValueError("ticks per beat is 0")
    if ntracks == 0:
        raise ValueError("the file has zero tracks")
    hits: list[tuple[int, int, int]] = []
    meters: list[tuple[int, int, int]] = []
    pos = 8 + hlen
    end_tick = 0
    found = 0
    size = len(data)
    channels = 0
    events = 0
    tempos: list[tuple[int, int]] = []
    while found < ntracks:
        if pos + 8 > size:
            raise ValueError(f"truncated: expected {ntracks} tracks, found {found}")
        cid = data[pos:pos + 4]
        (clen,) = struct.unpack(">I", data[pos + 4:pos + 8])
        pos += 8
        end = pos + clen
        if end > size:
            raise ValueError("truncated track chunk")
        if cid != b"MTrk":  # alien chunks are allowed by the standard and skipped
            pos = end
            continue
        found += 1
        tick = 0
        status = 0
        while pos < end:
            delta, pos = _read_vlq(data, pos, end)
            tick += delta
            events += 1
            if pos >= end:
                raise ValueError("truncated event")
            b = data[pos]
            if b == 0xFF:
                if pos + 2 > end:
                    raise ValueError("truncated meta event")
                mtype = data[pos + 1]
                mlen, pos = _read_vlq(data, pos + 2, end)
                if pos + mlen > end:
                    raise ValueError("truncated meta event")
                if mtype == 0x58 and mlen >= 2:
                    meters.append((tick, data[pos], 1 << min(data[pos + 1], 6)))
                elif mtype == 0x51 and mlen == 3:
                    tempos.append((tick, int.from_bytes(data[pos:pos + 3], "big")))
                elif mtype == 0x2F:
                    pos += mlen
                    break
                pos += mlen
                continue
            if b in (0xF0, 0xF7):
                slen, pos = _read_vlq(data, pos + 1, end)
                pos += slen
                continue
            if 0xF1 <= b <= 0xFE:  # system common/real-time bytes have no business in a file: skip
                pos += 1 + _SYSTEM_DATA_LEN.get(b, 0)
                if b < 0xF8:  # system common cancels running status; real-time leaves it
                    status = 0
                continue
            if b & 0x80:
                status = b
                pos += 1
            elif not status:
                raise ValueError("data byte without a status (corrupt running status)")
            kind = status >> 4
            n = _DATA_LEN[kind]
            if pos + n > end:
                raise ValueError("truncated channel message")
            if kind == 0x9 and data[pos + 1] > 0:
                channels |= 1 << (status & 0x0F)
            if kind == 0x9 and data[pos + 1] > 0 and (all_channels or (status & 0x0F) == wanted):
                voice = fold[data[pos] & 0x7F]
                if voice >= 0:
                    hits.append((tick, voice, data[pos + 1] & 0x7F))
                    if len(hits) > MAX_HITS:
                        raise ValueError(f"more than {MAX_HITS:,} drum notes; that is not a drum file")
            pos += n
        end_tick = max(end_tick, tick)
        pos = end
    return _Scan(division, hits, meters, end_tick, channels, events, tempos)


def _bar_grid(scan: _Scan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bars as arrays (start tick, length in ticks, is 4/4) from the time-signature map."""
    meters = sorted(scan.meters) or [(0, 4, 4)]
    if meters[0][0] > 0:
        meters.insert(0, (0, 4, 4))  # the standard's default before the first signature
    # The grid ends at the end of track, or far enough past the last hit that a hit which rounds
    # onto the next downbeat still has its bar; a track ending on a bar line adds no empty bar.
    last_hit = max(t for t, _, _ in scan.hits) if scan.hits else 0
    end = max(scan.end_tick, last_hit + scan.tpb // 8 + 1)
    starts: list[int] = []
    lengths: list[int] = []
    four: list[bool] = []
    for i, (start, num, den) in enumerate(meters):
        stop = meters[i + 1][0] if i + 1 < len(meters) else end
        length = max(1, round(num * scan.tpb * 4 / den))
        t = start
        while t < stop:
            starts.append(t)
            lengths.append(length)
            four.append(num == 4 and den == 4)
            t += length
            if len(starts) > MAX_BARS:
                raise ValueError(f"more than {MAX_BARS} bars; that is not a drum file")
    return np.array(starts, np.int64), np.array(lengths, np.int64), np.array(four, bool)


def import_bytes(data: bytes, source: str = "<bytes>", all_channels: bool = False,
                 fold: Sequence[int] = FOLD, channel: int | None = None, max_bars: int = MAX_MIDI_BARS
                 ) -> ImportResult:
    """Bars of one MIDI file's bytes. Raises MidiFileError naming `source` on any fault.
    `fold` and `channel` read other parts as drums (tap lines: see retime.read_taps); more than
    `max_bars` drum bars are refused before a Pattern is made."""
    try:
        scan = _scan(data, all_channels, fold, channel)
        starts, lengths, four = _bar_grid(scan)
    except (ValueError, IndexError, struct.error) as exc:
        raise MidiFileError(f"{source}: {exc}") from None
    if not scan.hits:
        if fold is not FOLD or channel is not None:
            where = "any channel" if all_channels else f"channel {(channel or 0) + 1}"
            raise MidiFileError(f"{source}: no notes to read on {where}")
        where = "any channel" if all_channels else "channel 10"
        hint = "" if all_channels else " (try --all-channels if the drums sit on another channel)"
        raise MidiFileError(f"{source}: no drum notes on {where}{hint}")
    hits = np.array(scan.hits, np.int64)  # (n, 3): tick, voice, velocity
    sixteenth = scan.tpb / 4
    bar = np.searchsorted(starts, hits[:, 0], side="right") - 1
    # Round half down: a 75 % swung sixteenth sits exactly half a step late and must stay on its
    # own step, not jump to the next.
    position = (hits[:, 0] - starts[bar]) / sixteenth
    step = np.ceil(position - 0.5).astype(np.int64)
    # What the rounding left is the player's timing (ticks, so the tempo map does not matter).
    # A hit exactly half way (a 75 % swung sixteenth) stays on its own step, just under +0.5.
    offset = clip_offsets(position - step)
    over = step >= np.rint(lengths[bar] / sixteenth)  # rounds onto the next bar's downbeat
    bar = np.where(over, bar + 1, bar)
    step = np.where(over, 0, step)
    keep = (bar < len(starts)) & (step < STEPS)  # steps past 16 only exist in longer meters
    grid = np.zeros((len(starts), STEPS, N_VOICES), np.uint8)
    timing = np.zeros((len(starts), STEPS, N_VOICES), np.float32)
    # Two notes folding onto one cell (kick 35 and 36, a flam) keep the louder, and its timing:
    # quietest first, so that the louder note's offset is written last.
    kept = np.flatnonzero(keep)
    kept = kept[np.argsort(hits[kept, 2], kind="stable")]
    cells = (bar[kept], step[kept], hits[kept, 1])
    np.maximum.at(grid, cells, hits[kept, 2].astype(np.uint8))
    timing[cells] = offset[kept]
    nonempty = grid.reshape(len(starts), -1).any(axis=1)
    _check_bars(int((four & nonempty).sum()), max_bars, source)
    result = ImportResult(source, skipped_meter=int((~four).sum()), empty_bars=int((four & ~nonempty).sum()))
    for i in np.flatnonzero(four & nonempty):
        result.patterns.append(Pattern(grid[i], timing[i]))
        result.bars.append(int(i) + 1)
    return result


def read_midi(path: str | os.PathLike, all_channels: bool = False, max_bars: int = MAX_MIDI_BARS) -> ImportResult:
    """Bars of one .mid file; a clear MidiFileError naming the file on any fault."""
    return import_bytes(read_midi_bytes(path), str(path), all_channels, max_bars=max_bars)


def read_midi_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a .mid file (size-checked); a MidiFileError naming the file on any fault."""
    path = Path(path)
    try:  # regular files only, read with a cap: a FIFO or /dev/zero is refused, not waited on
        return read_capped(path, MAX_FILE_BYTES, "MIDI file")
    except DrumfontError as exc:
        raise MidiFileError(str(exc)) from None


def read_patterns(path: str | os.PathLike, all_channels: bool = False, max_bars: int = MAX_MIDI_BARS
                  ) -> list[Pattern]:
    """The drum bars of a .mid file; an error if it has none usable, or more than `max_bars`
    (MAX_MODEL_BARS where a model holds them all)."""
    result = read_midi(path, all_channels, max_bars)
    if not result.patterns:
        raise MidiFileError(f"{path}: no usable 4/4 drum bar "
                            f"({result.skipped_meter} bars in other meters, {result.empty_bars} empty)")
    return result.patterns


def _check_bars(count: int, max_bars: int, source: str | os.PathLike) -> None:
    if count > max_bars:  # only below the reader's own limit: a model's (docs/limits.md)
        try:
            check_count(count, max_bars, "bars", source, "a model reads at most {limit} bars of one file: split it")
        except DrumfontError as exc:
            raise MidiFileError(str(exc)) from None


def _first_tempo(data: bytes) -> tuple[int, int] | None:
    """(tick, µs per beat) of a MIDI file's first tempo (None if it sets none or cannot be read).
    Read by the scanner, not mido, whose messages for a whole file would take 0.3 KB an event."""
    try:
        tempos = _scan(data, False, [-1] * 128).tempos
    except (ValueError, IndexError, struct.error):  # an unreadable file simply has no tempo to offer
        return None
    return min(tempos) if tempos else None


def file_bpm(data: bytes, source: str = "<bytes>") -> float | None:
    """The first tempo of a MIDI file's bytes, in BPM (None if it sets none or cannot be read);
    a tempo of 0 µs per beat (no tempo at all: mido divides by it) is a MidiFileError."""
    first = _first_tempo(data)
    if first is None:
        return None
    tick, tempo = first
    if tempo <= 0:
        raise MidiFileError(f"{source}: its tempo at tick {tick} is 0 µs per beat, which is no tempo; "
                            "set a real one in the file")
    return round(mido.tempo2bpm(tempo), 3)


def midi_tempo(path: str | os.PathLike) -> float | None:
    """The first tempo a .mid file sets, in BPM (None if it sets none); a tempo of 0 µs per beat
    is infinitely fast (math.inf), which kept_tempo refuses unless --bpm chooses one."""
    first = _first_tempo(read_midi_bytes(path))
    if first is None:
        return None
    return math.inf if first[1] <= 0 else round(mido.tempo2bpm(first[1]), 3)


def kept_tempo(asked: float | None, found: float | None, source: str = "the input") -> float:
    """The tempo to write: `asked` (--bpm) when given, else the input's own (`found`), else
    MIDI's default 120. An input tempo outside the range a file is written at is refused, naming
    the file, rather than silently changed."""
    if asked is not None:
        return asked
    if found is None:
        return DEFAULT_BPM
    r = RANGES["bpm"]
    if found == math.inf:
        raise MidiFileError(f"{source} sets a tempo of 0 µs per beat, which is no tempo; pass --bpm to choose one")
    if not r.lo <= found <= r.hi:
        raise MidiFileError(f"{source} plays at {found:g} BPM, outside {r.text()}; pass --bpm to choose a tempo")
    return found

