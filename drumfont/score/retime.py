"""Rewriting a file's drums in place (humanize keeps every other event as it was) and reading a
tapped rhythm's lines (drumify): the two ways drumfont changes a player's own .mid."""


from __future__ import annotations

import io
import math
import os
import struct
from pathlib import Path
from typing import Sequence

import mido
import numpy as np

from drumfont.errors import DrumfontError, MidiFileError
from drumfont.score.midifile import DRUM_CHANNEL, _bar_grid, _check_bars, _scan, import_bytes, read_midi_bytes
from drumfont.score.notemap import FOLD
from drumfont.score.pattern import STEPS, Pattern
from drumfont.validate import (
    MAX_MIDI_BARS,
    MAX_RETIME_EVENTS,
    check_count,
)


def _cell_window(grid: float, sixteenth: float) -> tuple[int, int]:
    """Ticks that the importer rounds onto the step at `grid`: (grid - s/2, grid + s/2]."""
    return math.floor(grid - sixteenth / 2) + 1, math.floor(grid + sixteenth / 2)


def retime_drums(data: bytes, transform, source: str = "<bytes>", all_channels: bool = False,
                 max_bars: int = MAX_MIDI_BARS) -> tuple[bytes, int]:
    """The file with its drum bars replaced by `transform(patterns)` (same hits, new velocities and
    offsets), and the number of bars changed. Everything else (other channels and tracks, tempo
    and meta events, notes outside the 9 voices, bars not in 4/4) is written back as it was.

    Each drum note moves by its cell's change of offset and takes its cell's new velocity (a
    quieter note folded onto the same cell, a flam, keeps its ratio to the loudest); every note
    stays inside the window its cell is read from, so importing the result gives the same hits.
    Its note-off moves with it (never past the same note's next note-on). Every event of the file
    is rewritten through mido (0.75 KB each), so a file of more than MAX_RETIME_EVENTS is refused
    before any is; `max_bars` caps the bars `transform` gets."""

    result = import_bytes(data, source, all_channels, max_bars=max_bars)
    scan = _scan(data, all_channels)
    try:
        check_count(scan.events, MAX_RETIME_EVENTS, "MIDI events", source,
                    "humanize rewrites files of at most {limit} events: split it")
    except DrumfontError as exc:
        raise MidiFileError(str(exc)) from None
    new = list(transform(result.patterns))
    if len(new) != len(result.patterns):
        raise ValueError("transform must return one pattern per bar")
    starts, lengths, _ = _bar_grid(scan)
    sixteenth = scan.tpb / 4
    bars = {b - 1: (old, nw) for b, old, nw in zip(result.bars, result.patterns, new)}
    try:
        mid = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise MidiFileError(f"{source}: {exc}") from None
    if mid.type == 0 and len(mid.tracks) > 1:
        # A malformed type-0 file with several tracks: they were read as parallel tracks (as in
        # type 1, which is how every player reads them), so they are written back as type 1.
        mid.type = 1
    for track in mid.tracks:
        events: list[list] = []  # [tick, rank, msg]; rank orders one tick: note-offs, others, end
        tick = 0
        for msg in track:
            tick += msg.time
            rank = 2 if msg.type == "end_of_track" else 1
            events.append([tick, rank, msg])
        shifts: dict[tuple[int, int], list[int]] = {}
        for ev in events:
            t, _, msg = ev
            if msg.type not in ("note_on", "note_off") or not (all_channels or msg.channel == DRUM_CHANNEL):
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                shift = 0
                voice = FOLD[msg.note]
                bar = int(np.searchsorted(starts, t, side="right")) - 1
                if voice >= 0 and bar >= 0:
                    step = math.ceil((t - starts[bar]) / sixteenth - 0.5)
                    if step >= round(lengths[bar] / sixteenth):
                        bar, step = bar + 1, 0
                    if bar in bars and step < STEPS:
                        old, nw = bars[bar]
                        grid = starts[bar] + step * sixteenth
                        lo, hi = _cell_window(grid, sixteenth)
                        moved = t + round(float(nw.offsets[step, voice] - old.offsets[step, voice]) * sixteenth)
                        shift = int(min(max(moved, lo, 0), hi)) - t
                        was, now = int(old.velocities[step, voice]), int(nw.velocities[step, voice])
                        vel = now if msg.velocity >= was else max(1, min(127, round(msg.velocity * now / was)))
                        ev[2] = msg.copy(velocity=vel)
                ev[0] = t + shift
                shifts.setdefault(key, []).append(shift)
            elif shifts.get(key):
                ev[0] = max(0, t + shifts[key].pop(0))
                ev[1] = 0
        # A moved note-off never passes the same note's next note-on.
        next_on: dict[tuple[int, int], int] = {}
        for ev in sorted(events, key=lambda e: -e[0]):
            msg = ev[2]
            if msg.type not in ("note_on", "note_off"):
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                next_on[key] = ev[0]
            elif key in next_on:
                ev[0] = min(ev[0], next_on[key])
        last = max((e[0] for e in events if e[1] < 2), default=0)
        for ev in events:
            if ev[1] == 2:
                ev[0] = max(ev[0], last)
        events.sort(key=lambda e: (e[0], e[1]))
        track.clear()
        now = 0
        for t, _, msg in events:
            track.append(msg.copy(time=t - now))
            now = t
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue(), len(new)


