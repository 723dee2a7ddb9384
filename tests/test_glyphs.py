"""The tracer: real font glyphs -> closed outlines whose winding gives exactly the counters."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.letters import trace as tracer
from drumfont.letters.data import GLYPHS, render_letter
from tests.font_helpers import dejavu

COUNTERS = {"A": 1, "B": 2, "D": 1, "O": 1, "P": 1, "Q": 1, "R": 1, "0": 1, "4": 1, "6": 1, "8": 2, "9": 1}


@pytest.fixture(scope="module")
def images():
    font = dejavu()
    return {ch: render_letter(font, ch).astype(np.float32) / 255 for ch in GLYPHS}


def test_counters_by_winding_match_the_glyph(images):
    for ch, img in images.items():
        outline = tracer.trace(img)
        assert outline.contours, ch
        assert tracer.counters(outline) == tracer.bitmap_holes(img), ch
        if ch != "&":  # DejaVu's upper loop of & is a pixel or two at 28 px: either reading is fair
            assert tracer.counters(outline) == COUNTERS.get(ch, 0), ch


def test_outer_contours_run_counter_clockwise_in_font_coordinates(images):
    outline = tracer.trace(images["O"])
    areas = []
    for start, segs in outline.contours:
        pts = np.array([start] + [s[2] for s in segs])
        pts[:, 1] *= -1  # image y down -> y up
        areas.append(tracer.signed_area(pts))
    assert sorted(np.sign(areas)) == [-1, 1]                 # one outer (CCW), one counter (CW)
    assert max(areas, key=abs) > 0                           # the larger one is the outer


def test_outline_follows_the_ink_and_is_smooth(images):
    img = images["O"]
    x0, y0, x1, y1 = tracer.trace(img).bounds()
    ys, xs = np.nonzero(img > 0.5)
    assert abs(x0 - xs.min()) < 1.5 and abs(x1 - xs.max()) < 1.5 and abs(y0 - ys.min()) < 1.5
    n_segments = sum(len(s) for _, s in tracer.trace(img).contours)
    assert n_segments < 60                                   # simplified, not one segment per pixel step


def test_blank_image_and_specks():
    assert tracer.trace(np.zeros((28, 28), np.float32)).bounds() is None
    speck = np.zeros((28, 28), np.float32)
    speck[5, 5] = 1.0
    speck[10:20, 10:20] = 1.0
    assert len(tracer.trace(speck).contours) == 1            # the lone pixel is dropped


def _ring(gap_ink: float) -> np.ndarray:
    """A 28×28 'O': a ring of full ink whose top-left eighth is drawn with `gap_ink`."""
    y, x = np.mgrid[:28, :28]
    r = np.hypot(x - 13.5, y - 13.5)
    img = ((r > 6.5) & (r < 10)).astype(np.float32)
    img[(r > 6.5) & (r < 10) & (x < 11) & (y < 11)] = gap_ink
    return img


def test_a_bowl_drawn_with_a_faint_stroke_is_traced_closed():
    img = _ring(0.45)
    assert tracer.bitmap_holes(img) == 0                     # at half ink the bowl is open
    level = tracer.level_for("O", img)
    assert level < tracer.LEVEL
    outline = tracer.trace(img, level=level)
    assert tracer.counters(outline) == tracer.bitmap_holes(img, level=level) == 1


def test_glyphs_without_counters_and_wide_gaps_stay_at_half_ink():
    faint = _ring(0.45)
    assert tracer.level_for("C", faint) == tracer.LEVEL      # a C has no bowl: no counter from a faint stroke
    assert tracer.counters(tracer.trace(faint)) == 0
    assert tracer.level_for("O", _ring(0.1)) == tracer.LEVEL  # a real gap is left open, not invented over


def test_closed_glyphs_keep_half_ink(images):
    assert all(tracer.level_for(ch, img) == tracer.LEVEL for ch, img in images.items())


@pytest.mark.parametrize("gap_ink", [0.31, 0.36, 0.41, 0.46, 0.49])
def test_the_chosen_level_keeps_its_counters_in_the_outline(gap_ink):
    # a gap just at a tried level closes the bitmap by a hairline the curves may smooth away;
    # the level chosen must leave the counter in the outline too (what FreeType fills by)
    img = _ring(gap_ink)
    level = tracer.level_for("O", img)
    assert tracer.counters(tracer.trace(img, level=level)) == tracer.bitmap_holes(img, level=level) == 1


def _w(hairline_ink: float) -> np.ndarray:
    """A 28×28 serif-style 'W': two full-ink downstrokes and two hairline upstrokes of `hairline_ink`
    (at 28 px a hairline thinner than a pixel is drawn so), each a line 1.2 px wide."""
    y, x = np.mgrid[:28, :28].astype(np.float32)
    img = np.zeros((28, 28), np.float32)
    strokes = (((4, 5), (9, 22), 1.0), ((9, 22), (14, 8), hairline_ink),
               ((14, 8), (19, 22), 1.0), ((19, 22), (24, 5), hairline_ink))
    for (x0, y0), (x1, y1), ink in strokes:
        d = np.array([x1 - x0, y1 - y0], np.float32)
        t = np.clip(((x - x0) * d[0] + (y - y0) * d[1]) / (d @ d), 0, 1)
        dist = np.hypot(x - (x0 + t * d[0]), y - (y0 + t * d[1]))
        img = np.maximum(img, np.where(dist <= (1.3 if ink == 1.0 else 0.6), ink, 0))
    return img


def test_a_glyph_whose_hairlines_are_faint_is_traced_in_one_piece():
    img = _w(0.3)
    assert tracer.parts(img) == 2                           # at half ink: two separate strokes, "\\ \\"
    assert tracer.parts(img, level=0.2) == 2                # and lower levels do not join them either
    big, level = tracer.prepare("W", img)
    outline = tracer.trace(img, big, level)
    assert tracer.pieces(outline) == 1 and tracer.counters(outline) == 0
    # the full strokes stay as they are, and the glyph does not turn bold: its traced area stays
    # within half as much again as its ink (a 1.2-pixel line at 0.3 ink cannot be drawn thinner
    # than the smoothing's own width)
    strong = tracer.upsampled(img) >= tracer.LEVEL
    assert (big[strong] >= tracer.LEVEL).all()
    assert (big >= tracer.LEVEL).sum() / tracer.UPSAMPLE ** 2 < 1.5 * img.sum()


def test_joining_leaves_whole_glyphs_haze_and_separate_dots_alone(images):
    for ch, img in images.items():                         # DejaVu Sans at 28 px is whole: nothing changes
        assert tracer.joined(ch, img) is not None
        assert np.array_equal(tracer.joined(ch, img), tracer.upsampled(img)), ch
    haze = _w(tracer.JOIN_FLOOR * 0.6)                      # strokes fainter than the floor are not raised
    assert tracer.parts(tracer.joined("W", haze)) == tracer.parts(haze) == 2
    colon = np.zeros((28, 28), np.float32)
    colon[6:10, 12:16] = colon[18:22, 12:16] = 1.0
    colon[10:18, 13:15] = 0.3                               # grey between the dots of a ':' is not a stroke
    assert tracer.parts(tracer.joined(":", colon)) == 2
    assert tracer.parts(tracer.joined("I", colon)) == 1     # where the design is one piece, it is joined


def test_a_join_that_would_close_a_bowl_the_design_lacks_is_not_taken():
    y, x = np.mgrid[:28, :28]
    r = np.hypot(x - 13.5, y - 13.5)
    img = ((r > 6.5) & (r < 9.5)).astype(np.float32)
    img[(r > 6.5) & (r < 9.5) & (abs(x - 13.5) < 3)] = 0.3  # two arcs joined by faint strokes top and bottom
    assert tracer.parts(img) == 2 and tracer.bitmap_holes(img) == 0
    as_c = tracer.joined("C", img)                          # joining would close a C into an O: refused
    assert tracer.parts(img, as_c) == 2 and tracer.bitmap_holes(img, as_c) == 0
    as_o = tracer.joined("O", img)                          # an O's bowl is its design: joined and closed
    assert tracer.parts(img, as_o) == 1 and tracer.bitmap_holes(img, as_o) == 1
