"""letters/raster.py against the libraries it replaces (scipy.ndimage, scikit-image), on the
glyph images the shipped GAN draws and on the awkward cases: a font traced with either is the same
font (the fonts of seeds 0-4 were compared table by table: only the head's timestamp differs)."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.letters import engine, raster, trace
from drumfont.letters.data import GLYPHS

ndimage = pytest.importorskip("scipy.ndimage")
measure = pytest.importorskip("skimage.measure")


@pytest.fixture(scope="module")
def glyphs() -> np.ndarray:
    g, _ = engine.conditional_generator(None)
    return np.concatenate([engine.draw_glyphs(GLYPHS[:g.cfg.classes], engine.style_latent(s, None, 0.7))
                           for s in (0, 3)]).astype(np.float64)


def test_smoothing_upsampling_and_the_disk_maximum(glyphs):
    yy, xx = np.mgrid[-3:4, -3:4]
    for image in glyphs[::5]:
        padded = np.pad(image, 2)
        smooth = raster.gaussian_filter(padded, trace.SMOOTH_SIGMA)
        np.testing.assert_allclose(smooth, ndimage.gaussian_filter(padded, trace.SMOOTH_SIGMA), rtol=0, atol=1e-14)
        big = raster.zoom(smooth, trace.UPSAMPLE)
        want = ndimage.zoom(smooth, trace.UPSAMPLE, order=3, grid_mode=True, mode="grid-constant")
        np.testing.assert_allclose(big, want, rtol=0, atol=1e-13)
        np.testing.assert_array_equal(raster.disk_maximum(big, 3), ndimage.maximum_filter(big, footprint=xx ** 2 + yy ** 2 <= 9))
        np.testing.assert_allclose(raster.gaussian_filter(big, 1.5), ndimage.gaussian_filter(big, 1.5), rtol=0, atol=1e-14)


def test_pieces_holes_contours_and_polygons_are_the_libraries(glyphs):
    for image in glyphs[::3]:
        big = trace.upsampled(image)
        for level in (0.5, 0.3):
            ink = big >= level
            labels, n = raster.label(ink)
            want, m = ndimage.label(ink)
            assert n == m
            assert sorted(raster.sizes(labels, n)) == sorted(ndimage.sum(np.ones_like(want), want, range(1, m + 1)))
            np.testing.assert_array_equal(raster.fill_holes(ink), ndimage.binary_fill_holes(ink))
            got, ref = raster.find_contours(big, level), measure.find_contours(big, level)
            assert len(got) == len(ref)
            for a, b in zip(got, ref):
                np.testing.assert_array_equal(a, b)
                np.testing.assert_array_equal(raster.approximate_polygon(a, 0.7), measure.approximate_polygon(b, 0.7))


def test_the_awkward_cases():
    # saddles (both diagonals), samples exactly at the level, a contour touching the edge, holes
    a = np.array([[0, 1, 0, 0, 0.5], [1, 0, 1, 0.5, 0.5], [0, 1, 0, 0, 1], [0, 0.5, 1, 1, 1], [1, 0, 0, 1, 0]], float)
    for level in (0.5, 0.25, 0.75, 1.0, 0.0):
        got, ref = raster.find_contours(a, level), measure.find_contours(a, level)
        assert len(got) == len(ref)
        for x, y in zip(got, ref):
            np.testing.assert_array_equal(x, y)
    ring = np.zeros((9, 9), bool)
    ring[2:7, 2:7] = True
    ring[4, 4] = False
    np.testing.assert_array_equal(raster.fill_holes(ring), ndimage.binary_fill_holes(ring))
    assert raster.label(np.eye(4, dtype=bool))[1] == ndimage.label(np.eye(4, dtype=bool))[1] == 4  # 4-connected
    assert raster.label(np.zeros((3, 3), bool))[1] == 0
    line = np.array([[0, 0], [1, 0.1], [2, -0.1], [3, 5], [4, 0]], float)
    for tol in (0, 0.05, 0.5, 10):
        np.testing.assert_array_equal(raster.approximate_polygon(line, tol), measure.approximate_polygon(line, tol))
