"""Pilot tests of the studio, the letters pane: every action by its key, asserting on the
session, on the files written and on what reached a recording MIDI port."""

from __future__ import annotations

import pytest
from PIL import Image
from textual.widgets import Static
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

from drumfont.tui.widgets import HalfBlockImage, PathPrompt


async def test_letters_render_preview_png_and_reroll(tmp_path):
    app = build_app(tmp_path, letters_renderer=fake_typeface)
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
