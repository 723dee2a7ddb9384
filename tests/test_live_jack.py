"""End to end against a real JACK server (dummy driver): drumfont's virtual output -> a JACK MIDI
monitor. Asserts what arrives (notes, velocities, channel, pairing, order, count, clock,
transport), never when: timing belongs to benchmarks/bench_player.py."""

from __future__ import annotations

import difflib
import subprocess
import threading
import time
import uuid

import pytest

from drumfont.live import Player, PortSpec
from drumfont.live import schedule as sch
from drumfont.score.pattern import from_text

GROOVE = from_text("""
KK X.......x.x.....
SN ....X..o....X...
CH x.x.x.x.x.x.x...
OH ...............x
""")
FILL = from_text("KK x.x.x.x.x.x.x.x.\nCR X...............\nT1 ........x.x.x.x.")

pytestmark = pytest.mark.usefixtures("jack_server")


def _spec() -> PortSpec:
    tag = uuid.uuid4().hex[:6]
    return PortSpec(virtual=f"out{tag}", backend="jack", client_name=f"df{tag}")


def _jack_name(spec: PortSpec) -> str:
    return f"{spec.client_name}:{spec.virtual}"


def _wait_until(cond, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for the player")
        time.sleep(0.02)


def _notes(msgs):
    return [m for m in msgs if m[0] & 0xF0 in (0x80, 0x90)]


def _assert_paired(msgs) -> None:
    """Every note-on ends with a note-off (or All Notes Off) before the stream ends, and no
    note-on follows All Notes Off / Stop at the end."""
    sounding: set[int] = set()
    for m in msgs:
        if m[0] == 0x99:
            assert m[2] >= 1
            sounding.add(m[1])
        elif m[0] == 0x89:
            sounding.discard(m[1])
        elif m == sch.ALL_NOTES_OFF:
            sounding.clear()
    assert not sounding, f"notes left sounding: {sorted(sounding)}"


def test_notes_arrive_in_order_with_their_offs(jack_monitor):
    spec = _spec()
    bars = 3
    with Player(port=spec, bpm=300, swing=58, gate=0.6, bars=bars) as player:
        mon = jack_monitor(_jack_name(spec))
        player.set_chain([(GROOVE, 2), (FILL, 1)], loop=False)
        player.start()
        _wait_until(player.ended)
    got = [m for _, m in mon.stop(until=sch.ALL_NOTES_OFF)]
    seq = sch.Sequencer(swing=58, gate=0.6)
    seq.set_chain([(GROOVE, 2), (FILL, 1)], loop=False)
    expected = [m for _, m in sch.render(seq, bars)]
    assert expected, "the reference render is empty"
    assert _notes(got) == expected
    assert all(m[0] in (0x99, 0x89) for m in _notes(got))       # channel 10 only
    ons = [m for m in got if m[0] == 0x99]
    hits = 2 * int(GROOVE.hits.sum()) + int(FILL.hits.sum())
    assert len(ons) == hits
    assert sorted(m[2] for m in ons) == sorted(
        [int(v) for v in GROOVE.velocities[GROOVE.hits]] * 2 + [int(v) for v in FILL.velocities[FILL.hits]])
    assert got[-1] == sch.ALL_NOTES_OFF
    _assert_paired(got)


def test_clock_out_start_stop_and_24_ppq(jack_monitor):
    spec = _spec()
    bars = 2
    with Player(port=spec, bpm=300, clock_out=True, bars=bars) as player:
        mon = jack_monitor(_jack_name(spec))
        player.set_pattern(GROOVE)
        player.start()
        _wait_until(player.ended)
    got = [m for _, m in mon.stop(until=(sch.STOP,))]
    assert got[0] == (sch.START,)
    assert got[-1] == (sch.STOP,)
    clocks = [m for m in got if m == (sch.CLOCK,)]
    assert len(clocks) == 24 * 4 * bars
    # the first pulse comes before the downbeat's notes; no note after Stop
    assert got.index((sch.CLOCK,)) < got.index(next(m for m in got if m[0] == 0x99))
    _assert_paired(got)


def test_stop_mid_bar_leaves_no_sounding_note(jack_monitor):
    spec = _spec()
    with Player(port=spec, bpm=200, gate=1.0, clock_out=True) as player:
        mon = jack_monitor(_jack_name(spec))
        player.set_pattern(GROOVE)
        player.start()
        _wait_until(lambda: (player.playhead() or (0, 0)) >= (0, 9))
        player.stop()
        _wait_until(lambda: any(n[0] == "stopped" for n in player.notices()))
        assert player.playhead() is None
    got = [m for _, m in mon.stop(until=(sch.STOP,))]
    stop_at = got.index((sch.STOP,))
    assert sch.ALL_NOTES_OFF in got[:stop_at]
    assert not any(m[0] == 0x99 for m in got[stop_at:])
    _assert_paired(got)


def test_follow_locks_to_an_incoming_clock(jack_monitor, jack_server):
    import rtmidi

    tag = uuid.uuid4().hex[:6]
    leader = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"lead{tag}")
    leader.open_virtual_port("clock")
    spec = _spec()
    bpm, beats = 150.0, 8           # two bars of clock at a known tempo
    try:
        with Player(port=spec, bpm=90) as player:
            mon = jack_monitor(_jack_name(spec))
            player.set_pattern(GROOVE)
            player.follow(f"lead{tag}:clock")
            _wait_until(player.waiting_for_clock, 10)
            interval = 60.0 / bpm / 24

            def send_clock() -> None:
                leader.send_message([sch.START])    # Start without SPP: from bar 1
                t0 = time.perf_counter()
                for k in range(24 * beats):
                    while time.perf_counter() < t0 + k * interval:
                        time.sleep(0.0005)
                    leader.send_message([sch.CLOCK])
                time.sleep(interval)
                leader.send_message([sch.STOP])

            sender = threading.Thread(target=send_clock)
            sender.start()
            sender.join()
            _wait_until(lambda: player.waiting_for_clock() and player.playhead() is None, 5)
            measured = player.bpm()
        got = [m for _, m in mon.stop()]
    finally:
        leader.close_port()
        leader.delete()
    # the leader's pulses cover steps 0..31 (192 pulses = 32 sixteenths): bars 1 and 2 in full
    seq = sch.Sequencer()
    seq.set_pattern(GROOVE)
    full = [m for _, m in sch.render(seq, 2)]
    ons = [m for m in got if m[0] == 0x99]
    assert ons == [m for m in full if m[0] == 0x99]
    assert sch.ALL_NOTES_OFF in got
    _assert_paired(got)
    # The test server's 21 ms period bunches the pulses it delivers, so the tempo read over one
    # beat can be off by a few per cent; a wrong pulse count per beat would be off by 2x or more.
    assert abs(measured - bpm) / bpm < 0.2, f"followed tempo {measured:.1f} BPM, leader {bpm}"


