"""The live scheduler's pure math: tempo map, sequencer (queue, chain, swing, gate, mute/solo),
note pairing, clock pulses, and agreement with the .mid exporter."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.live import schedule as sch
from drumfont.score.midifile import ExportOptions, note_events
from drumfont.score.notemap import GM
from drumfont.score.pattern import CLOSED_HAT, KICK, SNARE, Pattern, from_text

A = from_text("KK x.......x.......\nSN ....X.......X...\nCH x.x.x.x.x.x.x.x.")
B = from_text("KK x.x.x.x.x.x.x.x.\nCR X...............")


def ons(msgs):
    return [m for _, m in msgs if m[0] == sch.NOTE_ON]


# --- tempo -----------------------------------------------------------------------------------

def test_deadlines_come_from_the_anchor_without_drift():
    tm = sch.TempoMap(120, start_ns=1_000)
    # 120 BPM: a sixteenth is exactly 125 ms; a million steps later still exact to the ns
    assert tm.time_of(0) == 1_000
    assert tm.time_of(1) == 1_000 + 125_000_000
    assert tm.time_of(1_000_000) == 1_000 + 1_000_000 * 125_000_000
    assert tm.pos_at(tm.time_of(37.5)) == pytest.approx(37.5)


def test_tempo_change_keeps_the_phase():
    tm = sch.TempoMap(120, start_ns=0)
    now = tm.time_of(10.25)            # a quarter into step 10
    tm.set_bpm(180, now)
    assert tm.pos_at(now) == pytest.approx(10.25)
    # from there on, steps last 60/180/4 s
    assert tm.time_of(11.25) - tm.time_of(10.25) == round(60e9 / 180 / 4)
    assert tm.time_of(10.25) == now


@pytest.mark.parametrize("bpm", [19.9, 300.1, 0, -5])
def test_tempo_out_of_range_is_refused(bpm):
    with pytest.raises(ValueError, match="20..300"):
        sch.check_bpm(bpm)


def test_limits_accepted():
    assert sch.check_bpm(20) == 20 and sch.check_bpm(300) == 300
    with pytest.raises(ValueError):
        sch.check_swing(80)
    with pytest.raises(ValueError):
        sch.check_gate(0)


# --- sequencer -------------------------------------------------------------------------------

def test_render_matches_the_midi_exporter():
    """The live stream and a .mid export of the same chain hold the same notes at the same
    ticks (swing and gate mean the same in both)."""
    seq = sch.Sequencer(swing=60, gate=0.5)
    seq.set_chain([(A, 2), (B, 1)], loop=False)
    live = sch.render(seq, 3)
    opts = ExportOptions(swing=60, gate=0.5, bars_per_pattern=1)
    exported = note_events([A, A, B], opts)
    as_ticks = sorted((round(pos * 120), m[1], m[2] if m[0] == sch.NOTE_ON else 0) for pos, m in live)
    assert as_ticks == sorted(exported)


def test_swing_delays_the_even_sixteenths():
    hats = Pattern.empty().with_velocity(0, CLOSED_HAT, 90).with_velocity(1, CLOSED_HAT, 90)
    seq = sch.Sequencer(pattern=hats, swing=66)
    onsets = [pos for pos, m in sch.render(seq, 1) if m[0] == sch.NOTE_ON]
    assert onsets == [0.0, pytest.approx(1.32)]


def test_gate_sets_the_note_off():
    kick = Pattern.empty().with_velocity(4, KICK, 100)
    out = sch.render(sch.Sequencer(pattern=kick, gate=0.25), 1)
    assert out == [(4.0, (0x99, 36, 100)), (4.25, (0x89, 36, 0))]


def test_channel_ten_velocities_and_pairing():
    out = sch.render(sch.Sequencer(pattern=A, swing=75, gate=1.0), 4)
    on_msgs = ons(out)
    assert len(on_msgs) == 4 * int(A.hits.sum())
    assert all(m[0] in (0x99, 0x89) for _, m in out)
    assert all(1 <= m[2] <= 127 for m in on_msgs)
    sounding = set()
    for _, m in out:  # a note is never struck while it sounds, and all end
        if m[0] == 0x99:
            assert m[1] not in sounding
            sounding.add(m[1])
        else:
            sounding.discard(m[1])
    assert not sounding


def test_pattern_change_waits_for_the_bar_line():
    seq = sch.Sequencer(pattern=A)
    got = [seq.step_events(s) for s in range(5)]          # playing A, at step 4 of bar 1
    seq.set_pattern(B, at="bar")
    rest_of_bar = [seq.step_events(s) for s in range(5, 16)]
    next_bar = [seq.step_events(s) for s in range(16, 32)]
    assert got[0] and all(ev.data[1] != 49 for evs in rest_of_bar for ev in evs)   # no crash yet
    notes_next = {ev.data[1] for evs in next_bar for ev in evs}
    assert notes_next == {GM.note(KICK), 49}


def test_pattern_change_now_takes_the_next_step():
    seq = sch.Sequencer(pattern=A)
    for s in range(3):
        seq.step_events(s)
    seq.set_pattern(B, at="now")
    assert {ev.data[1] for ev in seq.step_events(4)} == {GM.note(KICK)}   # B's kick on step 4
    assert seq.step_events(6) and {ev.data[1] for ev in seq.step_events(6)} == {GM.note(KICK)}


def test_chain_loops_or_stops():
    seq = sch.Sequencer()
    seq.set_chain([(A, 2), (B, 1)], loop=True)
    entries = []
    for bar in range(7):
        seq.step_events(bar * 16)
        entries.append(seq.chain_position[0])
        for s in range(1, 16):
            seq.step_events(bar * 16 + s)
    assert entries == [0, 0, 1, 0, 0, 1, 0]

    seq = sch.Sequencer()
    seq.set_chain([(A, 1), (B, 1)], loop=False)
    out = sch.render(seq, 4)
    assert seq.finished
    assert len(ons(out)) == int(A.hits.sum()) + int(B.hits.sum())


def test_seek_bar_places_the_chain():
    seq = sch.Sequencer()
    seq.set_chain([(A, 1), (B, 2)], loop=True)
    seq.seek_bar(2)                          # third bar: B's second bar
    assert seq.pattern == B
    seq.step_events(2 * 16 + 5)              # resuming mid-bar does not advance
    assert seq.pattern == B
    seq.step_events(3 * 16)                  # the next bar line loops back to A
    assert seq.pattern == A


def test_mute_and_solo():
    seq = sch.Sequencer(pattern=A)
    seq.set_mute(KICK, True)
    notes = {m[1] for m in ons(sch.render(seq, 1))}
    assert GM.note(KICK) not in notes and GM.note(SNARE) in notes
    seq.set_solo(SNARE, True)               # solo wins: only the snare
    assert {m[1] for m in ons(sch.render(seq, 1))} == {GM.note(SNARE)}
    seq.set_solo(SNARE, False)
    seq.set_mute(KICK, False)
    assert GM.note(KICK) in {m[1] for m in ons(sch.render(seq, 1))}
    with pytest.raises(ValueError):
        seq.set_mute(9, True)


def test_a_muted_voice_still_gets_its_note_off():
    seq = sch.Sequencer()
    ledger = sch.NoteLedger()
    on = sch.Event(0.0, sch.ORDER_ON, (0x99, 36, 100), KICK, 1)
    off = sch.Event(0.5, sch.ORDER_OFF, (0x89, 36, 0), KICK, 1)
    assert sch.dispatch(on, seq, ledger) == [(0x99, 36, 100)]
    seq.set_mute(KICK, True)
    assert sch.dispatch(off, seq, ledger) == [(0x89, 36, 0)]


def test_ledger_cuts_a_restruck_note_and_drops_its_stale_off():
    ledger = sch.NoteLedger()
    assert ledger.on(36, tag=1) == []
    assert ledger.on(36, tag=2) == [(0x89, 36, 0)]      # cut before the new strike
    assert ledger.off(36, tag=1) is False                # the first note's off is stale
    assert ledger.off(36, tag=2) is True
    ledger.on(42, tag=3)
    assert ledger.release_all() == [(0x89, 42, 0), sch.ALL_NOTES_OFF]
    assert ledger.sounding == {}


def test_clock_out_is_24_pulses_per_beat_before_the_notes():
    out = sch.render(sch.Sequencer(pattern=A), 2, clock_out=True)
    clocks = [pos for pos, m in out if m == (sch.CLOCK,)]
    assert len(clocks) == 2 * 4 * 24
    assert clocks[:7] == pytest.approx([k / 6 for k in range(7)])
    assert out[0][1] == (sch.CLOCK,) and out[1][1][0] == 0x99   # the pulse marks the downbeat


def test_song_position_pointer_bytes():
    assert sch.song_position_bytes(0) == (0xF2, 0, 0)
    assert sch.song_position_bytes(1000) == (0xF2, 1000 & 0x7F, 1000 >> 7)


def test_notemap_changes_the_notes():
    from drumfont.score.notemap import NoteMap

    nm = NoteMap("x", tuple(range(60, 69)))
    out = sch.render(sch.Sequencer(pattern=A, notemap=nm), 1)
    assert {m[1] for m in ons(out)} == {60 + KICK, 60 + SNARE, 60 + CLOSED_HAT}


def test_empty_chain_refused():
    with pytest.raises(ValueError):
        sch.Sequencer().set_chain([])
    with pytest.raises(ValueError):
        sch.Sequencer().set_chain([(A, 0)])
    assert np.array_equal(sch.Sequencer().pattern.velocities, Pattern.empty().velocities)


# --- micro-timing ----------------------------------------------------------------------------

def _timed(text: str, offsets: dict[tuple[int, int], float]) -> Pattern:
    p = from_text(text)
    off = np.zeros((16, 9), np.float32)
    for cell, o in offsets.items():
        off[cell] = o
    return p.with_offsets(off)


# kick on the downbeat played early, the snare laid back, a hat pushed
LEANING = _timed("KK x.......x.......\nSN ....x.......x...\nCH ..x.............",
                 {(0, KICK): -0.3, (8, KICK): 0.1, (4, SNARE): 0.25, (12, SNARE): 0.4, (2, CLOSED_HAT): -0.45})


def _onsets(out, note=None):
    return [pos for pos, m in out if m[0] == sch.NOTE_ON and (note is None or m[1] == note)]


def test_hits_sound_at_step_plus_offset():
    out = sch.render(sch.Sequencer(pattern=LEANING), 2)
    kick, snare, hat = GM.note(KICK), GM.note(SNARE), GM.note(CLOSED_HAT)
    # bar 1's early downbeat has no earlier time: it sits on the downbeat (clamped, like the
    # .mid writer); bar 2's sounds in bar 1's time, 0.3 of a sixteenth before the bar line
    assert _onsets(out, kick) == pytest.approx([0.0, 8.1, 15.7, 24.1])
    assert _onsets(out, snare) == pytest.approx([4.25, 12.4, 20.25, 28.4])
    assert _onsets(out, hat) == pytest.approx([1.55, 17.55])
    positions = [pos for pos, _ in out]
    assert positions == sorted(positions)


def test_early_downbeat_precedes_the_bar_line_clock_pulse():
    """Clock pulses stay on the grid; the early kick of bar 2 (15.7) comes after the pulse at
    15.667 (pulse index 94) and before the one at 15.833, in the stream itself."""
    out = sch.render(sch.Sequencer(pattern=LEANING), 2, clock_out=True)
    clocks = [pos for pos, m in out if m == (sch.CLOCK,)]
    assert clocks == pytest.approx([k / 6 for k in range(2 * 16 * 6)])
    msgs = [m for _, m in out]
    pulses_before = [i for i, m in enumerate(msgs) if m == (sch.CLOCK,)]
    second_kick = [i for i, m in enumerate(msgs) if m == (sch.NOTE_ON, GM.note(KICK), 90)][2]
    assert sum(1 for i in pulses_before if i < second_kick) == 95     # pulses 0..94


def test_the_next_bar_from_the_queue_or_chain_plays_its_early_downbeat_in_this_bar():
    early = _timed("KK x...............", {(0, KICK): -0.5})
    seq = sch.Sequencer(pattern=A)
    first = [ev for s in range(12) for ev in seq.step_events(s)]
    seq.set_pattern(early, at="bar")          # queued during bar 1
    rest = [ev for s in range(12, 17) for ev in seq.step_events(s)]
    kicks = [ev.pos for ev in first + rest if ev.order == sch.ORDER_ON and ev.data[1] == GM.note(KICK)]
    assert kicks == [0.0, 8.0, 15.5]          # the queued bar's downbeat, half a step early

    seq = sch.Sequencer()
    seq.set_chain([(A, 1), (early, 1)], loop=True)
    out = sch.render(seq, 3)
    assert _onsets(out, GM.note(KICK)) == [0.0, 8.0, 15.5, 32.0, 40.0]


def test_swing_applies_to_straight_bars_only_unless_asked():
    straight = from_text("CH x.x.x.x.x.x.x.x.".replace(".", "x", 1))   # steps 0, 1, 2, 4, ...
    timed = straight.with_offsets(np.where(straight.hits, np.float32(0.1), np.float32(0)))
    assert _onsets(sch.render(sch.Sequencer(pattern=straight, swing=60), 1))[:2] == pytest.approx([0.0, 1.2])
    assert _onsets(sch.render(sch.Sequencer(pattern=timed, swing=60), 1))[:2] == pytest.approx([0.1, 1.1])
    asked = sch.Sequencer(pattern=timed, swing=60, swing_timed=True)
    assert _onsets(sch.render(asked, 1))[:2] == pytest.approx([0.1, 1.3])


def test_timed_render_matches_the_midi_exporter():
    seq = sch.Sequencer(swing=62, gate=0.8)
    seq.set_chain([(LEANING, 2), (A, 1)], loop=False)
    live = sch.render(seq, 3)
    exported = note_events([LEANING, LEANING, A], ExportOptions(swing=62, gate=0.8))
    as_ticks = sorted((round(pos * 120), m[1], m[2] if m[0] == sch.NOTE_ON else 0) for pos, m in live)
    assert as_ticks == sorted(exported)


def test_no_note_is_struck_again_before_its_note_off():
    """A late hit whose gate runs past an early next hit of the same note: the note-off of the
    first always comes before the note-on of the second, and every note-on is ended once."""
    late_early = _timed("KK xx..............\nSN x.x.............\nCH .xx.............",
                        {(0, KICK): 0.45, (1, KICK): -0.45, (0, SNARE): 0.49, (2, SNARE): -0.5,
                         (1, CLOSED_HAT): 0.45, (2, CLOSED_HAT): -0.5})
    for swing, timed in ((50, False), (75, True)):   # 75 % on the timed bar: the hats pass each other
        seq = sch.Sequencer(pattern=late_early, gate=1.0, swing=swing, swing_timed=timed)
        out = sch.render(seq, 3)
        assert len(_onsets(out)) == 3 * 6
        for note in (GM.note(KICK), GM.note(SNARE), GM.note(CLOSED_HAT)):
            kinds = [m[0] for _, m in out if m[1] == note]
            assert kinds == [sch.NOTE_ON, sch.NOTE_OFF] * (len(kinds) // 2), (swing, note, kinds)


def test_an_early_hit_is_placed_by_the_tempo_in_force_where_it_sounds():
    """The clock asks for step 16 at position 15 (one sixteenth ahead) and keeps its events as
    positions: a tempo change after that still places the early downbeat at the new tempo."""
    seq = sch.Sequencer(pattern=LEANING)
    tm = sch.TempoMap(120, start_ns=0)
    for s in range(16):
        seq.step_events(s)
    assert sch.LOOKAHEAD > -min(0.0, float(LEANING.offsets.min()))
    bar2 = seq.step_events(16)                           # generated at position 15, at 120 BPM
    early = next(ev for ev in bar2 if ev.order == sch.ORDER_ON and ev.voice == KICK)
    assert early.pos == pytest.approx(15.7)
    change = tm.time_of(15.2)
    tm.set_bpm(60, change)                               # a quarter note now lasts twice as long
    # (offsets are float32: 15.7 is 15.69999999, a few ns off at this tempo)
    assert tm.time_of(early.pos) == pytest.approx(change + 0.5 * sch.step_ns(60), abs=10)
    assert tm.time_of(16) == change + round(0.8 * sch.step_ns(60))   # the bar line, still after it


def test_resume_mid_bar_clamps_only_the_first_step():
    seq = sch.Sequencer(pattern=LEANING)
    seq.seek_bar(0)
    out = sch.render(seq, 1, start_step=2)           # Continue at step 2: the hat's -0.45 waits
    assert _onsets(out, GM.note(CLOSED_HAT))[0] == 2.0
    assert _onsets(out, GM.note(SNARE))[0] == pytest.approx(4.25)
    assert _onsets(out, GM.note(KICK)) == pytest.approx([8.1, 15.7])


def test_mute_and_solo_hold_for_timed_hits():
    seq = sch.Sequencer(pattern=LEANING)
    seq.set_mute(KICK, True)
    assert GM.note(KICK) not in {m[1] for _, m in sch.render(seq, 2) if m[0] == sch.NOTE_ON}
    seq.set_solo(KICK, True)
    assert _onsets(sch.render(seq, 2)) == pytest.approx([0.0, 8.1, 15.7, 24.1])
