"""Pilot tests of the studio's Groove keys (shipped humanize / drumify presets): H humanises the
bar and W the bank, both undoable; i runs a count-in and takes one bar of taps on a fake clock,
and drumify fills the slot with a bar that holds every tap; with a MIDI port the click is heard."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import Static
from tui_helpers import build_app, settle, wait_until

from drumfont.drums import engine as eng
from drumfont.score.pattern import CLOSED_HAT
from drumfont.tui import tap
from drumfont.tui.app import open_live_player

pytest.importorskip("torch")


def status(app) -> str:
    return str(app.query_one("#status", Static).render())


async def test_humanize_bar_then_bank_and_undo(tmp_path):
    app = build_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        s = app.studio
        s.put(1, eng.RulesEngine().sample("jazz", 1.0, 7))
        flat = s.phrase
        await pilot.press("H")
        await settle(pilot)
        # every bar of the phrase humanised: the same hits, a drummer's timing; the fill kept a fill
        assert [b.hits.tolist() for b in s.phrase.bars] == [b.hits.tolist() for b in flat.bars]
        assert all(b.timed for b in s.phrase.bars) and s.phrase.fills == flat.fills
        assert "humanised slot 1" in status(app)
        await pilot.press("u")
        assert s.phrase == flat
        await pilot.press("W")
        await settle(pilot)
        assert "humanised 2 slots" in status(app)
        assert all(b.timed for b in s.phrase_in(0).bars) and s.phrase_in(1).bars[0].timed
        await pilot.press("u")  # one undo step for the whole bank
        assert s.phrase_in(0) == flat and not s.phrase_in(1).bars[0].timed


async def test_tap_mode_counts_in_and_drumifies_one_bar(tmp_path):
    app = build_app(tmp_path)
    now = [100.0]
    app.clock = lambda: now[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.studio.current
        await pilot.press("i")
        take = app.tap_take
        assert take is not None and "count-in 1/4" in status(app)
        now[0] = take.start + 2.1 * take.beat
        await wait_until(pilot, lambda: "count-in 3/4" in status(app))
        sixteenth = take.beat / 4
        steps = (0, 3, 6, 8, 12, 14)
        for step in steps:
            now[0] = take.bar_start + (step - 0.2) * sixteenth  # a little early, as people tap
            await pilot.press("space")
        # the flash line follows the timer: the beat under the last tap, and the count so far
        assert await wait_until(pilot, lambda: f"tap! beat 4/4, {len(steps)} tap(s)" in status(app))
        assert len(take.taps) == len(steps)
        now[0] = take.end + 0.01
        assert await wait_until(pilot, lambda: app.tap_take is None)
        await settle(pilot)
        bar = app.studio.current
        assert bar != before and "drumified the taps" in status(app)
        assert bar.hits[list(steps)].any(1).all()
        await pilot.press("u")
        assert app.studio.current == before


async def test_tap_mode_without_taps_changes_nothing(tmp_path):
    app = build_app(tmp_path)
    now = [5.0]
    app.clock = lambda: now[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = app.studio.current
        await pilot.press("i")
        now[0] = app.tap_take.end + 1
        assert await wait_until(pilot, lambda: app.tap_take is None)
        await settle(pilot)
        assert app.studio.current == before and "no taps" in status(app)


async def test_tap_mode_clicks_on_the_midi_port(tmp_path):
    from drumfont.live import RecordingPort

    ports = []

    def factory(transport):
        ports.append(RecordingPort())
        return open_live_player(transport, port=ports[-1])
    app = build_app(tmp_path, player_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.player is not None, timeout=20)
        await pilot.press("i")
        assert app._tap_click
        hats = lambda: [m for m in ports[-1].messages() if m[0] == 0x99 and m[2] > 0 and m[1] == 42]  # noqa: E731
        assert await wait_until(pilot, lambda: len(hats()) >= 1, timeout=5)
        app.tap_take.taps.clear()
        app.clock = lambda: 1e9  # the take is over
        assert await wait_until(pilot, lambda: app.tap_take is None)
        assert not app._tap_click


def test_tap_take_places_taps_on_sixteenths_with_their_timing():
    take = tap.TapTake(bpm=120, start=0.0)
    six = take.beat / 4
    assert take.bar_start == pytest.approx(2.0)
    take.tap(take.bar_start - 0.25 * six)             # early downbeat
    take.tap(take.bar_start + 4.3 * six, 60)
    take.tap(take.bar_start + 4.1 * six, 90)          # the louder tap of one step stays
    take.tap(take.bar_start - 2 * six)                # still counting in: ignored
    take.tap(take.bar_start + 16.6 * six)             # after the bar: ignored
    taps = take.as_taps()
    assert list(np.flatnonzero(taps[:, 0])) == [0, 4]
    assert taps[0, 2] == pytest.approx(-0.25, abs=1e-5) and taps[4, 1] == 90
    assert taps[4, 2] == pytest.approx(0.1, abs=1e-5)
    assert take.beat_at(0.6) == ("count-in", 2) and take.beat_at(2.6) == ("take", 2)
    assert take.beat_at(take.end)[0] == "done"
    assert tap.click_pattern().hits[:, CLOSED_HAT].sum() == 4


async def test_pad_notes_tap_with_their_velocity(tmp_path):
    """A pad's note-on arrives on the MIDI input's thread (pad_note), stamped there."""
    import threading

    app = build_app(tmp_path)
    now = [0.0]
    app.clock = lambda: now[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        take = app.tap_take
        now[0] = take.bar_start + take.beat  # beat 2
        t = threading.Thread(target=app.pad_note, args=(77,), daemon=True)
        t.start()  # not joined here: call_from_thread waits for this loop to run the tap
        assert await wait_until(pilot, lambda: len(take.taps) == 1)
        t.join(timeout=5)
        taps = take.as_taps()
        assert taps[4, 0] == 1 and taps[4, 1] == 77
