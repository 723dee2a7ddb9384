"""Glyph images -> smooth closed outlines: the vectoriser behind `drumfont font`.

A 28×28 GAN glyph is smoothed with a Gaussian and upsampled (cubic spline, ×UPSAMPLE), then traced
with marching squares (raster.find_contours, as scikit-image's) at half ink (down to 0.3 for a bowl the GAN
drew with a faint stroke: level_for; a glyph whose hairlines fall under half ink, as W's do, has
them lifted first: joined). Each contour is thinned by
Douglas–Peucker (approximate_polygon), and the kept points become cubic Bézier curves through a
Catmull-Rom fit, except at corners (a turn sharper than CORNER_DEG), where the curve stops and
the next segment starts, so the stems of E or the apex of A stay sharp. skia-pathops then
resolves overlaps and sets the winding from the even-odd nesting of the contours: outer
contours counter-clockwise, counters clockwise (the PostScript/CFF rule), whatever direction
marching squares walked. Coordinates stay in image pixels (x right, y down) here; font.py maps
them to font units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pathops

from drumfont.letters import raster

UPSAMPLE = 6          # 28 px -> 168 px before tracing
SMOOTH_SIGMA = 0.7    # Gaussian sigma in original pixels: rounds the GAN's pixel steps
LEVEL = 0.5           # the ink threshold the contour follows
# Lower levels tried, in turn, for a glyph whose design has counters the LEVEL contour leaves
# open (level_for). At 28 px the thin fonts of the training set draw hairlines below half ink,
# and the GAN copies them: of the 20 training fonts' 240 glyphs with bowls, 40 (STIX, Computer
# Modern) lose a counter at 0.5, 5 at a floor of 0.35, none at 0.3, the floor chosen (0.25 closes
# no more). A lowered glyph's ink grows by 24 % on average there. Figures:
# benchmarks/measure_counter_levels.py (reports/README.md, "GAN typeface").
COUNTER_LEVELS = (0.45, 0.4, 0.35, 0.3)
# counters by design: the glyphs whose bowls are closed in all 20 training fonts
DESIGN_COUNTERS = {"A": 1, "B": 2, "D": 1, "O": 1, "P": 1, "Q": 1, "R": 1, "0": 1, "4": 1, "6": 1, "8": 2, "9": 1}
# Connected pieces by design (1 for every other glyph). At 28 px the hairlines of the thin and
# high-contrast training fonts (STIX, Computer Modern, DejaVu Serif Italic) are thinner than a
# pixel, so they are drawn with under half ink: W is the widest capital and is shrunk the most to
# fit the 20-pixel box, and 7 of the 20 fonts' W fall apart at half ink (68 of the 920 glyphs in
# all). The GAN copies the faint hairlines: its W is in pieces in each of seeds 0-9 and its M in 9
# (74 of 460 glyphs), which the half-ink trace drew as "\\ \\". `joined` raises each faint stroke
# by its own peak instead.
DESIGN_PARTS = {"!": 2, "?": 2, ":": 2}
JOIN_RADIUS = 0.5     # original px: the neighbourhood whose brightest ink is a stroke's own peak
JOIN_SMOOTH = 0.25    # original px: the peak map is blurred so that no seam shows where it changes hands
JOIN_GAINS = (0.6, 0.7, 0.8, 0.9, 1.0)  # tried mildest first: a stroke of peak p < gain is scaled by gain / p
JOIN_FLOOR = 0.15     # no stroke fainter than this is raised: grey haze stays haze
# Figures (python benchmarks/measure_stroke_joins.py): 73 of the GAN's 74 broken glyphs join
# (seeds 0-9, truncation 0.7; left: one '&') and 65 of the training fonts' 68 (left: two '&' and
# a dotted mono 0, two pieces by design), with no counter gained; the joined training glyphs
# hold 0.98 of the font's true ink area (median; glyphs whole at half ink: 0.98 too). Tracing at
# a lower level instead (first of 0.45-0.3 that joins) joins 60 of the GAN's 74 and closes 2
# false counters; raising every stroke fully (gain 1 alone) draws them bold (1.73 of true ink).
TOLERANCE = 0.12      # Douglas-Peucker tolerance, original pixels
MIN_AREA = 1.5        # contours smaller than this (px², original) are specks, dropped,
MIN_SHARE = 0.03      # and so are those under this share of the glyph's largest contour
SLIVER = 0.25        # px²: contours this small after overlap removal are fitting artefacts
CORNER_DEG = 55.0     # a turn sharper than this is kept as a corner
TENSION = 1.0 / 6.0   # Catmull-Rom: control points at 1/6 of the neighbour chord


Point = tuple[float, float]
# one contour: a start point and cubic segments (c1, c2, end); closed back to the start
Contour = list[tuple[Point, Point, Point]]


@dataclass
class Outline:
    """A glyph's closed contours as cubic Béziers, in image pixels (x right, y down)."""

    contours: list[tuple[Point, Contour]]

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(xmin, ymin, xmax, ymax) of the curves' points, None when empty."""
        pts = [p for start, segs in self.contours for p in [start, *(q for seg in segs for q in seg)]]
        if not pts:
            return None
        a = np.asarray(pts)
        return float(a[:, 0].min()), float(a[:, 1].min()), float(a[:, 0].max()), float(a[:, 1].max())

    def draw(self, pen, transform=lambda x, y: (x, y)) -> None:
        """Draw onto a fontTools-style pen (moveTo / curveTo / closePath), mapping each point."""
        for start, segs in self.contours:
            pen.moveTo(transform(*start))
            for c1, c2, end in segs:
                pen.curveTo(transform(*c1), transform(*c2), transform(*end))
            pen.closePath()


