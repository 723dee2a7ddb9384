"""MIDI export and import: file structure, exhaustive round trips, and every bad input."""

import io

import mido
import numpy as np
import pytest

from drumfont.errors import FileExistsNoForce, MidiFileError
from drumfont.score.midifile import (
    DRUM_CHANNEL,
    ExportOptions,
    import_bytes,
    note_events,
    read_midi,
    read_patterns,
    swing_offset,
    to_midi_bytes,
    write_midi,
)
from drumfont.score.notemap import load_notemap
from drumfont.score.pattern import N_VOICES, STEPS, Pattern


def rand_patterns(seed, n=4, density=0.35):
    rng = np.random.default_rng(seed)
    return [Pattern(np.where(rng.random((16, 9)) < density, rng.integers(1, 128, (16, 9)), 0))
            for _ in range(n)]


def parse(data: bytes) -> mido.MidiFile:
    return mido.MidiFile(file=io.BytesIO(data))


def test_file_structure():
    p = rand_patterns(0, 2)
    mid = parse(to_midi_bytes(p, ExportOptions(bpm=97, name="groove")))
    assert mid.type == 1 and mid.ticks_per_beat == 480 and len(mid.tracks) == 2
    meta = {m.type: m for m in mid.tracks[0]}
    assert meta["track_name"].name == "groove"
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (4, 4)
    assert round(mido.tempo2bpm(meta["set_tempo"].tempo)) == 97
    notes = [m for m in mid.tracks[1] if m.type in ("note_on", "note_off")]
    assert all(m.channel == DRUM_CHANNEL for m in notes)
    ons = [m for m in notes if m.type == "note_on"]
    assert all(m.velocity >= 1 for m in ons)
    assert len(ons) == sum(int(x.hits.sum()) for x in p)
    # every note-on has a later matching note-off, and no note is re-struck while sounding
    sounding, t = {}, 0
    for m in mid.tracks[1]:
        t += m.time
        if m.type == "note_on":
            assert m.note not in sounding
            sounding[m.note] = t
        elif m.type == "note_off":
            assert t > sounding.pop(m.note)
    assert not sounding


def test_exhaustive_round_trip_every_voice_and_step():
    # One file per (voice, step) cell would be slow; instead a chain where bar k holds every
    # cell with its own velocity, rotated so each cell meets several velocities and swings.
    for swing in (50, 54, 66, 75):
        pats = []
        for k in range(4):
            vel = (np.arange(STEPS * N_VOICES).reshape(STEPS, N_VOICES) * 7 + k * 31) % 127 + 1
            pats.append(Pattern(vel))
        single = [Pattern.empty().with_velocity(s, v, 1 + (s * 9 + v) % 127)
                  for s in range(STEPS) for v in range(N_VOICES)]
        for chain in (pats, single):
            data = to_midi_bytes(chain, ExportOptions(swing=swing, gate=1.0))
            back = import_bytes(data).patterns
            # The grid comes back exactly; swing comes back as the even sixteenths' timing.
            assert [q.straight() for q in back] == chain
            late = (swing - 50) / 50  # sixteenths
            for q in back:
                expect = np.where(q.hits & (np.arange(STEPS) % 2 == 1)[:, None], late, 0.0)
                assert np.abs(q.offsets - expect).max() <= 1 / 120 + 1e-6  # one tick of 120 per sixteenth


OFFSETS = (-0.5, -0.37, -0.2, -0.04, 0.0, 0.031, 0.25, 0.49, 0.4999)


@pytest.mark.parametrize("bpm", (60, 97.5, 180))
def test_offset_round_trip_every_voice_step_and_offset(bpm):
    # Bar 0 is a straight lead-in, so that a negative offset on step 0 has time before it.
    cells = [(s, v) for s in range(STEPS) for v in range(N_VOICES)]
    chain = [Pattern.from_hits(np.eye(STEPS, N_VOICES, dtype=bool))]
    for k, o in enumerate(OFFSETS):
        vel = np.zeros((STEPS, N_VOICES), np.uint8)
        off = np.zeros((STEPS, N_VOICES), np.float32)
        for s, v in cells:
            vel[s, v] = 1 + (s * 9 + v + k) % 127
            off[s, v] = o
        chain.append(Pattern(vel, off))
    back = import_bytes(to_midi_bytes(chain, ExportOptions(bpm=bpm, gate=0.25))).patterns
    assert len(back) == len(chain)
    for p, q in zip(chain, back):
        assert np.array_equal(p.velocities, q.velocities)
        assert np.abs(p.offsets - q.offsets).max() <= 1 / 120 + 1e-6  # within one tick


