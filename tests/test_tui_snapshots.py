"""Snapshot tests (pytest-textual-snapshot) of the studio's main screens at 80x24, driven by keys.

Deterministic: the genre rules with fixed seeds (not the VAE preset, which may change), MIDI off,
a data folder given as a relative path inside a fresh temporary folder. Update them after an
intended change with `pytest tests/test_tui_snapshots.py --snapshot-update` and look at the
SVGs in tests/__snapshots__/ before committing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tui_helpers import TimedRulesEngine, settle

from drumfont.drums import engine as eng
from drumfont.score.pattern import Pattern
from drumfont.tui.app import make_app

SIZE = (80, 24)


def _app(monkeypatch, tmp_path, **kw):
    monkeypatch.chdir(tmp_path)
    return make_app(Path("data"), engine=eng.RulesEngine(), midi=False, audio=False, export_dir=Path("."), **kw)


def test_main_screen(snap_compare, monkeypatch, tmp_path):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("l", "l", "j", "x", "plus", "plus", "m", "2", "g", "s")
        await settle(pilot)
        await pilot.press("1")
    assert snap_compare(_app(monkeypatch, tmp_path), run_before=run_before, terminal_size=SIZE)


def test_main_screen_with_timing(snap_compare, monkeypatch, tmp_path):
    """A bar with micro-timing: lean marks after the hits, the cursor's offset on its line."""
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("l", "l", "l", "l", "j")
    app = _app(monkeypatch, tmp_path)
    app.engine = TimedRulesEngine()
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


class CrossfadeEngine(eng.RulesEngine):
    """The rules plus a fixed, seeded crossfade as the morph, so the picture does not depend on
    a trained model (the VAE's morph is tested in test_tui_app.py)."""

    can_morph = True

    def __init__(self) -> None:
        super().__init__()
        self.reason = None

    def interpolate(self, a, b, steps, level):
        pick = np.random.default_rng(0).random(a.velocities.shape)
        return [Pattern(np.where(pick < i / (steps - 1), b.velocities, a.velocities))
                for i in range(steps)]


def test_morph_view(snap_compare, monkeypatch, tmp_path):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("a", "2", "G", "G", "s")
        await settle(pilot)
        await pilot.press("b", "n", "M")
        await settle(pilot)
    app = _app(monkeypatch, tmp_path)
    app.engine = CrossfadeEngine()
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def _typeface(text: str, seed: int, scale: int) -> Image.Image:
    # Block letters from a fixed rule, standing in for the GAN so that the picture is stable.
    cells = []
    for ch in text:
        g = np.zeros((28, 28), np.uint8)
        if ch != " ":
            r = np.random.default_rng(ord(ch) + 100 * seed)
            mask = r.random((7, 5)) < 0.55
            g[0:28, 4:24] = np.kron(mask, np.ones((4, 4), np.uint8))[:28, :20] * 255
        cells.append(g)
    img = Image.fromarray(np.concatenate(cells, axis=1))
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST)


def test_letters_pane(snap_compare, monkeypatch, tmp_path):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("tab", "tab")
        pilot.app.focused.value = ""
        await pilot.press(*"GROOVE", "enter")
        await settle(pilot)
    assert snap_compare(_app(monkeypatch, tmp_path, letters_renderer=_typeface), run_before=run_before,
                        terminal_size=SIZE)


def test_song_view(snap_compare, monkeypatch, tmp_path):
    """The song view: three sections (one renamed, one played twice), the second selected; the grid
    behind it on bar 2 of its phrase."""
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("greater_than_sign", "2", "w", "s")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", "1", "a", "2", "a", "plus", "1", "a", "up", "r")
        await pilot.pause()
        pilot.app.screen.query_one("Input").value = "chorus"
        await pilot.press("enter")
        await pilot.pause()
    assert snap_compare(_app(monkeypatch, tmp_path), run_before=run_before, terminal_size=SIZE)


def test_help_screen(snap_compare, monkeypatch, tmp_path):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
    assert snap_compare(_app(monkeypatch, tmp_path), run_before=run_before, terminal_size=SIZE)
