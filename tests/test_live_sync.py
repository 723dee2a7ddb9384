"""Follow mode's pure logic: tempo from pulses, Start/Stop/Continue, Song Position Pointer."""

from __future__ import annotations

import pytest

from drumfont.live import schedule as sch
from drumfont.live.sync import ClockFollower

DEFAULT = sch.step_ns(120)


def feed_pulses(f: ClockFollower, bpm: float, n: int, t0: int = 0) -> tuple[list, int]:
    gap = round(60e9 / bpm / 24)
    acts = [f.feed(t0 + k * gap, (sch.CLOCK,), DEFAULT) for k in range(n)]
    return acts, t0 + n * gap


def test_start_without_spp_plays_from_bar_one_and_measures_tempo():
    f = ClockFollower()
    f.feed(0, (sch.SONG_POSITION, 5, 0), DEFAULT)     # an SPP before an old Continue...
    f.feed(1, (sch.STOP,), DEFAULT)
    act = f.feed(2, (sch.START,), DEFAULT)            # ...does not matter to Start
    assert act.kind == "start" and act.step == 0
    acts, _ = feed_pulses(f, 150, 30, t0=10)
    assert [a.pos for a in acts[:7]] == pytest.approx([k / 6 for k in range(7)])
    assert f.bpm(120) == pytest.approx(150, rel=1e-6)
    assert acts[-1].step_ns == pytest.approx(sch.step_ns(150), rel=1e-6)


def test_pulses_before_start_only_measure():
    f = ClockFollower()
    acts, _ = feed_pulses(f, 90, 10)
    assert acts == [None] * 10
    assert f.bpm(120) == pytest.approx(90, rel=1e-6)
    assert f.limit() == 0  # nothing may play before the first pulse after Start


def test_stop_then_continue_resumes_after_the_last_step_reached():
    f = ClockFollower()
    f.feed(0, (sch.START,), DEFAULT)
    _, t = feed_pulses(f, 120, 13, t0=1)     # pulses 0..12: steps 0, 1 and 2 begun
    stop = f.feed(t, (sch.STOP,), DEFAULT)
    assert stop.kind == "stop" and stop.step == 3
    cont = f.feed(t + 1, (sch.CONTINUE,), DEFAULT)
    assert cont.kind == "start" and cont.step == 3
    assert f.limit() == 3


def test_continue_after_song_position_pointer():
    f = ClockFollower()
    f.feed(0, sch.song_position_bytes(64), DEFAULT)   # bar 5
    act = f.feed(1, (sch.CONTINUE,), DEFAULT)
    assert act.step == 64
    first = f.feed(2, (sch.CLOCK,), DEFAULT)
    assert first.pos == 64


def test_a_long_gap_is_a_pause_not_a_tempo():
    f = ClockFollower()
    feed_pulses(f, 120, 24)
    f.feed(10**10, (sch.CLOCK,), DEFAULT)              # ten seconds later
    assert f.bpm(100) == pytest.approx(120, rel=1e-6)


def test_tempo_is_clamped_to_the_players_range():
    f = ClockFollower()
    feed_pulses(f, 1000, 30)
    assert f.bpm(120) == pytest.approx(300)