def test_timed_pattern_is_not_swung_unless_asked():
    p = Pattern.from_hits(np.ones((STEPS, 1)) * [1, 0, 0, 0, 0, 0, 0, 0, 0], offsets=np.full((STEPS, N_VOICES), 0.1))
    ticks = [t for t, _, v in note_events([p], ExportOptions(swing=66)) if v]
    assert ticks[1] - ticks[0] == 120  # 0.1 + step 1 + 0.1: swing left out
    ticks = [t for t, _, v in note_events([p], ExportOptions(swing=66, swing_timed=True)) if v]
    assert ticks[1] - ticks[0] == 120 + 38


def test_early_downbeat_of_a_file_sits_on_the_downbeat():
    p = Pattern.from_hits(np.eye(STEPS, N_VOICES, dtype=bool), offsets=np.full((STEPS, N_VOICES), -0.25))
    ev = note_events([p, p], ExportOptions())
    onsets = [t for t, _, v in ev if v]
    assert onsets[0] == 0 and 4 * 480 - 30 in onsets  # bar 2's downbeat still leans early


def test_folded_notes_keep_the_louder_ones_timing():
    import mido
    mid = mido.MidiFile(ticks_per_beat=480)
    tr = mido.MidiTrack()
    # kick 36 at +10 ticks loud, kick 35 at the same place soft: one cell, the loud one's timing
    tr += [mido.Message("note_on", channel=9, note=36, velocity=110, time=960 + 10),
           mido.Message("note_on", channel=9, note=35, velocity=30, time=0),
           mido.Message("note_on", channel=9, note=35, velocity=0, time=30),
           mido.Message("note_on", channel=9, note=36, velocity=0, time=0)]
    mid.tracks.append(tr)
    buf = io.BytesIO()
    mid.save(file=buf)
    p = import_bytes(buf.getvalue()).patterns[0]
    assert p.velocities[8, 0] == 110
    assert p.offsets[8, 0] == pytest.approx(10 / 120)


@pytest.mark.parametrize("seed", range(5))
def test_random_round_trip_with_repeats(seed):
    p = rand_patterns(seed)
    r = import_bytes(to_midi_bytes(p, ExportOptions(bars_per_pattern=3, swing=60)))
    assert [q.straight() for q in r.patterns] == [x for x in p for _ in range(3)]
    assert r.bars == list(range(1, 13))


def test_notemap_round_trip():
    p = rand_patterns(9)
    data = to_midi_bytes(p, ExportOptions(notemap=load_notemap("tr8s")))
    assert import_bytes(data).patterns == p


def test_swing_and_gate():
    assert swing_offset(0, 75, 120) == 0 and swing_offset(1, 50, 120) == 0
    assert swing_offset(1, 66, 120) == pytest.approx(38.4) and swing_offset(3, 75, 120) == 60
    p = Pattern.empty().with_velocity(1, 0, 100)
    ev = note_events([p], ExportOptions(swing=75, gate=0.25))
    assert ev == [(180, 36, 100), (210, 36, 0)]


def test_overlapping_notes_are_cut_before_the_next_hit():
    vel = np.zeros((16, 9), np.uint8)
    vel[:, 0] = 100  # straight sixteenths on the kick, swung, full gate
    ev = note_events([Pattern(vel)], ExportOptions(swing=75, gate=1.0))
    on = {}
    for tick, note, v in ev:
        if v:
            assert note not in on
            on[note] = tick
        else:
            assert tick > on.pop(note)


def test_options_are_validated():
    for kw in ({"bpm": 10}, {"swing": 80}, {"gate": 0}, {"bars_per_pattern": 0}):
        with pytest.raises(MidiFileError):
            ExportOptions(**kw)