def upsampled(image: np.ndarray) -> np.ndarray:
    """(28, 28) ink in [0, 1] -> (H, W) smoothed ink, padded by one blank pixel so every
    contour closes, upsampled ×UPSAMPLE (bicubic)."""
    img = raster.gaussian_filter(np.pad(np.asarray(image, np.float64), 2), SMOOTH_SIGMA)
    # a cubic spline of the smoothed image is smooth itself: no blur at the large scale needed
    return raster.zoom(img, UPSAMPLE)


def polygons(image: np.ndarray, big: np.ndarray | None = None, level: float = LEVEL) -> list[np.ndarray]:
    """The glyph's closed contours at ink `level` as simplified polygons (K, 2) of (x, y) in
    original pixels (`big`: the image's `upsampled`, when the caller has it already)."""

    big = upsampled(image) if big is None else big
    found = []
    for c in raster.find_contours(big, level):
        if len(c) < 4 or not np.allclose(c[0], c[-1]):
            continue
        # (row, col) at the upsampled scale -> (x, y) in original pixels, padding removed;
        # grid_mode zoom puts original pixel centres at (i + 0.5) * UPSAMPLE - 0.5
        xy = (c[:, ::-1] + 0.5) / UPSAMPLE - 0.5 - 2
        found.append((abs(signed_area(xy)), xy))
    if not found:
        return []
    floor = max(MIN_AREA, MIN_SHARE * max(a for a, _ in found))
    out = []
    for area, xy in found:
        if area < floor:
            continue
        # marching squares gives ~UPSAMPLE points per pixel; every third is plenty for DP
        poly = raster.approximate_polygon(np.vstack([xy[:-1:3], xy[:1]]), TOLERANCE)
        if len(poly) >= 4:
            out.append(poly[:-1])  # approximate_polygon keeps the closing point
    return out


