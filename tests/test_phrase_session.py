"""The studio session with phrases: a session saved before phrases (format 1, written by the code
of that time: tests/sessions/format1-before-phrases.json) still loads, each slot a one-bar
phrase; phrases, fill flags and the song round-trip; damaged phrase and song fields are one line
naming the field; the song's bars (sections, repeats, a crash after a fill) and its edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drumfont.drums import engine as eng
from drumfont.errors import DrumfontError
from drumfont.score.pattern import CRASH, from_text
from drumfont.score.phrase import CRASH_VELOCITY, Phrase
from drumfont.tui import session as st

OLD = Path(__file__).parent / "sessions" / "format1-before-phrases.json"
GROOVE = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


def test_a_session_saved_before_phrases_loads_as_one_bar_phrases(tmp_path):
    raw = json.loads(OLD.read_text())
    assert raw["format"] == 1 and isinstance(raw["bank"][0], str)
    s = st.Studio.load(OLD)
    for i, text in enumerate(raw["bank"]):
        if text is None:
            assert s.doc.bank[i] is None
        else:
            assert s.phrase_in(i) == Phrase((from_text(text),)) and s.phrase_in(i).fills == (False,)
    assert s.doc.slot == 2 and s.current == from_text(raw["bank"][2]) and s.current.timed
    assert s.phrase_bars == 1 and s.doc.song == [] and s.bar_index == 0
    assert (s.transport.bpm, s.transport.bars, s.mutes, s.cursor) == (96.0, 2, {3}, (5, 2))
    # saved again it is format 2, and its one-bar slots keep format 1's form
    again = json.loads(s.save(tmp_path / "s.json").read_text())
    assert again["format"] == 2 and again["bank"] == raw["bank"]
    assert st.Studio.load(tmp_path / "s.json").to_dict() == s.to_dict()


async def test_the_studio_opens_a_session_saved_before_phrases(tmp_path):
    from tui_helpers import build_app, settle

    from drumfont.tui.widgets import StepGrid

    (tmp_path / "data").mkdir()
    shutil.copy(OLD, tmp_path / "data" / st.SESSION_FILE)
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app._session_note is None                     # not set aside as damaged
        grid = app.query_one(StepGrid)
        assert grid.pattern == app.studio.current and "bar 1/1" in grid.render().plain
        assert "1-bar" in str(app.query_one("#transport").render())


def test_phrases_fills_and_the_song_round_trip(tmp_path):
    s = st.Studio()
    e = eng.RulesEngine()
    s.put(0, e.phrase("rock", 4, "end", seed=1))
    s.put(3, e.phrase("jazz", 8, "end", seed=2))
    s.select_slot(3)
    s.move_bar(-1)
    s.song_add("verse")
    s.select_slot(0)
    s.song_add("chorus")
    s.song_repeats(1)
    path = s.save(tmp_path / "s.json")
    d = json.loads(path.read_text())
    assert d["bank"][0]["fills"] == [False, False, False, True] and len(d["bank"][3]["bars"]) == 8
    assert d["song"] == [{"name": "verse", "slot": 3, "repeats": 1}, {"name": "chorus", "slot": 0, "repeats": 2}]
    r = st.Studio.load(path)
    assert r.to_dict() == s.to_dict() and r.doc.bank == s.doc.bank and r.doc.song == s.doc.song


@pytest.mark.parametrize("change, field", [
    (lambda d: d["bank"].__setitem__(0, {"bars": []}), "bank[0].bars"),
    (lambda d: d["bank"].__setitem__(0, {"bars": ["KK x..."]}), "bank[0].bars[0]"),
    (lambda d: d["bank"][0].__setitem__("fills", [True]), "bank[0].fills"),
    (lambda d: d["bank"].__setitem__(0, {"bars": [d["bank"][0]["bars"][0]] * 9}), "bank[0].bars"),
    (lambda d: d["bank"][0].__setitem__("extra", 1), "bank[0]"),
    (lambda d: d.__setitem__("song", [{"name": "x", "slot": 8, "repeats": 1}]), "song[0].slot"),
    (lambda d: d.__setitem__("song", [{"name": "x", "slot": 0, "repeats": 0}]), "song[0].repeats"),
    (lambda d: d.__setitem__("song", [{"name": "", "slot": 0, "repeats": 1}]), "song[0].name"),
    (lambda d: d.__setitem__("song", [{"name": "x", "slot": 0}]), "song[0]"),
    (lambda d: d.__setitem__("phrase_bars", 3), "phrase_bars"),
    (lambda d: d.__setitem__("format", 3), "format"),
])
def test_a_damaged_phrase_or_song_is_one_line_naming_the_field(tmp_path, change, field):
    s = st.Studio()
    s.put(0, eng.RulesEngine().phrase("rock", 4, "end", seed=1))
    d = s.to_dict()
    change(d)
    with pytest.raises(DrumfontError) as exc:
        st.Studio.from_dict(d, "s.json")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("s.json") and field in msg


def test_a_format_1_session_cannot_claim_a_song():
    d = json.loads(OLD.read_text())
    d["song"] = []
    with pytest.raises(DrumfontError, match="format 1"):
        st.Studio.from_dict(d, "old.json")


def test_the_bar_the_grid_edits_and_the_phrase_it_belongs_to():
    s = st.Studio()
    s.put(0, eng.RulesEngine().phrase("rock", 4, "end", seed=1))
    assert [s.move_bar(1) for _ in range(4)] == [1, 2, 3, 0] and s.move_bar(-1) == 3
    s.set_current(GROOVE)
    assert s.phrase.bars[3] == GROOVE and s.phrase.fills[3]      # an edit keeps the fill flag
    s.undo()
    assert s.phrase.bars[3] != GROOVE
    s.select_slot(1)                                             # an empty slot: one empty bar
    assert s.bar_index == 0 and s.phrase is None and not s.current.hits.any()
    s.set_current(GROOVE)
    assert s.phrase == Phrase((GROOVE,))
    assert [s.cycle_phrase_bars() for _ in range(4)] == [8, 1, 2, 4]


def test_continue_plans_the_bars_after_the_grid_or_grows_the_phrase():
    s = st.Studio()
    s.put(0, eng.RulesEngine().phrase("rock", 4, "end", seed=1))
    s.move_bar(1)
    head, new = s.continue_plan()
    assert len(head) == 2 and new == 2                            # bars 3-4 drawn again
    s.move_bar(2)
    assert [len(x) if isinstance(x, list) else x for x in s.continue_plan()] == [4, 4]   # grows to 8
    s.put(0, eng.RulesEngine().phrase("rock", 8, "end", seed=1))
    s.bar = 7
    with pytest.raises(DrumfontError, match="8 bars, the most"):
        s.continue_plan()
    s.put_continued(0, 2, [GROOVE] * 3)
    assert len(s.phrase) == 5 and s.phrase.bars[2:] == (GROOVE,) * 3 and not s.phrase.has_fill


def test_the_song_plays_its_sections_with_a_crash_after_each_fill():
    s = st.Studio()
    e = eng.RulesEngine()
    s.put(0, e.phrase("rock", 2, "end", seed=1))     # ends in a fill
    s.put(1, e.phrase("rock", 4, "none", seed=2))    # does not
    s.select_slot(0)
    s.song_add("intro")
    s.select_slot(1)
    s.song_add("verse")
    s.song_repeats(1)                                 # verse twice
    s.select_slot(0)
    s.song_add("intro")
    bars, owner = s.song_bars()
    assert len(bars) == s.song_length() == 2 + 8 + 2 and owner == [0, 0] + [1] * 8 + [2, 2]
    assert bars[2].velocities[0, CRASH] >= CRASH_VELOCITY              # after the intro's fill
    assert bars[10].velocities[0, CRASH] == s.phrase_in(0).bars[0].velocities[0, CRASH]   # no fill before
    assert bars[6] == s.phrase_in(1).bars[0]                           # a repeat is no new section
    s.song_cursor = 1
    s.song_reorder(-1)
    assert [x.name for x in s.doc.song] == ["verse", "intro", "intro"] and s.song_cursor == 0
    s.song_slot(1)   # verse now plays slot 1's neighbour: the next filled slot
    assert s.doc.song[0].slot in (0, 1)
    s.song_rename("  bridge   part ")
    assert s.doc.song[0].name == "bridge part"
    s.song_remove()
    assert len(s.doc.song) == 2
    s.undo()
    assert len(s.doc.song) == 3
    s.doc.bank[0] = None
    with pytest.raises(DrumfontError, match="plays slot 1, which is empty"):
        s.song_bars()


def test_the_song_has_at_most_512_bars_and_8_repeats():
    s = st.Studio()
    s.put(0, eng.RulesEngine().phrase("rock", 8, "end", seed=1))
    s.song_add("a")
    assert [s.song_repeats(1).repeats for _ in range(9)][-1] == st.MAX_REPEATS
    for _ in range(7):
        s.song_add("b")
        s.song_repeats(7)
    assert s.song_length() == 512
    with pytest.raises(DrumfontError, match="at most 512"):
        s.song_add("c")
    assert s.song_length() == 512 and len(s.song_bars()[0]) == 512
    s.put(1, eng.RulesEngine().phrase("rock", 1, "none", seed=1))
    s.song_cursor = 7
    s.song_slot(1)                    # the last section plays the 1-bar slot ...
    s.song_add("c")                   # ... so there is room for one more
    s.put(1, eng.RulesEngine().phrase("rock", 8, "end", seed=2))   # then that slot grows
    with pytest.raises(DrumfontError, match="the song is 520 bars"):
        s.song_bars()