def test_write_is_atomic_and_refuses_overwrite(tmp_path):
    path = tmp_path / "a.mid"
    p = rand_patterns(1, 1)
    write_midi(path, p)
    before = path.read_bytes()
    with pytest.raises(FileExistsNoForce):
        write_midi(path, rand_patterns(2, 1))
    assert path.read_bytes() == before
    write_midi(path, rand_patterns(2, 1), force=True)
    assert path.read_bytes() != before
    assert [f.name for f in tmp_path.iterdir()] == ["a.mid"]  # no temp files left


def _file(tracks, tpb=480, type_=1) -> bytes:
    mid = mido.MidiFile(type=type_, ticks_per_beat=tpb)
    for msgs in tracks:
        mid.tracks.append(mido.MidiTrack(msgs))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def _on(note, time, vel=100, ch=9):
    return mido.Message("note_on", note=note, velocity=vel, time=time, channel=ch)


def test_import_quantises_with_the_files_own_resolution_and_meter():
    tpb = 96
    msgs = [mido.MetaMessage("set_tempo", tempo=400000, time=0), _on(36, 0), _on(38, 2 * tpb + 5),
            # a bar of 3/4 starting at bar 2 is skipped and counted
            mido.MetaMessage("time_signature", numerator=3, denominator=4, time=2 * tpb - 5),
            _on(36, 0), _on(42, tpb),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=2 * tpb),
            # an empty 4/4 bar, then a bar with a closed hat on its "and" of 1 (step 2)
            _on(42, 4 * tpb + tpb // 2 - 3)]
    r = import_bytes(_file([msgs], tpb=tpb, type_=0))
    assert r.skipped_meter == 1 and r.empty_bars == 1
    assert r.bars == [1, 4]
    first, last = r.patterns
    assert first.velocities[0, 0] == 100 and first.velocities[8, 1] == 100
    assert last.hits.sum() == 1 and last.velocities[2, 2] == 100


def test_import_channels_and_fold_collisions():
    msgs = [_on(36, 0, 60), _on(35, 0, 90), _on(38, 0, 70, ch=0)]
    r = import_bytes(_file([msgs]))
    assert r.patterns[0].velocities[0, 0] == 90 and r.patterns[0].velocities[0, 1] == 0
    r = import_bytes(_file([msgs]), all_channels=True)
    assert r.patterns[0].velocities[0, 1] == 70


def test_late_note_rounds_to_next_downbeat():
    r = import_bytes(_file([[_on(36, 0), _on(38, 4 * 480 - 10)]]))
    assert len(r.patterns) == 2 and r.patterns[0].hits.sum() == 1  # the snare is bar 2's downbeat
    assert r.patterns[1].velocities[0, 1] == 100 and r.patterns[1].hits.sum() == 1


def test_track_ending_on_a_bar_line_adds_no_empty_bar():
    r = import_bytes(to_midi_bytes(rand_patterns(6, 3)))
    assert len(r.patterns) == 3 and r.empty_bars == 0


@pytest.mark.parametrize("data, words", [
    (b"hello world, not midi", "not a MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\x01\xe0", "zero tracks"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0", "truncated"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x10\x00\x99", "truncated"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\xe7\x28MTrk\x00\x00\x00\x00", "SMPTE"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\x24\x64\x00", "without a status"),
])
def test_bad_bytes_give_clear_errors(data, words):
    with pytest.raises(MidiFileError, match=words):
        import_bytes(data, "x.mid")


def test_truncated_real_file_never_crashes():
    data = to_midi_bytes(rand_patterns(3, 8))
    for cut in range(0, len(data), 7):
        try:
            import_bytes(data[:cut], "cut.mid")
        except MidiFileError as exc:
            assert "cut.mid" in str(exc)


def test_no_drum_notes_and_absurd_lengths():
    with pytest.raises(MidiFileError, match="no drum notes on channel 10"):
        import_bytes(_file([[_on(60, 0, ch=0)]]), "piano.mid")
    huge = _file([[_on(36, 0), _on(36, 2**27), _on(36, 2**27)]])
    with pytest.raises(MidiFileError, match="not a drum file"):
        import_bytes(huge, "huge.mid")


def test_read_midi_paths(tmp_path):
    with pytest.raises(MidiFileError, match="cannot read"):
        read_midi(tmp_path / "missing.mid")
    with pytest.raises(MidiFileError, match="folder"):
        read_midi(tmp_path)
    path = tmp_path / "g.mid"
    write_midi(path, rand_patterns(4, 2))
    assert read_patterns(path) == rand_patterns(4, 2)


def test_pretty_midi_reads_our_files(tmp_path):
    import pretty_midi

    p = rand_patterns(5, 2)
    path = write_midi(tmp_path / "pm.mid", p, ExportOptions(bpm=100))
    pm = pretty_midi.PrettyMIDI(str(path))
    assert len(pm.instruments) == 1 and pm.instruments[0].is_drum
    assert len(pm.instruments[0].notes) == sum(int(x.hits.sum()) for x in p)
    assert pm.get_tempo_changes()[1][0] == pytest.approx(100)


def _note_events_by_hand(patterns, opts, tpb=480):
    """note_events as it was written before it became numpy (one tuple per hit, a dict of the next
    onset per note): the reference the array version must match event for event."""
    import math

    from drumfont.score.midifile import applied_swing, swing_offset

    step_ticks, bar_ticks, onsets, bar = tpb / 4, 4 * tpb, [], 0
    for pattern in patterns:
        swing = applied_swing(pattern, opts.swing, opts.swing_timed)
        for _ in range(opts.bars_per_pattern):
            steps, voices = np.nonzero(pattern.velocities)
            for s, v in zip(steps.tolist(), voices.tolist()):
                grid = bar * bar_ticks + s * step_ticks
                tick = round(grid + float(pattern.offsets[s, v]) * step_ticks + swing_offset(s, swing, step_ticks))
                tick = max(0, tick, math.floor(grid - step_ticks / 2) + 1)
                onsets.append((tick, opts.notemap.note(v), int(pattern.velocities[s, v])))
            bar += 1
    onsets.sort()
    gate = max(1, round(opts.gate * step_ticks))
    next_onset, events = {}, []
    for tick, note, vel in reversed(onsets):
        if next_onset.get(note) == tick:
            continue
        end = min(tick + gate, next_onset.get(note, tick + gate))
        next_onset[note] = tick
        events.append((tick, note, vel))
        events.append((max(end, tick + 1), note, 0))
    events.sort(key=lambda e: (e[0], e[2] > 0, e[1]))
    return events


@pytest.mark.parametrize("seed", range(12))
def test_note_events_in_numpy_match_the_loop_they_replace(seed):
    """note_array (what render streams from: 24 bytes an event) gives note_events exactly as the
    per-hit loop did: timing, swing, gates cut by the next hit, two voices on one note."""
    from drumfont.score.midifile import note_array
    from drumfont.score.notemap import NoteMap

    rng = np.random.default_rng(seed)
    pats = []
    for p in rand_patterns(seed, int(rng.integers(1, 6)), density=float(rng.uniform(0.05, 0.6))):
        offsets = np.where(rng.random((16, 9)) < 0.5, rng.uniform(-0.5, 0.5, (16, 9)), 0).astype(np.float32)
        offsets[rng.random((16, 9)) < 0.1] = -0.5  # exactly half a step early
        pats.append(p.with_offsets(np.clip(offsets, -0.5, 0.4999)) if rng.random() < 0.7 else p)
    shared = NoteMap("shared", (36, 36, 42, 42, 48, 45, 49, 51, 39))  # two voices on one note
    opts = ExportOptions(swing=float(rng.choice([50, 54, 62, 66, 75])), gate=float(rng.choice([0.05, 0.5, 1.0])),
                         bars_per_pattern=int(rng.integers(1, 4)), notemap=shared if seed % 2 else ExportOptions().notemap,
                         swing_timed=bool(seed % 3 == 0))
    assert note_events(pats, opts) == _note_events_by_hand(pats, opts)
    assert note_array(pats, opts).tolist() == [list(e) for e in _note_events_by_hand(pats, opts)]
