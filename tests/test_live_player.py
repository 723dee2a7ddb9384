"""The Player against a recording port (in-process clock, no MIDI system): what reaches the
port for start, bars, chains, queued changes, mute, clock out, stop/resume and close. Asserts
content and order only; timing is benchmarks/bench_player.py's business."""

from __future__ import annotations

import time

import numpy as np
import pytest

from drumfont.errors import DrumfontError
from drumfont.live import Player, RecordingPort
from drumfont.live import schedule as sch
from drumfont.score.pattern import CLAP, KICK, SNARE, Pattern, from_text

KICKS = from_text("KK " + "x" * 16)
SNARES = from_text("SN " + "x" * 16)
GROOVE = from_text("KK x.......x.......\nSN ....X.......X...\nCH x.x.x.x.x.x.x.x.")


def wait_until(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out waiting for the player"
        time.sleep(0.01)


def ons(port):
    return [m for m in port.messages() if m[0] == sch.NOTE_ON]


def test_bars_with_clock_out_match_the_schedule():
    port = RecordingPort()
    with Player(port=port, bpm=300, swing=60, gate=0.7, clock_out=True, bars=2) as player:
        player.set_pattern(GROOVE)
        player.start()
        wait_until(player.ended)
        assert player.playhead() is None
    seq = sch.Sequencer(pattern=GROOVE, swing=60, gate=0.7)
    expected = [(sch.START,)] + [m for _, m in sch.render(seq, 2, clock_out=True)] \
        + [sch.ALL_NOTES_OFF, (sch.STOP,)]
    assert port.messages() == expected


def test_queued_pattern_switches_on_the_bar_line():
    port = RecordingPort()
    with Player(port=port, bpm=240, gate=0.5) as player:
        player.set_pattern(KICKS)
        player.start()
        wait_until(lambda: player.playhead() is not None and player.playhead() >= (0, 1))
        player.set_pattern(SNARES)                  # at="bar": the rest of bar 1 stays kicks
        wait_until(lambda: (player.playhead() or (0, 0)) >= (1, 2))
        player.stop()
    notes = [m[1] for m in ons(port)]
    assert notes[:16] == [36] * 16
    assert set(notes[16:]) == {38} and len(notes) > 16


def test_change_now_and_mute_solo_reach_the_port():
    port = RecordingPort()
    with Player(port=port, bpm=300) as player:
        player.set_pattern(KICKS)
        player.set_mute(KICK, True)
        player.start()
        wait_until(lambda: (player.playhead() or (0, 0)) >= (0, 3))
        assert ons(port) == []                         # muted
        player.set_pattern(Pattern(KICKS.velocities | SNARES.velocities), at="now")
        player.set_mute(KICK, False)
        player.set_solo(SNARE, True)
        n = len(port.messages())
        wait_until(lambda: len(port.messages()) > n + 6)
        player.stop()
    assert {m[1] for m in ons(port)} == {38}


def test_chain_without_loop_ends():
    port = RecordingPort()
    with Player(port=port, bpm=300) as player:
        player.set_chain([(KICKS, 1), (SNARES, 1)], loop=False)
        player.start()
        wait_until(player.ended)
    assert [m[1] for m in ons(port)] == [36] * 16 + [38] * 16


def test_stop_silences_and_resume_continues_with_song_position():
    port = RecordingPort()
    with Player(port=port, bpm=240, gate=1.0, clock_out=True) as player:
        player.set_pattern(GROOVE)
        player.start()
        wait_until(lambda: (player.playhead() or (0, 0)) >= (0, 5))
        player.stop()
        wait_until(lambda: any(n[0] == "stopped" for n in player.notices()))
        stopped = port.messages()
        assert stopped[-2:] == [sch.ALL_NOTES_OFF, (sch.STOP,)]
        player.resume()
        wait_until(lambda: player.playhead() is not None)
        player.stop()
    after = port.messages()[len(stopped):]
    spp = after[0]
    assert spp[0] == sch.SONG_POSITION and 5 <= (spp[1] | spp[2] << 7) <= 16
    assert after[1] == (sch.CONTINUE,)


def test_tempo_swing_gate_changes_while_playing():
    port = RecordingPort()
    with Player(port=port, bpm=200) as player:
        player.set_pattern(GROOVE)
        player.start()
        wait_until(lambda: (player.playhead() or (0, 0)) >= (0, 2))
        player.set_tempo(290)
        player.set_swing(66)
        player.set_gate(0.9)
        wait_until(lambda: player.bpm() == 290)
        wait_until(lambda: (player.playhead() or (0, 0)) >= (1, 0))
        player.stop()
    notes = [m for m in port.messages() if m[0] in (sch.NOTE_ON, sch.NOTE_OFF)]
    assert len([m for m in notes if m[0] == sch.NOTE_ON]) >= int(GROOVE.hits.sum())


def test_close_sends_all_notes_off_even_mid_note():
    port = RecordingPort()
    player = Player(port=port, bpm=60, gate=1.0).open()
    player.set_pattern(from_text("CP x..............."))
    player.start()
    wait_until(lambda: ons(port))
    player.close()
    player.close()   # twice is fine
    assert port.messages()[-2:] == [(sch.NOTE_OFF, 39, 0), sch.ALL_NOTES_OFF]
    assert not player.alive()


def test_a_mido_style_port_object_works():
    mido = pytest.importorskip("mido")

    class MidoPort:
        def __init__(self):
            self.got = []

        def send(self, msg):
            assert isinstance(msg, mido.Message)
            self.got.append(msg)

    port = MidoPort()
    with Player(port=port, bpm=300, bars=1) as player:
        player.set_pattern(GROOVE)
        player.start()
        wait_until(player.ended)
    assert sum(m.type == "note_on" for m in port.got) == int(GROOVE.hits.sum())
    assert all(m.channel == 9 for m in port.got)


def test_bad_settings_are_user_errors():
    port = RecordingPort()
    with pytest.raises(DrumfontError, match="20..300"):
        Player(port=port, bpm=400)
    with pytest.raises(DrumfontError, match="swing"):
        Player(port=port, swing=40)
    with Player(port=port) as player:
        with pytest.raises(DrumfontError):
            player.set_tempo(10)
        with pytest.raises(DrumfontError):
            player.set_mute(CLAP + 1, True)
        with pytest.raises(DrumfontError):
            player.set_chain([])
    with pytest.raises(TypeError):
        Player(port=object())


# --- micro-timing: the clock's own deadlines (exact, whatever the machine's load) ----------------

def _leaning() -> Pattern:
    p = from_text("KK x.......x.......\nSN ....x.......x...\nCH ..x.............")
    off = np.zeros((16, 9), np.float32)
    off[0, KICK], off[8, KICK], off[4, SNARE], off[12, SNARE], off[2, 2] = -0.3, 0.1, 0.25, 0.4, -0.45
    return p.with_offsets(off)


def _positions(seq: sch.Sequencer, bars: int) -> list[tuple[float, tuple[int, ...]]]:
    return [(0.0, (sch.START,))] + sch.render(seq, bars, clock_out=True)


def test_timed_bars_reach_the_port_at_their_offsets():
    """Every message's deadline sits at its position (step + offset) on the clock's tempo map:
    bar 2's early downbeat before the bar line's pulse, the pulses on the grid."""
    port = RecordingPort()
    timed = _leaning()
    with Player(port=port, bpm=300, clock_out=True, bars=2, record_timing=True) as player:
        player.set_pattern(timed)
        player.start()
        wait_until(player.ended)
        timing = player.timing()
    expected = _positions(sch.Sequencer(pattern=timed), 2)
    assert port.messages() == [m for _, m in expected] + [sch.ALL_NOTES_OFF, (sch.STOP,)]
    assert len(timing) == len(expected) and list(timing[:, 2]) == [m[0] for _, m in expected]
    deadlines = timing[:, 0] - timing[0, 0]                 # from the Start (= bar 1's downbeat)
    want = np.array([pos for pos, _ in expected]) * sch.step_ns(300)
    assert np.abs(deadlines - want).max() <= 2               # ns: rounding only
    early = [pos for pos, m in expected if m[0] == sch.NOTE_ON and m[1] == 36][2]
    assert early == pytest.approx(15.7)


def test_tempo_change_places_timed_hits_by_the_tempo_where_they_sound():
    """Between two pulses at one tempo, a hit's deadline divides the pulse interval as its
    position does; after the change, the early downbeat of bar 2 sits at the new tempo."""
    port = RecordingPort()
    timed = _leaning()
    with Player(port=port, bpm=300, clock_out=True, bars=2, record_timing=True) as player:
        player.set_pattern(timed)
        player.start()
        wait_until(lambda: (player.playhead() or (0, 0)) >= (0, 1))
        player.set_tempo(150)
        wait_until(player.ended)
        timing = player.timing()
    expected = _positions(sch.Sequencer(pattern=timed), 2)
    assert [m[0] for _, m in expected] == list(timing[:, 2])
    pulses = {round(pos * 6): int(t) for (pos, m), t in zip(expected, timing[:, 0]) if m == (sch.CLOCK,)}
    slow = sch.step_ns(150) / 6
    checked = []
    for (pos, m), t in zip(expected, timing[:, 0]):
        k = int(pos * 6 + 1e-9)
        if m[0] != sch.NOTE_ON or k + 1 not in pulses:
            continue
        interval = pulses[k + 1] - pulses[k]
        if min(abs(interval - slow), abs(interval - sch.step_ns(300) / 6)) > 2:
            continue                                         # the interval the change fell in
        assert t - pulses[k] == pytest.approx((pos * 6 - k) * interval, abs=3)
        checked.append((pos, abs(interval - slow) <= 2))
    assert (pytest.approx(15.7), True) in [(p, s) for p, s in checked]   # at the new tempo
    assert len(checked) >= len([1 for _, m in expected if m[0] == sch.NOTE_ON]) - 2


def test_swing_timed_swings_a_timed_bar_when_asked():
    off = np.zeros((16, 9), np.float32)
    off[5, 2] = 0.1                                   # an even sixteenth (odd index): swing moves it
    timed = from_text("KK x...............\nCH .....x..........").with_offsets(off)
    for asked in (False, True):
        port = RecordingPort()
        with Player(port=port, bpm=300, swing=66, bars=1, record_timing=True, swing_timed=asked) as player:
            player.set_pattern(timed)
            player.start()
            wait_until(player.ended)
            timing = player.timing()
        want = sch.render(sch.Sequencer(pattern=timed, swing=66, swing_timed=asked), 1)
        assert port.messages()[:-1] == [m for _, m in want]
        rel = (timing[:, 0] - timing[0, 0]) / sch.step_ns(300)
        assert np.abs(rel - np.array([pos for pos, _ in want])).max() < 1e-6
        hat = [pos for pos, m in want if m[0] == sch.NOTE_ON and m[1] == 42]
        assert hat == [pytest.approx(5.1 + (0.32 if asked else 0.0))]
