"""Pilot tests of the studio, re-roll, transfer, the A/B morph, the bank and export: every action by its key, asserting on the
session, on the files written and on what reached a recording MIDI port."""

from __future__ import annotations

from textual.widgets import Input, Static
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

from drumfont.drums import engine as eng
from drumfont.score.midifile import read_patterns
from drumfont.tui.widgets import ChoiceScreen, ConfirmScreen, PathPrompt

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
        phrase = app.studio.phrase
        assert phrase.fills == (False, False, False, True)
        await pilot.press("f")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "enter")  # rock -> jazz
        await settle(pilot)
        assert app.studio.genre == "jazz"
        out = app.studio.phrase
        want = vae.model.transfer_many(list(phrase.bars), "jazz")
        assert list(out.bars[:3]) == want[:3]
        assert out.fills == phrase.fills   # the fill stays a fill: its second half as played
        assert out.bars[3].velocities[8:].tolist() == phrase.bars[3].velocities[8:].tolist()
        assert out.bars[3].velocities[:8].tolist() == want[3].velocities[:8].tolist()


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
        assert a == app.studio.phrase_in(0).bars[0] and b == app.studio.phrase_in(1).bars[0]
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
        first, phrase = app.studio.current, app.studio.phrase
        await pilot.press("d")
        assert app.studio.doc.bank[1] == phrase
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
        assert read_patterns(path) == as_exported(app.studio.phrase.bars)   # the whole phrase
        first_bytes = path.read_bytes()
        await pilot.press("c", "e", "enter")       # the kick cleared; same path again
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert path.read_bytes() == first_bytes
        await pilot.press("e", "enter", "y")
        await pilot.pause()
        assert read_patterns(path) == as_exported(app.studio.phrase.bars)


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
        await pilot.press("b", "B", "E", "enter")   # each phrase twice
        await pilot.pause()
        bank = read_patterns(tmp_path / "drumfont-rock-bank.mid")
        one, two = app.studio.phrase_in(0).bars, app.studio.phrase_in(1).bars
        assert len(one) == len(two) == 4
        assert bank == as_exported(list(one) * 2 + list(two) * 2)
        await pilot.press("ctrl+e")  # no morph yet
        await pilot.pause()
        assert "no morph" in app._last_error
        await pilot.press("M")
        await settle(pilot)
        await pilot.press("e", "enter")  # in the morph view, e exports the morph
        await pilot.pause()
        morph = read_patterns(tmp_path / "drumfont-rock-morph-both.mid")
        assert morph == as_exported([p for p in app.studio.morph for _ in range(2)])


async def test_the_morph_is_made_again_when_its_level_or_steps_change(tmp_path, vae):
    # issue 21.2: after L, n or N the strip kept the old morph, and e wrote it under the new level's name
    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "2", "s")
        await settle(pilot)
        await pilot.press("b", "M")
        await settle(pilot)
        a, b = app.studio.doc.a, app.studio.doc.b
        assert app.studio.morph == vae.model.interpolate(a, b, 5, level="both")
        await pilot.press("L", "n")                 # level high, 6 steps
        await settle(pilot)
        assert app.studio.morph == vae.model.interpolate(a, b, 6, level="high")
        strip = app.query_one("#strip")
        assert strip.patterns == app.studio.morph and len(strip.labels) == 6
        await pilot.press("N", "L")                 # level low, 5 steps
        await settle(pilot)
        low = vae.model.interpolate(a, b, 5, level="low")
        assert app.studio.morph == low and "level [b]low[/b] · 5 steps" in app._shown["#morph-head"]
        await pilot.press("e", "enter")
        await pilot.pause()
        assert read_patterns(tmp_path / "drumfont-rock-morph-low.mid") == as_exported(low)


async def test_a_morph_made_at_settings_since_changed_is_not_taken(tmp_path, vae):
    from drumfont.tui.messages import Morphed

    app = build_app(tmp_path, engine=vae)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "2", "s")
        await settle(pilot)
        await pilot.press("b", "M")
        await settle(pilot)
        made = list(app.studio.morph)
        stale = vae.model.interpolate(app.studio.doc.a, app.studio.doc.b, 7, level="high")
        app.post_message(Morphed(stale, "high"))    # a worker's late answer to settings since left
        await settle(pilot)
        assert app.studio.morph == made
