"""Pilot tests of the studio in phrases: the bar you are on and the keys between bars, the bars a
sample draws, re-rolling only the fill, continuing from a bar, playing the whole phrase, and the
song view (arrange, rename, draw, play, export) — every action by its key, asserting on the
session, the screen, the files written and what reached a recording MIDI port."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import Input, Static
from tui_helpers import as_exported, build_app, note_ons, recording_player, settle, wait_until

from drumfont.drums import engine as eng
from drumfont.score.midifile import read_patterns
from drumfont.score.notemap import GM
from drumfont.score.pattern import CRASH, KICK, Pattern
from drumfont.score.phrase import CRASH_VELOCITY, Phrase
from drumfont.tui import session as st
from drumfont.tui.widgets import PathPrompt, SongTable, StepGrid


def status(app) -> str:
    return str(app.query_one("#status", Static).render())


def strip(app) -> str:
    return app.query_one(StepGrid).render().plain.splitlines()[-1]


# --- the bars of a phrase ---------------------------------------------------------------------------

async def test_the_grid_shows_the_bar_you_are_on_and_moves_between_bars(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        assert len(s.phrase) == 4 and s.phrase.fills == (False, False, False, True)   # a fresh studio
        assert strip(app).split() == ["bar", "1/4", "[1]", "2", "3", "4f", "<", ">"]
        await pilot.press("greater_than_sign")
        assert s.bar_index == 1 and app.query_one(StepGrid).pattern == s.phrase.bars[1]
        assert "bar 2/4" in strip(app) and "[2]" in strip(app)
        await pilot.press("less_than_sign", "less_than_sign")   # wraps round to the fill
        assert s.bar_index == 3 and "its fill" in status(app) and "[4f]" in strip(app)
        before = s.phrase
        await pilot.press("x")                                   # an edit lands on this bar only
        assert s.phrase.bars[:3] == before.bars[:3] and s.phrase.bars[3] != before.bars[3]
        assert s.phrase.fills == before.fills
        await pilot.press("u")
        assert s.phrase == before
        text = app.query_one(StepGrid).render().plain
        assert max(len(line) for line in text.splitlines()) <= 43


async def test_w_sets_the_bars_a_sample_draws(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        await pilot.press("w", "s")
        await settle(pilot)
        assert s.phrase_bars == 8 and len(s.phrase) == 8 and s.phrase.fills[-1] and sum(s.phrase.fills) == 1
        assert "8-bar" in str(app.query_one("#transport", Static).render())
        assert "8 bars" in str(app.query_one("#side", Static).render())
        await pilot.press("greater_than_sign", "w", "s")
        await settle(pilot)
        assert len(s.phrase) == 1 and s.phrase.fills == (False,) and s.bar_index == 0
        assert "bar 1/1" in strip(app)


async def test_z_rerolls_only_the_fill(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        before, seed = s.phrase, s.seed
        await pilot.press("z")
        await settle(pilot)
        assert s.phrase == eng.RulesEngine().reroll_fill(before, "rock", 1.0, seed)
        assert s.phrase.bars[:3] == before.bars[:3] and s.phrase.bars[3] != before.bars[3]
        assert "re-rolled the fill" in status(app)
        await pilot.press("w", "w", "s")   # one bar: no fill to re-roll
        await settle(pilot)
        await pilot.press("z")
        assert "2 bars or more" in app._last_error


async def test_o_continues_from_the_bar_you_are_on(tmp_path):
    pytest.importorskip("torch")
    from tui_helpers import tiny_engine_with_phrases

    e = tiny_engine_with_phrases()
    app = build_app(tmp_path, engine=e)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        await pilot.press("s")
        await settle(pilot)
        before = s.phrase
        assert len(before) == 4 and e.phrase_reason is None
        seed = s.seed
        await pilot.press("greater_than_sign", "o")                 # from bar 2: bars 3-4 again
        await settle(pilot)
        want = e.continue_phrase(before.bars[:2], 2, "rock", 1.0, seed, "end")   # it ended in a fill
        assert s.phrase.bars[:2] == before.bars[:2] and list(s.phrase.bars[2:]) == want
        assert len(s.phrase) == 4 and s.phrase.fills == before.fills and "continued slot 1" in status(app)
        await pilot.press("less_than_sign", "less_than_sign", "o")   # from the last bar: it grows to 8
        await settle(pilot)
        assert len(s.phrase) == 8 and "bar 4/8" in strip(app)
        grown = s.phrase
        await pilot.press("less_than_sign", "o")                    # from bar 3: bars 4-8 again
        await settle(pilot)
        assert len(s.phrase) == 8 and s.phrase.bars[:3] == grown.bars[:3] and s.phrase.bars[3:] != grown.bars[3:]
        await pilot.press("less_than_sign", "less_than_sign", "less_than_sign", "o")   # the 8th bar
        await settle(pilot)
        assert s.bar_index == 7 and len(s.phrase) == 8 and "the most a slot holds" in app._last_error


async def test_continue_without_the_phrase_model_says_why(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.studio.phrase
        await pilot.press("o")
        await settle(pilot)
        assert app.studio.phrase == before and "continue needs the phrase model" in app._last_error


# --- play -----------------------------------------------------------------------------------------

MARK = 4   # the high tom marks which bar of the phrase plays, by its velocity


def _marked_phrase(n: int = 4) -> Phrase:
    """n bars, each a kick on the downbeat and a tom of velocity 100 + 5 x its bar."""
    bars = []
    for i in range(n):
        v = np.zeros((16, 9), np.uint8)
        v[0, KICK] = 100
        v[8, MARK] = 100 + 5 * i
        bars.append(Pattern(v))
    return Phrase.of(bars, fill_last=True)


async def test_play_loops_the_whole_phrase(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.studio.put(0, _marked_phrase())
        await pilot.press(*["right_curly_bracket"] * 18)   # 300 BPM
        await pilot.press("space")
        port = ports[-1]
        tom = GM.note(MARK)
        assert await wait_until(pilot, lambda: len(note_ons(port, tom)) >= 6, timeout=20)
        assert await wait_until(pilot, lambda: app.query_one(StepGrid).playing_bar is not None)
        await pilot.press("space")
        # the marks come bar after bar, 1 2 3 4, then bar 1 again: the whole phrase, looped
        assert [m[2] for m in note_ons(port, tom)][:6] == [100, 105, 110, 115, 100, 105]


# --- the song view ----------------------------------------------------------------------------

async def test_the_song_view_arranges_sections_and_exports_the_song(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        await pilot.press("2", "w", "s")                 # slot 2: an 8-bar phrase
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")
        assert app.view == "song-view" and isinstance(app.focused, SongTable)
        await pilot.press("1", "a", "2", "a", "plus", "1", "a")
        assert [(x.slot, x.repeats) for x in s.doc.song] == [(0, 1), (1, 2), (0, 1)]
        assert [x.name for x in s.doc.song] == ["part 1", "part 2", "part 1"]
        assert s.song_length() == 4 + 16 + 4
        head = str(app.query_one("#song-head", Static).render())
        assert "3 sections" in head and "24 bars" in head
        table = app.query_one(SongTable).render().plain
        assert "part 2" in table and max(len(line) for line in table.splitlines()) <= 78
        await pilot.press("up", "r")                     # rename the verse
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one(Input).value = "verse"
        await pilot.press("enter")
        await pilot.press("K")                           # and move it first
        assert [x.name for x in s.doc.song] == ["verse", "part 1", "part 1"] and s.song_cursor == 0
        await pilot.press("down", "x")
        assert len(s.doc.song) == 2
        await pilot.press("u")                           # undo works on the song as on the bank
        assert len(s.doc.song) == 3
        await pilot.press("right")                       # part 1 now plays the next filled slot
        assert s.doc.song[1].slot == 1
        await pilot.press("left")
        await pilot.press("e")
        assert isinstance(app.screen, PathPrompt)
        await pilot.press("enter")
        await pilot.pause()
        path = tmp_path / "drumfont-rock-song.mid"
        bars, _ = s.song_bars()
        assert read_patterns(path) == as_exported(bars) and len(bars) == 24
        assert bars[16].velocities[0, CRASH] >= CRASH_VELOCITY   # after the verse's fill
        assert "wrote 24 bars" in status(app)


async def test_the_song_view_draws_and_plays_the_song(tmp_path):
    factory, ports = recording_player()
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        await pilot.press("2", "s")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", "1", "a", "2", "a")
        before = (s.phrase_in(0), s.phrase_in(1))
        seed = s.seed
        await pilot.press("s")
        await settle(pilot)
        song = eng.RulesEngine().song("rock", [("part 1", 4), ("part 2", 4)], 1.0, seed)
        assert (s.phrase_in(0), s.phrase_in(1)) == (song[0], song[1]) != before
        assert "drew the song" in status(app)
        await pilot.press(*["right_curly_bracket"] * 18)
        await pilot.press("space")
        assert app.playing and app._song_playing
        table = app.query_one(SongTable)
        assert await wait_until(pilot, lambda: table.playing == 1, timeout=15)   # the second section sounds
        await pilot.press("space")
        assert not app.playing


async def test_song_keys_in_the_palette_and_an_empty_song(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Song: play / stop the song" in titles and "Show the song view" in titles
        await pilot.press("tab", "tab", "tab")
        assert "no sections yet" in app.query_one(SongTable).render().plain
        await pilot.press("e")
        assert "the song is empty" in app._last_error
        await pilot.press("s")
        assert "the song is empty" in app._last_error
        await pilot.press("3", "a")      # an empty slot cannot be a section
        assert "slot 3 is empty" in app._last_error and app.studio.doc.song == []
        await pilot.press("escape")
        assert app.view == "grid-view"
        assert st.Studio.load(tmp_path / "data" / st.SESSION_FILE).doc.song == []
