"""Every way `drumfont play` stops sends the note-offs of every note still sounding, then All Notes
Off: the end of --bars, Ctrl-C (SIGINT to the terminal's process group), SIGTERM (to the command,
or to its whole group as a service manager does), a Stop from the DAW whose clock it follows,
and a stop of the Ableton Link session. A receiver that honours note-offs but not All Notes Off
(many hardware synths, some DAW instruments) would otherwise hang a note.

The groove strikes a hi-hat on every sixteenth with gate 1.0, so a note sounds at every instant
and each stop lands on one. Against the test JACK server (dummy driver), recorded by
jack_midi_dump; content and order only, no timing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from drumfont.live import schedule as sch

ROOT = Path(__file__).resolve().parents[1]
GROOVE = "KK x.......x.......\nSN ....x.......x...\nCH xxxxxxxxxxxxxxxx\n"

pytestmark = pytest.mark.usefixtures("jack_server")


def released_before_all_notes_off(msgs: list[tuple[int, ...]]) -> None:
    """At each All Notes Off nothing sounds any more (each note-on had its own note-off first),
    the stream ends silent, and the last stop did end a note (it came mid-note)."""
    sounding: set[int] = set()
    anos = 0
    for i, m in enumerate(msgs):
        if m[0] == sch.NOTE_ON and m[2] > 0:
            sounding.add(m[1])
        elif m[0] == sch.NOTE_OFF or (m[0] == sch.NOTE_ON and m[2] == 0):
            sounding.discard(m[1])
        elif m == sch.ALL_NOTES_OFF:
            assert not sounding, f"All Notes Off at message {i} came before the note-offs of {sorted(sounding)}"
            anos += 1
    assert anos, "no All Notes Off"
    assert not sounding, f"left sounding: {sorted(sounding)}"
    last = max(i for i, m in enumerate(msgs) if m == sch.ALL_NOTES_OFF)
    assert msgs[last - 1][0] == sch.NOTE_OFF, "nothing was sounding when it stopped: the test proves nothing"


def _play(jack_server, tmp_path, receiver: str, *args: str) -> subprocess.Popen:
    pattern = tmp_path / "groove.txt"
    pattern.write_text(GROOVE)
    env = {**jack_server, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "drumfont", "play", "--pattern", str(pattern), "--backend",
                             "jack", "--port", receiver, "--gate", "1.0", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_bar(proc: subprocess.Popen, bar: int, timeout: float = 30.0) -> list[str]:
    """Read the command's output (not a tty: one 'bar N' line per bar) until bar `bar` plays."""
    lines: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.strip() == f"bar {bar}":
            return lines
    proc.kill()
    raise AssertionError(f"bar {bar} never came: {lines} {proc.stderr.read()}")


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=20)
    assert not err.strip(), err
    return proc.returncode, out


def test_the_end_of_bars(jack_monitor, jack_server, tmp_path):
    name = f"rec{uuid.uuid4().hex[:6]}"
    mon = jack_monitor(None, name)
    proc = _play(jack_server, tmp_path, f"{name}:input", "--bars", "2", "--bpm", "300")
    code, out = _finish(proc)
    assert code == 0 and "stopped after 2 bars; all notes off" in out
    msgs = [m for _, m in mon.stop(until=sch.ALL_NOTES_OFF)]
    assert msgs[-1] == sch.ALL_NOTES_OFF
    released_before_all_notes_off(msgs)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "sigterm-group"])
def test_a_signal(how, jack_monitor, jack_server, tmp_path):
    name = f"rec{uuid.uuid4().hex[:6]}"
    mon = jack_monitor(None, name)
    proc = _play(jack_server, tmp_path, f"{name}:input", "--bpm", "200")
    _wait_for_bar(proc, 2)
    time.sleep(0.2)                                    # mid-bar
    if how == "ctrl-c":                                # the terminal signals the foreground group
        os.killpg(proc.pid, signal.SIGINT)
    elif how == "sigterm":                             # kill PID, timeout(1)
        proc.send_signal(signal.SIGTERM)
    else:                                              # a service manager: the whole group
        os.killpg(proc.pid, signal.SIGTERM)
    code, out = _finish(proc)
    assert code == 0, out
    assert "all notes off" in out
    msgs = [m for _, m in mon.stop(until=sch.ALL_NOTES_OFF)]
    assert sum(m[0] == sch.NOTE_ON for m in msgs) > 16   # it did play more than a bar
    released_before_all_notes_off(msgs)


def test_a_stop_from_the_daw_it_follows(jack_monitor, jack_server, tmp_path):
    import rtmidi

    tag = uuid.uuid4().hex[:6]
    leader = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"daw{tag}")
    leader.open_virtual_port("clock")
    name = f"rec{tag}"
    mon = jack_monitor(None, name)
    proc = _play(jack_server, tmp_path, f"{name}:input", "--follow", f"daw{tag}:clock")
    try:
        assert "waiting for MIDI clock" in proc.stdout.readline() + proc.stdout.readline()
        time.sleep(1.0)                                # the follower has opened its input
        interval = 60.0 / 150 / 24
        leader.send_message([sch.START])
        t0 = time.perf_counter()
        for k in range(24 * 6 + 10):                   # one bar and a half, and a bit: mid-bar
            while time.perf_counter() < t0 + k * interval:
                time.sleep(0.0005)
            leader.send_message([sch.CLOCK])
        leader.send_message([sch.STOP])
        msgs = [m for _, m in mon.stop(until=sch.ALL_NOTES_OFF)]
        os.killpg(proc.pid, signal.SIGINT)
        code, out = _finish(proc)
    finally:
        leader.close_port()
        leader.delete()
    assert code == 0 and "bar 2" in out
    assert sum(m[0] == sch.NOTE_ON for m in msgs) > 16
    released_before_all_notes_off(msgs)


def test_a_stop_of_the_link_session(jack_monitor, jack_server, tmp_path):
    pytest.importorskip("aalink", reason="Ableton Link needs aalink: pip install 'drumfont[link]'")
    import link_helpers as lh

    peer = lh.Peer(150)
    time.sleep(1.0)                                    # the session's first peer (see test_live_link)
    peer.assert_alone()
    name = f"rec{uuid.uuid4().hex[:6]}"
    mon = jack_monitor(None, name)
    proc = _play(jack_server, tmp_path, f"{name}:input", "--link")
    try:
        before = "\n".join(_wait_for_bar(proc, 2))
        assert peer.link.playing, "play --link did not start the session"
        time.sleep(0.3)
        peer.link.playing = False                      # the DAW stops the session, mid-bar
        msgs = [m for _, m in mon.stop(until=sch.ALL_NOTES_OFF)]
        os.killpg(proc.pid, signal.SIGINT)
        code, out = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        peer.close()
    assert code == 0 and "with 1 Link peer at 150 BPM" in before, before
    assert sum(m[0] == sch.NOTE_ON for m in msgs) > 16
    released_before_all_notes_off(msgs)