def signed_area(poly: np.ndarray) -> float:
    """Shoelace area, positive when the points run counter-clockwise in a y-up frame."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def fit_curves(poly: np.ndarray) -> tuple[Point, Contour]:
    """A closed polygon -> cubic segments through its points (Catmull-Rom tangents), with
    straight segments on both sides of a corner."""
    n = len(poly)
    prev, nxt = np.roll(poly, 1, axis=0), np.roll(poly, -1, axis=0)
    a, b = poly - prev, nxt - poly
    cos = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    corner = cos < np.cos(np.radians(CORNER_DEG))
    tangent = (nxt - prev) * TENSION
    segs: Contour = []
    for i in range(n):
        j = (i + 1) % n
        p0, p1 = poly[i], poly[j]
        c1 = p0 + (tangent[i] if not corner[i] else (p1 - p0) / 3)
        c2 = p1 - (tangent[j] if not corner[j] else (p1 - p0) / 3)
        segs.append((tuple(c1), tuple(c2), tuple(p1)))
    return (float(poly[0][0]), float(poly[0][1])), [tuple(tuple(map(float, q)) for q in s) for s in segs]


def level_for(char: str, image: np.ndarray, big: np.ndarray | None = None) -> float:
    """The ink level to trace `char` at: LEVEL, unless its design has counters (DESIGN_COUNTERS)
    that the LEVEL contour leaves open; then the first of COUNTER_LEVELS at which exactly that
    many close, else the one closing the most without exceeding it (LEVEL if none closes more).
    A level counts only where the traced outline keeps the holes too: a bowl closed by a
    hairline can lose its counter when the curves smooth the neck away. Only glyphs with bowls
    go lower, so C, E or K cannot gain a counter from grey noise."""
    want = DESIGN_COUNTERS.get(char, 0)
    big = upsampled(image) if big is None else big
    best, best_n = LEVEL, bitmap_holes(image, big, LEVEL)
    if best_n >= want:
        return LEVEL
    for level in COUNTER_LEVELS:
        n = bitmap_holes(image, big, level)
        if best_n < n <= want and counters(trace(image, big, level)) == n:
            best, best_n = level, n
            if n == want:
                break
    return best


def parts(image: np.ndarray, big: np.ndarray | None = None, level: float = LEVEL) -> int:
    """Separate pieces of ink at `level` (4-connected, as marching squares splits a diagonal
    touch), leaving out specks the tracer drops too."""
    ink = (upsampled(image) if big is None else big) >= level
    labels, n = raster.label(ink)
    if not n:
        return 0
    areas = raster.sizes(labels, n) / UPSAMPLE ** 2
    return int((areas >= max(MIN_AREA, MIN_SHARE * areas.max())).sum())


def raised(big: np.ndarray, gain: float) -> np.ndarray:
    """The upsampled ink with every stroke whose peak p (the brightest ink within JOIN_RADIUS)
    is under `gain` scaled by gain / p (at most gain / JOIN_FLOOR): a faint hairline is then
    traced at a share of its own peak, near its true width, while full strokes stay as they are."""
    r = int(round(JOIN_RADIUS * UPSAMPLE))
    peak = raster.gaussian_filter(raster.disk_maximum(big, r), UPSAMPLE * JOIN_SMOOTH)
    return big * np.clip(gain / np.maximum(peak, 1e-9), 1.0, gain / JOIN_FLOOR)


def joined(char: str, image: np.ndarray, big: np.ndarray | None = None) -> np.ndarray:
    """The upsampled ink to trace `char` from: `big` itself, unless at half ink it falls into
    more pieces than its design has (DESIGN_PARTS); then `raised` by the mildest of JOIN_GAINS
    that joins it (else the one leaving the fewest pieces). A raise that splits the design's
    own pieces (the dots of ':') or opens a counter the design does not have is not taken."""
    big = upsampled(image) if big is None else big
    want = DESIGN_PARTS.get(char, 1)
    best, best_n = big, parts(image, big)
    if best_n <= want:
        return big
    holes = max(DESIGN_COUNTERS.get(char, 0), bitmap_holes(image, big))
    for gain in JOIN_GAINS:
        field = raised(big, gain)
        n = parts(image, field)
        if want <= n < best_n and bitmap_holes(image, field) <= holes:
            best, best_n = field, n
            if n == want:
                break
    return best


def prepare(char: str, image: np.ndarray) -> tuple[np.ndarray, float]:
    """(upsampled ink, level) to trace `char` at: faint strokes joined, then the level for its
    counters (what `drumfont font` traces)."""
    big = joined(char, image)
    return big, level_for(char, image, big)


def pieces(outline: Outline) -> int:
    """Outer contours of an outline: the glyph's separate pieces (see counters)."""
    return len(outline.contours) - counters(outline)