def read_taps(path: str | os.PathLike, channel: int | None = None, note: int | None = None,
              max_bars: int = MAX_MIDI_BARS) -> list[Pattern]:
    """A tapped line as bars: any note-on on any channel (or only `channel` 0..15, or only `note`)
    is a tap, kept in voice 0 with its velocity and timing; every 4/4 bar from the first tap
    to the last is returned, empty bars included (they are rests in the rhythm); more than
    `max_bars` of them is an error."""
    path = Path(path)
    fold = [0] * 128 if note is None else [0 if n == note else -1 for n in range(128)]
    data = read_midi_bytes(path)
    try:
        scan = _scan(data, channel is None, fold, channel)
        starts, lengths, four = _bar_grid(scan)
        if not scan.hits:  # name the filter that found nothing, and what the file does hold
            raise MidiFileError(f"{path}: {_no_taps(data, channel, note)}")
    except (ValueError, IndexError, struct.error) as exc:
        raise MidiFileError(f"{path}: {exc}") from None
    ticks = [t for t, _, _ in scan.hits]  # the bars from the first tap to the last, before they are read
    first, last = np.searchsorted(starts, [min(ticks), max(ticks)], side="right") - 1
    _check_bars(int(four[first:last + 1].sum()), max_bars, path)
    result = import_bytes(data, str(path), channel is None, fold, channel)
    if not result.patterns:
        raise MidiFileError(f"{path}: no 4/4 bar holds a tap ({result.skipped_meter} bars in other meters)")
    first, last = result.bars[0], result.bars[-1]
    found = dict(zip(result.bars, result.patterns))
    return [found.get(b, Pattern.empty()) for b in range(first, last + 1) if four[b - 1]]


def _no_taps(data: bytes, channel: int | None, note: int | None) -> str:
    """Why a tap filter found nothing: the filter, and the notes and channels the file holds."""
    where = "any channel" if channel is None else f"channel {channel + 1}"
    wanted = "no notes" if note is None else f"no note {note}"
    # Fold every note onto itself to list what is there (on the channel asked for, then on any).
    here = sorted({n for _, n, _ in _scan(data, channel is None, list(range(128)), channel).hits})
    if note is not None and here:
        return f"{wanted} on {where}; the notes there are {_listed(here)} (--note picks one of them)"
    if channel is not None:
        per = [c for c in range(16) if _scan(data, True, [-1] * 128).channels >> c & 1]
        if per:
            return (f"{wanted} on {where}; the file has notes on channel{'s' if len(per) > 1 else ''} "
                    f"{_listed([c + 1 for c in per])}")
    return f"{wanted} on {where}"


def _listed(values: Sequence[int], most: int = 12) -> str:
    shown = ", ".join(str(v) for v in values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


