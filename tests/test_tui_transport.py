"""Pilot tests of the studio, the transport and the live player: ports, clock, play chains, audio output: every action by its key, asserting on the
session, on the files written and on what reached a recording MIDI port."""

from __future__ import annotations

import json

import pytest
from textual.widgets import OptionList, Static
from tui_helpers import (  # noqa: F401
    NOTE_ON,
    as_exported,
    build_app,
    note_ons,
    recording_player,
    settle,
    tiny_vae_engine,
    wait_until,
)

from drumfont.errors import LiveMidiError
from drumfont.score.pattern import CLOSED_HAT, KICK
from drumfont.tui import session as st
from drumfont.tui import tap
from drumfont.tui.app import VIRTUAL_PORT, open_live_player
from drumfont.tui.widgets import ChoiceScreen, StepGrid

# --- transport and the player --------------------------------------------------------------------

async def test_play_sends_the_bar_to_the_port_and_moves_the_playhead(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.player is not None, app.player_reason
        await pilot.press("right_curly_bracket", "right_curly_bracket")  # 140 BPM
        await pilot.press("space")
        assert app.playing
        port = ports[-1]
        kicks = int(app.studio.current.hits[:, KICK].sum())
        assert await wait_until(pilot, lambda: len(note_ons(port, 36)) >= kicks)
        assert await wait_until(pilot, lambda: app.query_one(StepGrid).playhead is not None)
        await pilot.press("space")
        assert not app.playing
        assert app.query_one(StepGrid).playhead is None
        # All Notes Off on channel 10 once stopped
        assert await wait_until(pilot, lambda: (0xB9, 123, 0) in port.messages())


async def test_mute_reaches_the_player(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m", "right_curly_bracket", "right_curly_bracket", "right_curly_bracket")
        await pilot.press("space")
        port = ports[-1]
        hats = int(app.studio.current.hits[:, CLOSED_HAT].sum())
        assert hats > 0
        assert await wait_until(pilot, lambda: len(note_ons(port, 42)) >= hats)
        assert note_ons(port, 36) == []  # the kick stays muted


async def test_transport_keys_and_clock_out(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket", "left_curly_bracket", "full_stop", "full_stop", "comma", "B")
        tr = app.studio.transport
        assert (tr.bpm, tr.swing, tr.bars) == (111.0, 52.0, 2)
        await pilot.press("C", "space")
        assert tr.clock_out
        assert await wait_until(pilot, lambda: 0xF8 in [m[0] for m in ports[-1].messages()])
        assert await wait_until(pilot, lambda: abs(app.player.bpm() - 111.0) < 1e-6)
        text = str(app.query_one("#transport", Static).render())
        assert "111 BPM" in text and "clock out" in text and "▶" in text


async def test_play_morph_and_bank_as_chains(tmp_path, vae):
    factory, ports = recording_player()
    app = build_app(tmp_path, engine=vae, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "2", "s")
        await settle(pilot)
        await pilot.press("b", "M")
        await settle(pilot)
        await pilot.press(*["right_curly_bracket"] * 18)  # 300 BPM
        await pilot.press("P")
        assert app.playing and app._chain_playing
        port = ports[-1]
        first = app.studio.morph[0]
        want = int(first.hits.sum())
        assert await wait_until(pilot, lambda: len(note_ons(port)) >= want)
        assert await wait_until(pilot, lambda: app.player.chain_entry() >= 1)
        await pilot.press("space", "p")  # stop; then the bank as a chain, playing at once
        assert app.playing


async def test_without_midi_play_is_off_with_the_reason_and_export_works(tmp_path):
    def no_midi(transport):
        raise LiveMidiError("no MIDI system could start: test")
    app = build_app(tmp_path, player_factory=no_midi)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.player is None and "no MIDI system" in app.player_reason
        await pilot.press("space")
        assert not app.playing and "play is off" in app._last_error
        assert "play off" in str(app.query_one("#side", Static).render())
        await pilot.press("e", "enter")
        await pilot.pause()
        assert (tmp_path / "drumfont-rock-slot1.mid").exists()


async def test_a_vanished_port_is_a_notification(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        errors = ["port 'X' vanished; retrying"]
        app.player.error = lambda: errors.pop() if errors else None
        await pilot.pause(0.1)
        assert "vanished" in app._last_error
        assert app.is_running


async def test_choose_output_port_and_clock_source(tmp_path, monkeypatch):
    from drumfont.live import ports as live_ports

    monkeypatch.setattr(live_ports, "list_ports", lambda backend=None: {
        "alsa": {"outputs": ["Midi Through:0", "drumfont:0"], "inputs": ["Midi Through:0"]}})
    factory, made = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("O")
        assert isinstance(app.screen, ChoiceScreen)
        options = app.screen.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == \
            [VIRTUAL_PORT, "Midi Through:0"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.studio.transport.port == "Midi Through:0" and len(made) == 2  # reopened
        await pilot.press("F", "down", "enter")
        await pilot.pause()
        assert app.studio.transport.follow == "Midi Through:0"
        await pilot.press("F", "up", "enter")
        await pilot.pause()
        assert app.studio.transport.follow is None


async def test_a_timer_tick_during_shutdown_is_harmless(tmp_path):
    """The playhead and tap timers can fire once more after the app's screens are gone (seen in CI
    as an IndexError on an empty screen stack); a late tick must do nothing."""
    factory, made = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)
        app.tap_take = tap.TapTake(app.studio.transport.bpm, app.clock())
    assert not app.screen_stack
    app.poll_player()
    app._tap_tick()


# --- audio output ----------------------------------------------------------------------------

def kit_less_player(monkeypatch):
    """A factory whose MIDI goes to a recording port and whose audio output cannot open (no such
    device; PortAudio in this process kept off any JACK server), and the outputs it was asked for."""
    from drumfont.live import RecordingPort

    monkeypatch.setenv("JACK_DEFAULT_SERVER", "drumfont-no-such-server")
    asked, ports = [], []

    def factory(transport):
        asked.append(transport.output)
        ports.append(RecordingPort())
        return open_live_player(transport, port=ports[-1], audio_device="no-such-device")
    return factory, asked, ports


async def test_output_key_cycles_and_says_why_audio_is_off(tmp_path, monkeypatch):
    pytest.importorskip("sounddevice", reason="sounddevice/PortAudio is not installed")
    factory, asked, ports = kit_less_player(monkeypatch)
    app = build_app(tmp_path, player_factory=factory, audio=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        side = lambda: str(app.query_one("#side", Static).render())  # noqa: E731
        assert app.player is not None and "no audio output matches" in app.player.off["audio"]
        assert "audio off: no audio output matches" in side()
        await pilot.press("space")               # MIDI plays on beside the missing audio
        assert await wait_until(pilot, lambda: len(note_ons(ports[-1])) > 0)
        await pilot.press("space", "A")          # audio only: nothing can play
        await settle(pilot)
        assert app.studio.transport.output == "audio" and app.player is None
        assert "audio off: no audio output" in side() and "out: audio" in side()
        await pilot.press("space")
        assert not app.playing and "play is off" in app._last_error
        await pilot.press("A")                   # MIDI only
        await settle(pilot)
        assert app.player is not None and "audio off" not in side()
        await pilot.press("v")
        assert "audition needs the built-in kit" in app._last_error
        await pilot.press("A")                   # none
        await settle(pilot)
        assert app.player is None and "output is none" in side()
        await pilot.press("A")
        await settle(pilot)
    assert asked == ["both", "audio", "midi", "both"]
    assert json.loads((tmp_path / "data" / st.SESSION_FILE).read_text())["transport"]["output"] == "both"


async def test_no_audio_switch_leaves_midi_alone(tmp_path, monkeypatch):
    factory, asked, _ = kit_less_player(monkeypatch)
    app = build_app(tmp_path, player_factory=factory, audio=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.player is not None and app.player.audio_name == "" and app.player.off == {}
    assert asked == ["midi"]


def test_side_panel_reasons_split_at_clauses_not_inside_parentheses():
    from drumfont.tui.app import _clauses

    joined = "MIDI off: no port; audio off: no output matches (outputs: none; a JACK server is needed)"
    assert _clauses(joined) == ["MIDI off: no port",
                                "audio off: no output matches (outputs: none; a JACK server is needed)"]
    # a second backend's reason belongs to the MIDI clause, not a line of its own ("play off: jack")
    joined = "MIDI off: no MIDI system could start: alsa: no sequencer; jack: no server; audio off: none"
    assert _clauses(joined) == ["MIDI off: no MIDI system could start: alsa: no sequencer; jack: no server",
                                "audio off: none"]
    assert _clauses("MIDI is off (--no-midi); audio is off (--no-audio)") == [
        "MIDI is off (--no-midi)", "audio is off (--no-audio)"]


def test_the_midi_advice_names_an_option_every_live_command_takes(monkeypatch):
    # issue 21.3: with no MIDI system, space in the studio said "... choose it with --backend", and
    # `drumfont tui --backend jack` was refused as an unrecognized argument
    import argparse

    from drumfont.cli import build_parser, main
    from drumfont.live import ports

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for cmd in ("play", "ports", "tui"):
        opt = next(a for a in sub.choices[cmd]._actions if a.dest == "backend")
        assert tuple(opt.choices) == tuple(ports.BACKENDS), cmd
    made = {}

    class Ran:
        def run(self):
            made["ran"] = True

    import drumfont.tui.app as tui_app

    monkeypatch.setattr(tui_app, "make_app", lambda *a, **kw: made.update(kw) or Ran())
    assert main(["tui", "--backend", "jack", "--no-audio"]) == 0
    assert made["midi_backend"] == "jack" and made["ran"]


def test_the_studio_opens_its_port_and_lists_ports_on_the_chosen_backend(tmp_path, monkeypatch):
    from drumfont.tui import live

    seen = {}

    class FakePlayer:
        def __init__(self, port, **kw):
            seen["port"] = port

        def open(self):
            return self
    monkeypatch.setattr(live, "Player", FakePlayer)
    transport = st.Transport()
    live.open_live_player(transport, backend="jack")
    assert seen["port"].backend == "jack" and seen["port"].virtual == "drumfont"
    app = build_app(tmp_path, midi_backend="alsa")
    asked = []
    monkeypatch.setattr("drumfont.live.ports.list_ports", lambda backend=None: asked.append(backend) or {})
    app._port_names("outputs")
    assert asked == ["alsa"]


# what a machine with no MIDI system and no sound card says (issue 21.10, taken from this sandbox)
NO_SYSTEM = ("MIDI off: no MIDI system could start: alsa: no ALSA sequencer (is snd-seq loaded? `sudo modprobe "
             "snd-seq`) (MidiOutAlsa::initialize: error creating ALSA sequencer client object.); jack: no JACK "
             "server running (start one, e.g. `jackd -d dummy` or via qjackctl/pipewire-jack) "
             "(MidiOutJack::initialize: JACK server not running?). Start one, or choose it with --backend; "
             "audio off: no audio output matches the default output (outputs: none; a JACK server or a sound "
             "card is needed)")


async def test_at_80x24_the_header_panel_and_pop_up_say_why_play_is_off_whole(tmp_path):
    from textual.widgets._toast import Toast, ToastRack

    def nothing(transport):
        raise LiveMidiError(NO_SYSTEM)
    app = build_app(tmp_path, player_factory=nothing, audio=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        header = str(app.query_one("#transport", Static).render())
        assert "MIDI off" in header and VIRTUAL_PORT not in header       # was "→ drumfont (virtual)"
        side = app.query_one("#side", Static)
        text = str(side.render())
        assert "MIDI off: no MIDI system could start (alsa, jack)" in " ".join(text.split())
        assert "audio off: no audio output matches the default output" in " ".join(text.split())
        assert "…" not in text                                             # no reason cut in a word
        await pilot.press("space")
        await pilot.pause()
        await pilot.pause()
        rack = app.screen.get_child_by_type(ToastRack)
        toast = rack.query_one(Toast)
        said = app._last_error
        assert "sudo modprobe snd-seq" in said and "--backend" in said and "a sound card" in said
        assert "::" not in said                                            # the MIDI library's own text
        # the whole pop-up is on the screen, none of it scrolled away or under the footer
        assert rack.max_scroll_y == 0 and toast.region.y >= 1 and toast.region.bottom <= 24 - 1
        assert toast.region.height >= said.count("\n") + 1 + 2         # every line shown, with its padding


async def test_the_header_names_the_port_once_midi_is_open(tmp_path):
    factory, _ = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.player is not None)
        app.refresh_all(save=False)
        assert VIRTUAL_PORT in str(app.query_one("#transport", Static).render())
    app = build_app(tmp_path / "no", midi=False)
    async with app.run_test(size=(80, 24)) as pilot:                          # --no-midi
        await settle(pilot)
        assert "MIDI off" in str(app.query_one("#transport", Static).render())


# --- Ableton Link ---------------------------------------------------------------------------------

async def test_link_key_joins_the_session_and_plays_with_it(tmp_path):
    pytest.importorskip("aalink", reason="Ableton Link needs aalink: pip install 'drumfont[link]'")
    import time

    import link_helpers as lh

    peer = lh.Peer(100)
    time.sleep(1.0)                      # the session's first peer (see test_live_link)
    peer.assert_alone()
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            tr = app.studio.transport
            await pilot.press("K")
            assert tr.link
            side = lambda: str(app.query_one("#side", Static).render())  # noqa: E731
            assert await wait_until(pilot, lambda: "link: 1 peer" in side(), 10), side()
            assert await wait_until(pilot, lambda: tr.bpm == 100.0), tr.bpm    # the session's tempo
            assert "· link" in str(app.query_one("#transport", Static).render())
            await pilot.press("space")                                          # starts the session
            assert await wait_until(pilot, lambda: peer.link.playing, 5)
            assert await wait_until(pilot, lambda: len(note_ons(ports[-1])) > 0, 10)
            await pilot.press("right_square_bracket")                           # tempo out: 101
            assert await wait_until(pilot, lambda: abs(peer.link.tempo - 101.0) < 0.01, 5)
            peer.link.playing = False                                           # the DAW stops
            assert await wait_until(pilot, lambda: not app.playing, 5)
            assert await wait_until(pilot, lambda: ports[-1].messages()[-1] == (0xB9, 123, 0), 5)
            peer.link.playing = True                                            # ...and starts
            assert await wait_until(pilot, lambda: app.playing, 5)
            await pilot.press("K")                                              # leave
            assert not tr.link and await wait_until(pilot, lambda: app.player.link_state() is None, 5)
            assert "link:" not in side()
            await pilot.press("space")
        saved = json.loads((tmp_path / "data" / st.SESSION_FILE).read_text())
        assert saved["transport"]["link"] is False
    finally:
        peer.close()


async def test_link_key_without_aalink_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "aalink", None)          # as where the extra is not installed
    factory, _ = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("K")
        assert not app.studio.transport.link
        assert "pip install 'drumfont[link]'" in app._last_error