def trace(image: np.ndarray, big: np.ndarray | None = None, level: float = LEVEL) -> Outline:
    """A glyph image (28×28, ink in [0, 1]) -> its outline at ink `level`, overlaps removed
    and wound for CFF."""

    path = pathops.Path()
    path.fillType = pathops.FillType.EVEN_ODD  # nesting decides what is a counter
    for poly in polygons(image, big, level):
        start, segs = fit_curves(poly)
        path.moveTo(*start)
        for c1, c2, end in segs:
            path.cubicTo(*c1, *c2, *end)
        path.close()
    # image y runs down, so "clockwise" in the image is counter-clockwise once y is flipped
    clean = pathops.simplify(path, fix_winding=True, keep_starting_points=False, clockwise=True)
    # a curve fitted through a sharp turn can loop on itself; path ops split the loop off as a
    # sliver of a hundredth of a pixel, which is no part of the glyph
    return Outline([c for c in _contours(clean) if abs(signed_area(flatten(*c))) >= SLIVER])


def _contours(path) -> list[tuple[Point, Contour]]:
    """pathops segments -> our cubic contours (lines become straight cubics; quads are raised)."""
    out: list[tuple[Point, Contour]] = []
    for contour in path.contours:
        start, segs, cur = None, [], None
        for verb, pts in contour.segments:
            if verb == "moveTo":
                start = cur = pts[0]
            elif verb == "lineTo":
                p = pts[0]
                segs.append((_lerp(cur, p, 1 / 3), _lerp(cur, p, 2 / 3), p))
                cur = p
            elif verb == "curveTo":
                segs.append(tuple(pts[-3:]))
                cur = pts[-1]
            elif verb == "qCurveTo":  # pathops emits one quadratic per segment
                q, p = pts[0], pts[1]
                segs.append((_lerp(cur, q, 2 / 3), _lerp(p, q, 2 / 3), p))
                cur = p
            elif verb == "closePath" and start is not None and cur != start:
                segs.append((_lerp(cur, start, 1 / 3), _lerp(cur, start, 2 / 3), start))
        if start is not None and segs:
            out.append((tuple(start), [tuple(tuple(map(float, q)) for q in s) for s in segs]))
    return out


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def flatten(start: Point, segs: Contour, steps: int = 8) -> np.ndarray:
    """(K, 2) points along a contour's cubic segments (steps per segment), start included."""
    t = np.linspace(0, 1, steps + 1)[1:, None]
    out, p0 = [np.asarray(start, float)[None]], np.asarray(start, float)
    for c1, c2, p3 in segs:
        c1, c2, p3 = (np.asarray(p, float) for p in (c1, c2, p3))
        out.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t ** 2 * c2 + t ** 3 * p3)
        p0 = p3
    return np.vstack(out)


def counters(outline: Outline) -> int:
    """Contours wound against the outer ones: the glyph's holes, read from the winding alone
    (in the image frame an outer contour has negative shoelace area once y is flipped). The
    area is taken along the curves, not the on-curve points: a round dot may have only two."""
    n = 0
    for start, segs in outline.contours:
        pts = flatten(start, segs)
        pts[:, 1] *= -1  # to y up
        n += signed_area(pts) < 0
    return n


def bitmap_holes(image: np.ndarray, big: np.ndarray | None = None, level: float = LEVEL) -> int:
    """Holes in the smoothed glyph image thresholded at `level`: enclosed background regions
    (the truth the outline's counters are checked against)."""
    ink = (upsampled(image) if big is None else big) >= level
    background, n = raster.label(~ink)
    edge = set(np.unique(np.r_[background[0], background[-1], background[:, 0], background[:, -1]]))
    sizes = raster.sizes(background, n)
    # holes smaller than a speck are not counters the tracer keeps either
    holes = [s / UPSAMPLE ** 2 for i, s in enumerate(sizes, 1) if i not in edge]
    parts, k = raster.label(raster.fill_holes(ink))  # each outer contour's area, holes filled
    largest = float(raster.sizes(parts, k).max()) / UPSAMPLE ** 2 if k else 0.0
    return sum(1 for a in holes if a >= max(MIN_AREA, MIN_SHARE * largest))
