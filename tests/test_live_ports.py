"""Port naming, backend choice and the missing-rtmidi path (no MIDI system needed)."""

from __future__ import annotations

import sys

import pytest

from drumfont.errors import DrumfontError, LiveMidiError
from drumfont.live import ports
from drumfont.live.ports import RecordingPort, match_port

NAMES = ["Midi Through:Midi Through Port-0 14:0", "Ableton Live:in 1", "Ableton Live:in 2",
         "drumfont:drumfont"]


def test_match_port_substring_case_insensitive():
    assert match_port(NAMES, "midi through") == 0
    assert match_port(NAMES, "IN 2") == 2


def test_exact_name_wins_over_substring():
    assert match_port(["drum", "drumfont"], "drum") == 0


def test_ambiguous_and_missing_ports_list_the_choices():
    with pytest.raises(LiveMidiError, match="ambiguous.*in 1.*in 2"):
        match_port(NAMES, "ableton")
    with pytest.raises(LiveMidiError, match="no MIDI output matches 'loopmidi'.*Midi Through"):
        match_port(NAMES, "loopmidi")
    assert issubclass(LiveMidiError, DrumfontError)


def test_backend_from_mido_env(monkeypatch):
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi/UNIX_JACK")
    assert ports.backend_from_env() == "jack"
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi/LINUX_ALSA")
    assert ports.backend_from_env() == "alsa"
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi")
    assert ports.backend_from_env() is None
    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi/NOPE")
    with pytest.raises(LiveMidiError, match="unknown API"):
        ports.backend_from_env()


def test_unknown_backend_is_one_clear_error():
    pytest.importorskip("rtmidi")
    with pytest.raises(LiveMidiError, match="unknown MIDI backend"):
        ports.pick_backend("beos")


def test_without_rtmidi_live_midi_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "rtmidi", None)   # import rtmidi -> ImportError
    with pytest.raises(LiveMidiError, match="python-rtmidi is not installed"):
        ports.open_output(ports.PortSpec())
    with pytest.raises(LiveMidiError, match="python-rtmidi is not installed"):
        ports.list_ports()


def test_without_rtmidi_the_recording_player_still_works(monkeypatch):
    monkeypatch.setitem(sys.modules, "rtmidi", None)
    from drumfont.live import Player

    port = RecordingPort()
    with Player(port=port, bpm=300, bars=1) as player:
        player.start()
    assert port.messages()[-1] == (0xB9, 123, 0)


def test_recording_port_takes_bytes_and_mido_messages():
    mido = pytest.importorskip("mido")
    port = RecordingPort()
    port.send([0x99, 36, 100])
    port.send(mido.Message("note_off", channel=9, note=36, velocity=0))
    assert port.messages() == [(0x99, 36, 100), (0x89, 36, 0)]
    port.clear()
    assert port.events() == []
