"""Pilot tests of the studio, the step grid: start, sample, edit, mute/solo, micro-timing lean marks: every action by its key, asserting on the
session, on the files written and on what reached a recording MIDI port."""

from __future__ import annotations

import json

import numpy as np
import pytest
from textual.widgets import Static
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
from drumfont.score.pattern import KICK, LABELS, SNARE
from drumfont.tui import session as st
from drumfont.tui.app import open_live_player
from drumfont.tui.widgets import StepGrid

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
        info = app.query_one(StepGrid).render().plain.splitlines()[-2]   # the last: the phrase's bars
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
        assert " @ " in saved["bank"][0]["bars"][0]   # the autosave keeps the timing


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
        await pilot.press("w", "w", "s")   # a sample of one bar (4 -> 8 -> 1), looped on its own
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