def test_a_missing_port_is_one_clear_error():
    from drumfont.errors import LiveMidiError

    with pytest.raises(LiveMidiError, match="no MIDI output matches 'no-such-synth'"):
        Player(port=PortSpec(name="no-such-synth", backend="jack")).open()


def _jack_lsp(env: dict) -> str:
    return subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=10).stdout


def test_vanished_port_is_reported_and_reopened(jack_monitor, jack_server):
    name = f"synth{uuid.uuid4().hex[:6]}"
    first = jack_monitor(None, name)
    with Player(port=PortSpec(name=f"{name}:input", backend="jack"), bpm=300) as player:
        assert player.port_name == f"{name}:input"
        player.set_pattern(GROOVE)
        player.start()
        _wait_until(lambda: player.playhead() is not None)
        first.stop(settle=0)                                  # the synth quits mid-play
        errors: list[str] = []

        def reported() -> bool:
            err = player.error()
            if err:
                errors.append(err)
            return bool(errors)

        _wait_until(reported, 10)
        assert "vanished" in errors[0]
        # JACK drops the old client in its own time; a new one with its name before that
        # would be renamed, so wait until the name is free
        _wait_until(lambda: f"{name}:input" not in _jack_lsp(jack_server), 10)
        time.sleep(1.2)                                       # so that one reopening attempt fails
        second = jack_monitor(None, name)                     # ...and comes back
        _wait_until(lambda: any(n[0] == "ok" and "back" in n[1] for n in player.notices()), 10)
        assert player.alive() and player.playhead() is not None
        player.stop()
    got = [m for _, m in second.stop()]
    assert sch.ALL_NOTES_OFF in got                           # sent on reopening, and at stop


