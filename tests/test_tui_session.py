"""Pilot tests of the studio, views, help, the palette, the session file, dialogs and start-up: every action by its key, asserting on the
session, on the files written and on what reached a recording MIDI port."""

from __future__ import annotations

from textual.widgets import Input, Static
from tui_helpers import (  # noqa: F401
    NOTE_ON,
    as_exported,
    build_app,
    fake_typeface,  # noqa: F401
    note_ons,
    recording_player,
    settle,
    tiny_vae_engine,
    wait_until,
)

from drumfont.drums import engine as eng
from drumfont.score.pattern import CLOSED_HAT, SNARE
from drumfont.tui import session as st
from drumfont.tui.app import KEYS
from drumfont.tui.keys import GRID_LEGEND
from drumfont.tui.widgets import HelpScreen, PathPrompt, StepGrid

# --- views, help, palette, letters, session -------------------------------------------------

async def test_tab_cycles_views_and_escape_returns(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen = [app.view]
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.view)
        assert seen == ["grid-view", "morph-view", "letters-view", "song-view", "grid-view"]
        await pilot.press("shift+tab", "escape")
        assert app.view == "grid-view"


async def test_help_shows_every_key(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        body = _help_lines(app)
        body = " ".join(" ".join(line.split()) for line in body)   # a description may wrap
        for k in KEYS:
            assert " ".join(k.description.split()) in body
        for marks, meaning in GRID_LEGEND:          # what the grid's lean marks mean
            assert " ".join(marks.split()) in body and meaning in body
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def _help_lines(app) -> list[str]:
    """The help screen's body as the terminal shows it, line by line."""
    import io

    from rich.console import Console

    body = app.screen.query_one("#help-body", Static)
    console = Console(width=body.content_size.width, file=io.StringIO(), color_system=None)
    console.print(body.content)
    return console.file.getvalue().splitlines()


async def test_help_wraps_a_long_description_under_its_own_column(tmp_path):
    # issue 21.10: at 80x24 a wrapped help line started at column 0, under the key column
    from drumfont.tui.keys import help_groups

    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        lines = [line for line in _help_lines(app) if line.strip()]
        titles = {title for title, _ in help_groups()}
        column = lines[1].index("rest")                     # where the Grid legend's first meaning starts
        wrapped = [line for line in lines if line.strip() not in titles and not line.startswith("  ")]
        assert wrapped == []
        continued = [line for line in lines if line[:column].strip() == "" and line.strip()]
        assert continued and all(len(line) - len(line.lstrip()) == column for line in continued)
        assert any("fills the slot" in line for line in continued)   # the tap key's long description


def test_every_key_of_the_studio_is_in_the_docs():
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "studio.md").read_text()
    table = doc.split("## Keys", 1)[1].split("\n## ", 1)[0]
    shown = {tok for cell in re.findall(r"`([^`]+)`", table) for tok in cell.split()}
    for k in KEYS:
        for tok in (k.shown_as or k.keys.replace(",", " ")).split():
            assert all(part in shown for part in tok.split("..")), (k.keys, tok)   # 1..8 is `1`..`8`


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
        await pilot.press(*"sample a new phrase")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.studio.phrase == eng.RulesEngine().phrase("rock", 4, "end", 1.0, seed)
        assert app.studio.current != before


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
    assert st.Studio.load(tmp_path / "data" / st.SESSION_FILE).current == app.studio.current


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
    app = build_app(tmp_path, player_factory=factory, letters_renderer=fake_typeface)
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
        assert app.studio.phrase == app.engine.phrase(app.studio.genre, 4, "end", 1.0, seed)
        from drumfont.drums import phrase_engine
        if phrase_engine.preset_available():   # the shipped phrase model played it
            assert app.engine.phrase_reason is None


async def test_a_session_with_a_user_models_genre_and_an_empty_bank_starts(tmp_path):
    s = st.Studio(genre="drum-and-bass")
    s.save((tmp_path / "data").joinpath(st.SESSION_FILE))
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.is_running and app.studio.current.hits.sum() >= 3
        assert app.studio.genre == "rock"  # the rules engine does not know that genre
