"""Pilot tests of the studio: every action by its key, asserting on the session, on the files
written and on what reached a recording MIDI port."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from textual.widgets import Input, OptionList, Static
from tui_helpers import as_exported, build_app, settle, tiny_vae_engine, wait_until

from drumfont.drums import engine as eng
from drumfont.errors import LiveMidiError
from drumfont.score.midifile import read_patterns
from drumfont.score.pattern import CLOSED_HAT, KICK, LABELS, SNARE
from drumfont.tui import session as st
from drumfont.tui import tap
from drumfont.tui.app import KEYS, VIRTUAL_PORT, open_live_player
from drumfont.tui.keys import GRID_LEGEND
from drumfont.tui.widgets import ChoiceScreen, ConfirmScreen, HalfBlockImage, HelpScreen, PathPrompt, StepGrid

NOTE_ON = 0x99


@pytest.fixture(scope="module")
def vae():
    pytest.importorskip("torch")
    return tiny_vae_engine()


def recording_player():
    """A player factory whose port records what it is sent, and the list of its ports."""
    from drumfont.live import RecordingPort

    made = []

    def factory(transport):
        port = RecordingPort()
        made.append(port)
        return open_live_player(transport, port=port)
    return factory, made


def note_ons(port, note=None):
    return [m for m in port.messages() if m[0] == NOTE_ON and m[2] > 0 and (note is None or m[1] == note)]


# --- start, sample, edit ---------------------------------------------------------------------

async def test_first_start_shows_a_bar_and_autosaves(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        grid = app.query_one(StepGrid)
        assert grid.pattern == app.studio.current and grid.pattern.hits.sum() >= 3
        saved = json.loads((tmp_path / "data" / st.SESSION_FILE).read_text())
        assert saved["bank"][0] is not None
        assert "ready" in str(app.query_one("#status", Static).render())


async def test_sample_draws_the_seeded_bar_of_the_genre(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seed = app.studio.seed
        await pilot.press("g", "s")  # jazz
        await settle(pilot)
        assert app.studio.genre == "jazz"
        assert app.studio.current == eng.RulesEngine().sample("jazz", 1.0, seed)
        assert app.query_one(StepGrid).pattern == app.studio.current
        assert app.last_latency_ms is not None and app.last_latency_ms > 0


async def test_cursor_toggle_velocity_clear(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c", "j", "c", "k")       # clear kick and snare; back on kick
        assert not app.studio.current.velocities[:, KICK].any()
        assert not app.studio.current.velocities[:, SNARE].any()
        await pilot.press("l", "right", "h", "x")    # step 2 (index 1), kick
        assert app.studio.cursor == (1, KICK)
        assert app.studio.current.velocities[1, KICK] == st.DEFAULT_VELOCITY
        await pilot.press("plus", "plus")
        assert app.studio.current.velocities[1, KICK] == st.DEFAULT_VELOCITY + 2 * st.VELOCITY_STEP
        await pilot.press("minus")
        assert app.studio.current.velocities[1, KICK] == st.DEFAULT_VELOCITY + st.VELOCITY_STEP
        await pilot.press("down", "j", "up", "enter")  # snare step 2 via enter
        assert app.studio.cursor == (1, SNARE)
        assert app.studio.current.velocities[1, SNARE] > 0
        await pilot.press("x")
        assert app.studio.current.velocities[1, SNARE] == 0
        # the grid on screen shows the edit, with the accent level visible as a character
        assert app.query_one(StepGrid).pattern == app.studio.current
        await pilot.press("k", "plus")  # 114 -> 126: an accent
        text = app.query_one(StepGrid).render().plain
        kick_row = next(line for line in text.splitlines() if line.startswith(LABELS[KICK]))
        assert kick_row.split("│")[1].split()[1] == "X"


async def test_undo_redo_keys(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        start = app.studio.current
        await pilot.press("c", "j", "c")
        cleared = app.studio.current
        await pilot.press("u", "u")
        assert app.studio.current == start
        await pilot.press("U", "ctrl+y")
        assert app.studio.current == cleared
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("u")
        assert app.studio.current == cleared


async def test_genre_and_temperature_keys(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "g", "G")
        assert app.studio.genre == "jazz"
        await pilot.press("t", "t", "T")
        assert app.studio.temperature == pytest.approx(1.1)
        assert "jazz" in str(app.query_one("#transport", Static).render())


async def test_mute_and_solo_marks(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m", "j", "S")
        assert app.studio.mutes == {KICK} and app.studio.solos == {SNARE}
        rows = app.query_one(StepGrid).render().plain.splitlines()
        assert rows[1].rstrip().endswith("M") and rows[2].rstrip().endswith("S")


# --- re-roll, transfer, morph ------------------------------------------------------------------

async def test_reroll_with_rules_draws_a_fresh_bar_and_says_so(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before, seed = app.studio.current, app.studio.seed
        await pilot.press("r")
        await settle(pilot)
        assert app.studio.current == eng.RulesEngine().sample("rock", 1.0, seed) != before
        assert "rules" in str(app.query_one("#status", Static).render())


async def test_reroll_variation_and_style_with_the_vae(tmp_path, vae):
    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await settle(pilot)
        bar, seed = app.studio.current, app.studio.seed
        await pilot.press("r")
        await settle(pilot)
        assert app.studio.current == vae.model.reroll(bar, keep="style", seed=seed)
        bar2 = app.studio.current
        await pilot.press("R")
        await settle(pilot)
        assert app.studio.current == vae.model.reroll(bar2, keep="variation", seed=seed + 1)


async def test_transfer_to_a_chosen_genre(tmp_path, vae):
    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.studio.current
        await pilot.press("f")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "enter")  # rock -> jazz
        await settle(pilot)
        assert app.studio.genre == "jazz"
        assert app.studio.current == vae.model.transfer(bar, "jazz")


async def test_transfer_and_morph_off_with_rules_show_the_reason(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.studio.current
        await pilot.press("f")
        assert not isinstance(app.screen, ChoiceScreen)
        await pilot.press("a", "b", "M")
        await settle(pilot)
        assert app.studio.current == bar and app.studio.morph == []
        assert app._last_error and "morph is off" in app._last_error
        assert "morph is off" in str(app.query_one("#morph-head", Static).render())


async def test_ab_morph_levels_steps_and_strip(tmp_path, vae):
    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "2", "g", "s")
        await settle(pilot)
        await pilot.press("b", "n", "L")  # 6 steps, level high
        assert app.studio.morph_steps == 6 and app.studio.morph_level == "high"
        await pilot.press("M")
        await settle(pilot)
        a, b = app.studio.doc.a, app.studio.doc.b
        assert a == app.studio.doc.bank[0] and b == app.studio.doc.bank[1]
        assert app.studio.morph == vae.model.interpolate(a, b, 6, level="high")
        assert app.view == "morph-view"
        strip = app.query_one("#strip")
        assert strip.labels == ["A", "1", "2", "3", "4", "B"] and len(strip.patterns) == 6
        await pilot.press("N", "L", "M")
        await settle(pilot)
        assert len(app.studio.morph) == 5 and app.studio.morph_level == "low"


async def test_morph_needs_a_and_b(tmp_path, vae):
    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert app.studio.morph == [] and "A and B" in app._last_error


# --- bank ----------------------------------------------------------------------------------------

async def test_bank_select_duplicate_clear(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = app.studio.current
        await pilot.press("d")
        assert app.studio.doc.bank[1] == first
        await pilot.press("8", "s")
        await settle(pilot)
        assert app.studio.doc.slot == 7 and app.studio.doc.bank[7] is not None
        await pilot.press("D")
        assert app.studio.doc.bank[7] is None
        await pilot.press("1")
        assert app.studio.current == first
        side = str(app.query_one("#side", Static).render())
        assert "▸1" in side and "8 —" in side


# --- export -------------------------------------------------------------------------------------

async def test_export_bar_prompts_and_never_overwrites_silently(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, PathPrompt)
        path = tmp_path / "drumfont-rock-slot1.mid"
        assert app.screen.query_one(Input).value == str(path)
        await pilot.press("enter")
        await pilot.pause()
        assert read_patterns(path) == as_exported([app.studio.current])
        first_bytes = path.read_bytes()
        await pilot.press("c", "e", "enter")       # the kick cleared; same path again
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert path.read_bytes() == first_bytes
        await pilot.press("e", "enter", "y")
        await pilot.pause()
        assert read_patterns(path) == as_exported([app.studio.current])


async def test_export_to_a_typed_path_and_a_bad_one(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        app.screen.query_one(Input).value = "sub/mine.mid"
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "sub" / "mine.mid").exists()
        await pilot.press("e")
        app.screen.query_one(Input).value = str(tmp_path / "notes.txt")
        await pilot.press("enter")
        await pilot.pause()
        assert not (tmp_path / "notes.txt").exists() and ".mid" in app._last_error
        await pilot.press("e", "escape")
        await pilot.pause()
        assert "cancelled" in str(app.query_one("#status", Static).render())


async def test_export_bank_and_morph(tmp_path, vae):
    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "2", "s")
        await settle(pilot)
        await pilot.press("b", "B", "E", "enter")   # 2 bars per pattern
        await pilot.pause()
        bank = read_patterns(tmp_path / "drumfont-rock-bank.mid")
        assert bank == as_exported([app.studio.doc.bank[0]] * 2 + [app.studio.doc.bank[1]] * 2)
        await pilot.press("ctrl+e")  # no morph yet
        await pilot.pause()
        assert "no morph" in app._last_error
        await pilot.press("M")
        await settle(pilot)
        await pilot.press("e", "enter")  # in the morph view, e exports the morph
        await pilot.pause()
        morph = read_patterns(tmp_path / "drumfont-rock-morph-both.mid")
        assert morph == as_exported([p for p in app.studio.morph for _ in range(2)])


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


# --- views, help, palette, letters, session -------------------------------------------------

async def test_tab_cycles_views_and_escape_returns(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen = [app.view]
        for _ in range(3):
            await pilot.press("tab")
            seen.append(app.view)
        assert seen == ["grid-view", "morph-view", "letters-view", "grid-view"]
        await pilot.press("shift+tab", "escape")
        assert app.view == "grid-view"


async def test_help_shows_every_key(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body", Static).render())
        for k in KEYS:
            assert k.description in body
        for marks, meaning in GRID_LEGEND:          # what the grid's lean marks mean
            assert marks in body and meaning in body
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_and_runs_every_action(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for k in KEYS:
            if k.action not in ("noop", "command_palette", "help"):
                assert k.description.capitalize() in titles
        assert "Select bank slot 8" in titles and "Show every key" in titles
        before, seed = app.studio.current, app.studio.seed
        await pilot.press("ctrl+p")
        await pilot.press(*"sample a new bar")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.studio.current == eng.RulesEngine().sample("rock", 1.0, seed) != before


def _fake_typeface(text: str, seed: int, scale: int) -> Image.Image:
    # A stand-in for the GAN: bars whose widths depend on the seed, so re-rolls differ.
    img = np.zeros((28, 28 * len(text)), np.uint8)
    for i, _ in enumerate(text):
        img[4:24, i * 28 + 4: i * 28 + 8 + seed % 10] = 255
    return Image.fromarray(img).resize((28 * len(text) * scale, 28 * scale))


async def test_letters_render_preview_png_and_reroll(tmp_path):
    app = build_app(tmp_path, letters_renderer=_fake_typeface)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")
        assert app.view == "letters-view" and app.focused.id == "letters-input"
        app.focused.value = ""
        await pilot.press(*"BEAT", "enter")
        await settle(pilot)
        png = tmp_path / "data" / "letters" / "BEAT-0.png"
        assert app.letters_path == png and Image.open(png).size == (4 * 28 * 4, 28 * 4)
        assert str(png) in str(app.query_one("#letters-info", Static).render())
        assert app.query_one(HalfBlockImage).image is not None
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.studio.letters_seed == 1 and (tmp_path / "data" / "letters" / "BEAT-1.png").exists()
        assert app.studio.letters_text == "BEAT"


async def test_letters_error_is_a_notification(tmp_path):
    from drumfont.errors import DrumfontError

    def broken(text, seed, scale):
        raise DrumfontError("cannot draw '1': only letters A-Z and spaces")
    app = build_app(tmp_path, letters_renderer=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "tab", "enter")
        await settle(pilot)
        assert "only letters" in app._last_error and app.is_running


async def test_letters_colours_svg_and_save_font(tmp_path):
    from fontTools.ttLib import TTFont

    from tests.font_helpers import tiny_preset

    app = build_app(tmp_path, letters_preset=str(tiny_preset(tmp_path / "cgan.pt")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "tab")
        app.focused.value = ""
        await pilot.press(*"Hi, 909", "enter")
        await settle(pilot)
        png = tmp_path / "data" / "letters" / "HI-909-0.png"
        assert app.letters_path == png and Image.open(png).getpixel((0, 0)) == (0, 0, 0, 255)
        await pilot.press("ctrl+b", "ctrl+b")                       # black -> white -> transparent
        await settle(pilot)
        assert app.studio.letters_bg == "transparent" and Image.open(png).getpixel((0, 0))[3] == 0
        height = Image.open(png).height
        await pilot.press("ctrl+up")
        await settle(pilot)
        assert Image.open(png).height > height                        # drawn larger from the outlines
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert app.letters_path == png.with_suffix(".svg") and "<path" in png.with_suffix(".svg").read_text()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt)
        await pilot.press("enter")
        await settle(pilot)
        out = tmp_path / "DrumfontGAN-0.otf"
        assert out.exists() and "CFF " in TTFont(out) and "wrote" in str(app.query_one("#status", Static).render())
        app.focused.value = "A+"
        await pilot.press("enter")
        await settle(pilot)
        assert "'+'" in app._last_error and app.is_running


async def test_letters_with_the_real_gan(tmp_path):
    from drumfont import letters
    from drumfont.paths import preset_path

    if not preset_path(letters.CGAN_PRESET).is_file():
        pytest.skip(f"the letter GAN preset {letters.CGAN_PRESET} is not in presets/ yet")
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "tab", "enter")
        await settle(pilot)
        assert app.letters_path is not None and app.letters_path.exists()


async def test_session_is_saved_on_every_edit_and_restored(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l", "l", "j", "x", "a", "3", "s", "right_square_bracket", "m")
        await settle(pilot)
        # on disk already, before any quit: a kill now would lose nothing
        on_disk = st.Studio.load(tmp_path / "data" / st.SESSION_FILE)
        assert on_disk.doc.bank == app.studio.doc.bank and on_disk.doc.a == app.studio.doc.a
        bank, cursor = list(app.studio.doc.bank), app.studio.cursor
    again = build_app(tmp_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = again.studio
        assert s.doc.bank == bank and s.doc.slot == 2 and s.cursor == cursor
        assert s.transport.bpm == 121 and s.mutes == {SNARE}
        assert again.query_one(StepGrid).pattern == s.current


async def test_quit_key_saves_and_exits(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x", "q")
        await pilot.pause()
    assert st.Studio.load(tmp_path / "data" / st.SESSION_FILE).doc.bank[0] == app.studio.current


async def test_results_landing_under_a_dialog_do_not_crash(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.studio.current
        await pilot.press("s", "question_mark", "space")  # the bar arrives while help is open
        await settle(pilot)
        await pilot.pause(0.1)  # the playhead poll runs under the dialog too
        assert isinstance(app.screen, HelpScreen) and app.is_running
        assert app.studio.current != before
        assert app.main.query_one(StepGrid).pattern == app.studio.current


async def test_keys_typed_in_a_prompt_stay_in_the_prompt(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.studio.current
        await pilot.press("e")
        field = app.screen.query_one(Input)
        field.value = ""
        await pilot.press(*"sx", "tab", "ctrl+e", "space", "m")
        await settle(pilot)
        assert isinstance(app.screen, PathPrompt) and app.view == "grid-view"
        assert app.studio.current == bar and app.studio.mutes == set()
        assert "sx" in field.value and field.value.endswith("m")


async def test_brackets_in_names_and_text_are_shown_not_parsed(tmp_path, monkeypatch):
    from drumfont.live import ports as live_ports

    monkeypatch.setattr(live_ports, "list_ports", lambda backend=None: {
        "alsa": {"outputs": ["Synth [hw:1,0]"], "inputs": []}})
    factory, made = recording_player()
    app = build_app(tmp_path, player_factory=factory, letters_renderer=_fake_typeface)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("O", "down", "enter")
        await settle(pilot)
        assert app.studio.transport.port == "Synth [hw:1,0]"
        assert "Synth [hw:1,0]" in str(app.query_one("#transport", Static).render())
        await pilot.press("tab", "tab")
        app.focused.value = "[b]A[/"
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and app.letters_path.name == "B-A-0.png"


async def test_error_text_with_brackets_is_shown_plain(tmp_path):
    from drumfont.errors import DrumfontError

    def strict(text, seed, scale):
        raise DrumfontError("cannot draw '[', '/': only letters A-Z and spaces")
    app = build_app(tmp_path, letters_renderer=strict)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "tab")
        app.focused.value = "[b]A[/"
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        assert "cannot draw '['" in str(app.query_one("#letters-info", Static).render())


async def test_note_map_key_reaches_the_player(tmp_path):
    from drumfont.score.notemap import GM, available_notemaps, load_notemap

    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("Y")
        name = app.studio.transport.notemap
        assert name == available_notemaps()[1] == "drumrack"
        await pilot.press("right_curly_bracket", "right_curly_bracket", "space")
        bar = app.studio.current
        hat = load_notemap(name).note(CLOSED_HAT)   # 38 in a drum rack, 42 in GM
        assert hat != GM.note(CLOSED_HAT) and bar.hits[:, CLOSED_HAT].any()
        assert await wait_until(pilot, lambda: len(note_ons(ports[-1], hat)) >= 1)
        drumrack = {load_notemap(name).note(v) for v in range(bar.hits.shape[1]) if bar.hits[:, v].any()}
        assert {m[1] for m in note_ons(ports[-1])} <= drumrack
        assert "drumrack" in str(app.query_one("#transport", Static).render())


def test_cli_rejects_an_unknown_note_map(tmp_path, capsys):
    from drumfont.cli import main

    assert main(["tui", "--data-dir", str(tmp_path), "--notemap", "nope"]) == 2
    assert "unknown note map" in capsys.readouterr().err


async def test_default_start_loads_the_shipped_model_in_a_worker(tmp_path):
    from drumfont import drums
    from drumfont.tui.app import make_app

    app = make_app(tmp_path / "data", midi=False, export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, app._engine_ready.is_set, timeout=60)
        if not drums.preset_available():
            assert app.engine.name == "rules" and "missing" in app.engine.reason
            return
        assert app.engine.name == "vae" and app.engine.can_morph
        seed = app.studio.seed
        await pilot.press("s")
        await settle(pilot)
        assert app.studio.current == app.engine.sample(app.studio.genre, 1.0, seed)


async def test_a_session_with_a_user_models_genre_and_an_empty_bank_starts(tmp_path):
    s = st.Studio(genre="drum-and-bass")
    s.save((tmp_path / "data").joinpath(st.SESSION_FILE))
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.is_running and app.studio.current.hits.sum() >= 3
        assert app.studio.genre == "rock"  # the rules engine does not know that genre


# --- micro-timing: lean marks, straighten, the player ----------------------------------------------

def _row(app, voice: int) -> str:
    text = app.query_one(StepGrid).render().plain
    return next(line for line in text.splitlines() if line.startswith(LABELS[voice]))


async def test_grid_shows_where_hits_lean_and_Q_straightens(tmp_path):
    from tui_helpers import TimedRulesEngine

    from drumfont.tui.widgets.grid import lean_mark

    app = build_app(tmp_path, engine=TimedRulesEngine())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        bar = app.studio.current
        assert bar.timed
        for voice in range(9):                       # every cell: its level char, then its mark
            cells = _row(app, voice)[3:].replace("│", "")[:32]   # then the mute/solo flags
            for step in range(16):
                want = lean_mark(float(bar.offsets[step, voice]))[0] if bar.hits[step, voice] else " "
                assert cells[2 * step + 1] == want, (voice, step)
        marks = "".join(_row(app, v)[3:] for v in range(9))
        assert any(m in marks for m in "‹«") and any(m in marks for m in "›»")
        step = int(np.flatnonzero(bar.hits[:, KICK])[0])
        await pilot.press(*["l"] * step)
        info = app.query_one(StepGrid).render().plain.splitlines()[-1]
        off = float(bar.offsets[step, KICK])
        assert f"{off:+.2f} {'early' if off < 0 else 'late'}" in info
        assert max(len(line) for line in app.query_one(StepGrid).render().plain.splitlines()) <= 43

        await pilot.press("x", "x")                   # rest then hit again: the others keep their timing
        kept = bar.hits.copy()
        kept[step, KICK] = False
        assert np.array_equal(app.studio.current.offsets[kept], bar.offsets[kept])
        await pilot.press("Q")
        assert not app.studio.current.timed
        assert not any(m in "".join(_row(app, v) for v in range(9)) for m in "‹«›»")
        assert "straightened" in str(app.query_one("#status", Static).render())
        await pilot.press("u")
        assert app.studio.current.timed
        await pilot.press("u", "u")
        assert app.studio.current == bar
        saved = json.loads((tmp_path / "data" / st.SESSION_FILE).read_text())
        assert " @ " in saved["bank"][0]              # the autosave keeps the timing


async def test_a_timed_bar_plays_at_its_offsets_and_swing_leaves_it_alone(tmp_path):
    from tui_helpers import TimedRulesEngine

    from drumfont.live import RecordingPort
    from drumfont.live import schedule as sch

    ports: list = []

    def factory(transport):
        port = RecordingPort()
        ports.append(port)
        return open_live_player(transport, port=port, record_timing=True)

    app = build_app(tmp_path, engine=TimedRulesEngine(), player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert app.player is not None, app.player_reason
        await pilot.press(*["right_curly_bracket"] * 18, "full_stop", "full_stop")   # 300 BPM, swing 54
        assert "own timing" in str(app.query_one("#status", Static).render())
        bar = app.studio.current
        await pilot.press("space")
        assert await wait_until(pilot, lambda: (app.player.playhead() or (0, 0)) >= (1, 4), timeout=10)
        await pilot.press("space")
        timing = app.player.timing()
    want = [pos for pos, m in sch.render(sch.Sequencer(pattern=bar, swing=54), 2) if m[0] == sch.NOTE_ON]
    got = [int(t) for t, _, status in timing if status == sch.NOTE_ON][:len(want)]
    assert len(got) > int(bar.hits.sum())             # bar 1 and the start of bar 2
    rel = (np.array(got) - got[0]) / sch.step_ns(300)
    assert np.abs(rel - (np.array(want[:len(got)]) - want[0])).max() < 1e-6


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