def test_cli_ports_and_play(jack_monitor, capsys, tmp_path):
    from drumfont.cli import main

    pattern = tmp_path / "beat.txt"
    pattern.write_text("KK x.......x....... @ -0.2 +0.1\nSN ....x.......x...\n")
    import rtmidi

    tag = uuid.uuid4().hex[:6]
    leader = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"cli{tag}")
    leader.open_virtual_port("visible")
    try:
        assert main(["ports", "--backend", "jack"]) == 0
        assert f"cli{tag}:visible" in capsys.readouterr().out
    finally:
        leader.delete()
    assert main(["play", "--pattern", str(pattern), "--backend", "jack", "--virtual", f"v{tag}",
                 "--bars", "2", "--bpm", "300", "--swing", "60", "--swing-timed"]) == 0
    out = capsys.readouterr().out
    assert "bar 1" in out and "stopped after 2 bars" in out
    assert main(["play", "--pattern", str(pattern), "--backend", "jack", "--port", "nope-nope"]) == 2
    assert "no MIDI output matches 'nope-nope'" in capsys.readouterr().err


def _leaning():
    import numpy as np

    from drumfont.score.pattern import CLOSED_HAT, KICK, SNARE

    p = from_text("KK x.......x.......\nSN ....x.......x...\nCH ..x...x.........")
    off = np.zeros((16, 9), np.float32)
    off[0, KICK], off[8, KICK], off[4, SNARE], off[12, SNARE] = -0.45, 0.2, 0.4, -0.25
    off[2, CLOSED_HAT], off[6, CLOSED_HAT] = -0.4, 0.3
    return p.with_offsets(off)


def test_timed_hits_arrive_off_the_grid_with_the_clock_on_it(jack_monitor):
    """A bar with an early downbeat and hits off the grid, clock out on, two bars at 80 BPM.
    Order (exact, whatever the load): the stream holds the schedule's messages in its order, so
    bar 2's early kick arrives among bar 1's last pulses and every pulse and bar line is where
    the grid puts it. Time (JACK frames): rtmidi writes each message at the start of the next
    period, so an arrival is late by up to one period (21 ms); on a loaded machine a stalled
    cycle delays a few more. So the medians are held to one period -- pulses against the grid,
    notes against step + offset -- while the offsets (37-84 ms at this tempo) are far more: a
    player that ignored them would miss by their median, ~60 ms."""
    import numpy as np

    spec = _spec()
    bpm, bars, rate, period = 80.0, 2, 48000, 1024
    timed = _leaning()
    with Player(port=spec, bpm=bpm, clock_out=True, bars=bars) as player:
        mon = jack_monitor(_jack_name(spec))
        player.set_pattern(timed)
        player.start()
        _wait_until(player.ended)
    got = mon.stop(until=(sch.STOP,))                     # the last period, even on a loaded box
    expected = [(0.0, (sch.START,))] + sch.render(sch.Sequencer(pattern=timed), bars, clock_out=True)
    want = [m for _, m in expected] + [sch.ALL_NOTES_OFF, (sch.STOP,)]
    assert [m for _, m in got] == want, "\n".join(difflib.unified_diff(
        [str(m) for m in want], [str(m) for _, m in got], "schedule", "recorded", lineterm="", n=1))
    pulses = [i for i, (_, m) in enumerate(expected) if m == (sch.CLOCK,)]
    notes = [i for i, (_, m) in enumerate(expected) if m[0] == sch.NOTE_ON]
    assert len(pulses) == 24 * 4 * bars
    kick2 = [i for i in notes if expected[i][1][1] == 36][2]
    assert pulses[93] < kick2 < pulses[94]            # bar 2's kick at 15.55, in bar 1's time

    step_s = 60.0 / bpm / 4
    arrived = np.array([frame for frame, _ in got[:len(expected)]]) / rate
    timed_s = np.array([pos for pos, _ in expected]) * step_s
    latency = np.median(arrived[pulses] - timed_s[pulses])     # JACK's constant delay
    err = arrived - timed_s - latency
    pulse_err = float(np.median(np.abs(err[pulses])))
    note_err = float(np.median(np.abs(err[notes])))
    grid_s = np.round(timed_s[notes] / step_s) * step_s        # the note's own sixteenth
    grid_err = float(np.median(np.abs(arrived[notes] - latency - grid_s)))
    tol = period / rate
    assert pulse_err <= tol, f"clock pulses off the grid by a median {pulse_err * 1e3:.1f} ms"
    assert note_err <= tol, f"notes off step + offset by a median {note_err * 1e3:.1f} ms"
    assert grid_err > 2 * tol, f"notes only {grid_err * 1e3:.1f} ms off the grid: offsets not played?"
