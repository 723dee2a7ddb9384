"""Text in a GAN typeface: kerning and line breaks, PNG through FreeType, SVG that cairo renders."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from drumfont.cli import main
from drumfont.errors import DrumfontError
from drumfont.letters import font, typeset
from tests.font_helpers import tiny_preset


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    return tiny_preset(tmp_path_factory.mktemp("typeset") / "cgan.pt")


@pytest.fixture(scope="module")
def face(preset):
    return font.build_typeface(1, preset=preset)


def test_layout_kerns_spaces_and_breaks_lines(face):
    face.kerning[("A", "V")] = -80
    lines, widest = typeset.layout(face, "av a\nV")
    v, a2 = lines[0][1], lines[0][2]
    assert lines[0][0] == ("A", 0) and v[1] == face.glyphs["A"].advance - 80                     # kerned pair
    assert a2[1] == v[1] + face.glyphs["V"].advance + font.SPACE      # the space, no kerning across it
    assert lines[1] == [("V", 0)] and widest == a2[1] + face.glyphs["A"].advance
    with pytest.raises(DrumfontError, match="'@'"):
        typeset.layout(face, "A@")


def test_png_is_smooth_coloured_and_sized_by_the_outlines(face):
    small = typeset.render_png(face, "HI 9", 32, (255, 0, 0, 255), None)
    big = typeset.render_png(face, "HI 9", 128, (255, 0, 0, 255), None)
    assert big.height == pytest.approx(4 * small.height, rel=0.05)
    px = np.asarray(big)
    assert px[0, 0, 3] == 0                                           # transparent background
    alpha = px[..., 3]
    assert (alpha == 255).any() and ((alpha > 0) & (alpha < 255)).any()  # anti-aliased edges
    assert (px[alpha == 255][:, :3] == (255, 0, 0)).all()
    two = typeset.render_png(face, "HI\n9", 32, (255, 255, 255, 255), (0, 0, 0, 255))
    assert two.height > 1.8 * small.height * 0.9 and two.getpixel((0, 0)) == (0, 0, 0, 255)


def test_svg_renders_in_cairo_like_the_png(face):
    import cairosvg

    svg = typeset.render_svg(face, "HELLO, WORLD 909", 64, (0, 0, 0, 255), (255, 255, 255, 255))
    png = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg.encode()))).convert("L")
    ref = typeset.render_png(face, "HELLO, WORLD 909", 64, (0, 0, 0, 255), (255, 255, 255, 255)).convert("L")
    assert png.size == ref.size
    a, b = np.asarray(png) < 128, np.asarray(ref) < 128
    assert a.sum() > 0 and (a & b).sum() / (a | b).sum() > 0.8         # the same ink, vector and FreeType


def test_colours():
    assert typeset.parse_colour("#ff880080") == (255, 136, 0, 128)
    assert typeset.parse_colour("transparent", allow_transparent=True) is None
    with pytest.raises(DrumfontError):
        typeset.parse_colour("transparent")
    with pytest.raises(DrumfontError, match="colour"):
        typeset.parse_colour("not-a-colour")


def test_cli_letters_png_svg_and_errors(preset, tmp_path, capsys):
    out = tmp_path / "x.png"
    args = ["letters", "HELLO, WORLD 909", "-o", str(out), "--preset", str(preset)]
    assert main(args + ["--size", "40", "--bg", "transparent", "--fg", "#00ff00"]) == 0
    img = Image.open(out)
    assert img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0
    assert main(args) == 2 and "exists" in capsys.readouterr().err
    assert main(["letters", "TWO\\nLINES", "-o", str(tmp_path / "x.svg"), "--preset", str(preset)]) == 0
    assert (tmp_path / "x.svg").read_text().startswith("<svg")
    for bad, what in ((["HI É"], "'É'"), (["HI", "--fg", "nope"], "colour"), (["HI", "--size", "2"], "size")):
        assert main(["letters", *bad, "-o", str(tmp_path / "e.png"), "--preset", str(preset)]) == 2
        err = capsys.readouterr().err
        assert what in err and err.count("\n") == 1
    assert not (tmp_path / "e.png").exists()


def test_letters_write_what_the_suffix_says_or_refuse_in_one_line(preset, tmp_path, capsys):
    args = ["letters", "HI", "--preset", str(preset), "--size", "24"]
    jpg = tmp_path / "x.jpg"
    assert main(args + ["-o", str(jpg)]) == 0
    assert jpg.read_bytes()[:3] == b"\xff\xd8\xff" and Image.open(jpg).format == "JPEG"
    raw = tmp_path / "cells.jpeg"                            # the raw cells too
    assert main(["letters", "HI", "--scale", "2", "--preset", str(preset), "-o", str(raw)]) == 0
    assert Image.open(raw).format == "JPEG"
    capsys.readouterr()
    for out, extra, said in (("x.png", ["--svg"], "--svg writes SVG"),            # was: SVG text in a .png
                             ("t.jpg", ["--bg", "transparent"], "transparency"),  # JPEG has no alpha
                             ("x.gif", [], ".png, .jpg, .jpeg, .svg"),
                             ("noext", [], "no suffix"),
                             ("y.png", ["--scale", "2", "--svg"], "no vector form"),
                             ("y.svg", ["--scale", "2"], "raw pixel cells")):
        assert main(args + ["-o", str(tmp_path / out), *extra]) == 2, out
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1, err
        assert not (tmp_path / out).exists()


def test_text_target_checks_before_any_work(tmp_path):
    assert typeset.text_target(tmp_path / "a.PNG") == "PNG" and typeset.text_target(tmp_path / "a.svg", svg=True) == "SVG"
    with pytest.raises(DrumfontError, match="JPEG"):
        typeset.text_target(tmp_path / "a.jpg", bg="#00000080")  # half-transparent is transparency too


def test_size_out_of_range_is_refused_before_any_tracing(tmp_path, capsys, monkeypatch):
    """Issue 21.18: `letters --size 5000` was refused by the renderer, after ~6 s of tracing."""
    def traced(*_, **__):
        raise AssertionError("the typeface was traced before --size was checked")
    monkeypatch.setattr(font, "build_typeface", traced)
    assert main(["letters", "HELLO", "--size", "5000", "-o", str(tmp_path / "l.png")]) == 2
    err = capsys.readouterr().err
    assert "--size" in err and "at most 1,024" in err and err.count("\n") == 1, err
