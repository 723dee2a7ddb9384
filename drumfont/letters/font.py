"""A typeface from the letter GAN: one style (one z) traced into an OpenType font.

Every glyph the conditional generator learned is drawn from one latent, traced into cubic
outlines (glyphs.py), and placed where the training fonts put that glyph: the generator's
images are all scaled to one box, so the height, baseline offset and side bearings come from
the median layout of the training fonts recorded in the preset (layout, in cap heights). A glyph
is scaled by its layout height (by its width where it is small and wider than tall, as '-' is),
so every capital stands on the baseline and reaches the cap height. Advance = left bearing + traced width +
right bearing. Kerning pairs come from the outlines' horizontal distance profiles (kern_pairs).

fontTools' FontBuilder writes CFF (.otf) or TrueType (.ttf, cubics converted by cu2qu), and
either wrapped as a web font (.woff, or .woff2 through Brotli) as the file's suffix says; the
GAN, its file hash and the style's source (seed or image) go into the name table (version,
unique ID and description). Lower-case code points map to the capitals.
"""

from __future__ import annotations

import importlib.util
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from PIL import Image, ImageDraw

from drumfont import __version__
from drumfont.atomic import check_writable, write_atomic
from drumfont.errors import DrumfontError
from drumfont.letters import trace as tracer
from drumfont.letters.engine import draw_glyphs, generator_info, style_from_image, style_latent
from drumfont.validate import output_format

UPM = 1000
CAP = 700                  # cap height in font units
ASCENT, DESCENT = 800, -200
SPACE = 290                # about the training fonts' space (0.42 cap heights)
TRUNCATION = 0.7          # default pull of a seed's z towards the mean (chosen by measurement, reports/README.md)
# suffix -> kind of file; the outlines are CFF unless the suffix (.ttf) or --ttf says TrueType
FONT_FORMATS = {".otf": "otf", ".ttf": "ttf", ".woff": "woff", ".woff2": "woff2"}
KERN_MIN = 15              # smaller adjustments are not worth a pair
KERN_PULL = 0.6            # share of the extra white space between a pair that kerning removes
KERN_MAX = 0.3 * CAP       # and never more than this
KERN_BAND = 20             # font units per row of the distance profiles
KERN_REACH = 3             # rows above and below a row that count as its neighbourhood

GLYPH_NAMES = {
    **{c: c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
    "7": "seven", "8": "eight", "9": "nine", ".": "period", ",": "comma", "!": "exclam",
    "?": "question", "-": "hyphen", "'": "quotesingle", "&": "ampersand", ":": "colon",
    "(": "parenleft", ")": "parenright",
}


@dataclass
class Glyph:
    """One placed glyph: its outline in font units (y up) and horizontal metrics."""

    char: str
    contours: list          # [(start, [(c1, c2, end), ...]), ...] in font units
    advance: int
    counters: int           # holes, read from the winding
    image_holes: int        # holes in the generator's image (what the counters should match)

    def draw(self, pen) -> None:
        """Onto a fontTools pen."""
        tracer.Outline(self.contours).draw(pen)


@dataclass
class Typeface:
    """A traced style, ready to become a font file or to set text."""

    name: str
    glyphs: dict[str, Glyph]
    kerning: dict[tuple[str, str], int]
    source: str                              # "seed 3" or "style of cover.png"
    gan: dict = field(default_factory=dict)  # generator_info of the preset

    @property
    def ps_name(self) -> str:
        """PostScript name: printable ASCII, no spaces, at most 63 characters."""
        cleaned = "".join(c for c in self.name if c.isascii() and c.isalnum() or c == "-")
        return (cleaned or "DrumfontGAN")[:55] + "-Regular"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 31 or not all(c.isascii() and (c.isalnum() or c in " -") for c in name):
        raise DrumfontError(f"font name {name!r}: use 1-31 ASCII letters, digits, spaces or hyphens")
    return name


def _layout(gan: dict, chars: str) -> dict[str, list[float]]:
    layout = gan.get("layout")
    if not layout or any(c not in layout for c in chars):
        raise DrumfontError(f"{gan.get('name')}: the preset records no glyph layout; retrain it with this "
                            "drumfont's `drumfont train gan --conditional --classes 46`")
    return layout


def place(outline: tracer.Outline, box: list[float]) -> tuple[list, int]:
    """Image-pixel outline -> (contours in font units, advance) for a layout box
    (x0, y0, x1, y1, advance) in cap heights."""
    b = outline.bounds()
    if b is None:
        return [], round((box[4] if len(box) > 4 else 0.5) * CAP)
    xmin, ymin, xmax, ymax = b
    x0, y0, x1, y1, adv = box
    # capitals and digits by height, so they share the cap height; a small glyph wider than
    # tall ('-') by its width, since its thickness is the least certain of its sizes
    wide = (y1 - y0) < 0.5 and (x1 - x0) > (y1 - y0)
    s = ((x1 - x0) / max(xmax - xmin, 1e-6)) if wide else ((y1 - y0) / max(ymax - ymin, 1e-6))
    s *= CAP
    lsb, rsb = x0 * CAP, (adv - x1) * CAP

    def to_font(x: float, y: float) -> tuple[float, float]:
        return (round((x - xmin) * s + lsb), round((ymax - y) * s + y0 * CAP))

    contours = [(to_font(*start), [tuple(to_font(*p) for p in seg) for seg in segs])
                for start, segs in outline.contours]
    return contours, max(1, round(lsb + (xmax - xmin) * s + rsb))


def trace_style(latent, chars: str, gan: dict, preset=None) -> dict[str, Glyph]:
    """Every char drawn from one latent, traced and placed."""
    layout = _layout(gan, chars)
    images = draw_glyphs(chars, latent, preset)
    out = {}
    for ch, img in zip(chars, images):
        big, level = tracer.prepare(ch, img)
        outline = tracer.trace(img, big, level)
        contours, advance = place(outline, layout[ch])
        out[ch] = Glyph(ch, contours, advance, tracer.counters(outline), tracer.bitmap_holes(img, big, level))
    return out


def build_typeface(seed: int | None = 0, style_from: str | os.PathLike | None = None, name: str = "Drumfont GAN",
                   preset: str | os.PathLike | None = None, truncation: float = TRUNCATION) -> Typeface:
    """The GAN's style of `seed` (its z pulled towards the mean by `truncation`), or of the
    glyphs in the image `style_from`, as a Typeface."""
    name = _check_name(name)
    gan = generator_info(preset)
    if style_from is not None:
        latent, source = style_from_image(style_from, preset), f"style of {Path(style_from).name}"
    else:
        seed = int(seed or 0)
        latent = style_latent(seed, preset, truncation)
        source = f"seed {seed}" + (f" truncation {truncation:g}" if truncation != 1.0 else "")
    glyph_map = trace_style(latent, gan["glyphs"], gan, preset)
    return Typeface(name, glyph_map, kern_pairs(glyph_map), source, gan)


# --- kerning ---------------------------------------------------------------------------------

def _profiles(g: Glyph) -> tuple[np.ndarray, np.ndarray]:
    """Per KERN_BAND row from DESCENT to ASCENT: the leftmost and rightmost ink x (nan where
    the row holds no ink), from the outline rasterised at KERN_BAND / 4 units per pixel."""

    px = KERN_BAND / 4
    h = int((ASCENT - DESCENT) / px)
    w = int(max(g.advance, 1) / px) + 64
    img = Image.new("1", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for start, segs in g.contours:
        flat = [(x / px + 32, (ASCENT - y) / px) for x, y in tracer.flatten(start, segs)]
        if len(flat) >= 3:
            draw.polygon(flat, fill=1)
    ink = np.asarray(img, bool).reshape(h // 4, 4, w).any(1)  # (rows, w)
    cols = np.arange(w) * px - 32 * px
    left = np.where(ink.any(1), cols[np.argmax(ink, 1)], np.nan)
    right = np.where(ink.any(1), cols[w - 1 - np.argmax(ink[:, ::-1], 1)], np.nan)
    return left, right


def _reach(profile: np.ndarray, fn) -> np.ndarray:
    """Each row's extreme over its KERN_REACH neighbours, so a diagonal is met where it nears."""

    padded = np.pad(profile, KERN_REACH, constant_values=np.nan)
    stack = np.stack([padded[i:i + len(profile)] for i in range(2 * KERN_REACH + 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with no ink near them stay nan
        return fn(stack, axis=0)


def kern_pairs(glyph_map: dict[str, Glyph]) -> dict[tuple[str, str], int]:
    """Pairs whose outlines leave more white space between them than their side bearings do
    (AV, TA, LY, T.): the closest approach, over rows near each other, minus the bearings gap,
    is closed by KERN_PULL, never past KERN_MAX. Only tightening: loosening pairs is left out."""
    prof = {c: _profiles(g) for c, g in glyph_map.items() if g.contours}
    right_edge = {c: _reach(prof[c][1], np.nanmax) for c in prof}   # (rows,)
    left_edge = {c: _reach(prof[c][0], np.nanmin) for c in prof}
    bearings = {c: (np.nanmin(prof[c][0]), glyph_map[c].advance - np.nanmax(prof[c][1])) for c in prof}
    pairs = {}
    for a in prof:
        for b in prof:
            gap = (glyph_map[a].advance - right_edge[a]) + left_edge[b]      # per row, nan where either is empty
            if np.all(np.isnan(gap)):
                continue
            closest = np.nanmin(gap)
            extra = closest - (bearings[a][1] + bearings[b][0])
            k = -min(KERN_PULL * extra, KERN_MAX)
            k = int(round(k / 5) * 5)
            if k <= -KERN_MIN:
                pairs[(a, b)] = k
    return pairs


# --- the font file ---------------------------------------------------------------------------

def font_bytes(face: Typeface, ttf: bool = False, flavor: str | None = None) -> bytes:
    """The typeface as an OpenType file: CFF outlines (.otf) or TrueType (.ttf), as a bare
    OpenType file or a web font (`flavor` "woff" or "woff2")."""

    chars = [c for c in face.glyphs]
    order = [".notdef", "space", "uni00A0"] + [GLYPH_NAMES[c] for c in chars]
    cmap = {0x20: "space", 0xA0: "uni00A0"}
    for c in chars:
        cmap[ord(c)] = GLYPH_NAMES[c]
        if c.isalpha():
            cmap[ord(c.lower())] = GLYPH_NAMES[c]  # lower case types the capitals
    advances = {".notdef": 500, "space": SPACE, "uni00A0": SPACE}
    advances.update({GLYPH_NAMES[c]: g.advance for c, g in face.glyphs.items()})
    draws = {".notdef": _notdef, "space": None, "uni00A0": None}
    draws.update({GLYPH_NAMES[c]: g.draw for c, g in face.glyphs.items()})

    fb = FontBuilder(UPM, isTTF=ttf)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(cmap)
    if ttf:
        glyf = {}
        for gname in order:
            pen = TTGlyphPen(None)
            if draws[gname] is not None:
                # cu2qu keeps the cubic's direction; TrueType wants outer contours clockwise
                draws[gname](Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
            glyf[gname] = pen.glyph()
        fb.setupGlyf(glyf)
    else:
        charstrings = {}
        for gname in order:
            pen = T2CharStringPen(advances[gname], None)
            if draws[gname] is not None:
                draws[gname](pen)
            charstrings[gname] = pen.getCharString()
        fb.setupCFF(face.ps_name, {"FullName": face.name, "FamilyName": face.name, "Weight": "Regular"},
                    charstrings, {})
    fb.setupHorizontalMetrics({g: (advances[g], 0) for g in order})  # the glyph set needs hmtx; lsb below
    gs = fb.font.getGlyphSet()
    metrics = {}
    y_min, y_max = 0, 0
    for gname in order:
        bp = BoundsPen(gs)
        gs[gname].draw(bp)
        b = bp.bounds
        metrics[gname] = (advances[gname], int(np.floor(b[0])) if b else 0)
        if b:
            y_min, y_max = min(y_min, b[1]), max(y_max, b[3])
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT, lineGap=0)
    gan = face.gan
    version = f"Version 1.000; drumfont {__version__}; {gan.get('name')} {gan.get('sha256')}; {face.source}"
    fb.setupNameTable({
        "copyright": "Drawn by the drumfont letter GAN; free to use",
        "familyName": face.name,
        "styleName": "Regular",
        "uniqueFontIdentifier": f"drumfont:{face.ps_name}:{gan.get('sha256')}:{face.source.replace(' ', '-')}",
        "fullName": face.name,
        "psName": face.ps_name,
        "version": version,
        "description": (f"Glyphs drawn by drumfont's conditional letter GAN ({gan.get('name')}, sha256 "
                        f"{gan.get('sha256')}), one latent for every glyph: {face.source}; traced to "
                        "outlines and spaced and kerned from the outlines."),
        "designer": "drumfont letter GAN",
    }, mac=False)
    win_ascent, win_descent = max(ASCENT, int(np.ceil(y_max))), max(-DESCENT, int(np.ceil(-y_min)))
    fb.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, sTypoLineGap=0,
                usWinAscent=win_ascent, usWinDescent=win_descent, sCapHeight=CAP, sxHeight=CAP,
                achVendID="NONE", fsType=0, fsSelection=0x40 | 0x80, usWeightClass=400,
                ulCodePageRange1=1, version=4)
    fb.setupPost(underlinePosition=-100, underlineThickness=50)
    fb.font["head"].fontRevision = 1.0  # setupHead again would reset the creation time FontBuilder set
    if face.kerning:
        fb.addOpenTypeFeatures(_kern_fea(face.kerning))
    if ttf:
        fb.setupMaxp()
    font = fb.font
    font["OS/2"].recalcAvgCharWidth(font)
    font["OS/2"].recalcUnicodeRanges(font)
    font.flavor = flavor
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _notdef(pen) -> None:
    """The .notdef box: a rectangle with a rectangular counter."""
    for pts in (((50, 0), (450, 0), (450, CAP), (50, CAP)), ((100, 50), (100, CAP - 50), (400, CAP - 50), (400, 50))):
        pen.moveTo(pts[0])
        for p in pts[1:]:
            pen.lineTo(p)
        pen.closePath()


def _kern_fea(pairs: dict[tuple[str, str], int]) -> str:
    lines = [f"    pos {GLYPH_NAMES[a]} {GLYPH_NAMES[b]} {v};" for (a, b), v in sorted(pairs.items())]
    return "languagesystem DFLT dflt;\nlanguagesystem latn dflt;\n\nfeature kern {\n" + "\n".join(lines) + "\n} kern;\n"


def check_target(path: str | os.PathLike, force: bool = False) -> Path:
    """Refuse, before any work, a target that exists (without force) or whose folder cannot be
    written (the nearest existing folder above it is not writable)."""
    path = check_writable(path, force)
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise DrumfontError(f"cannot write {path}: {folder} is not a writable folder")
    return path


def font_target(path: str | os.PathLike, force: bool = False, ttf: bool | None = None) -> tuple[Path, bool, str | None]:
    """(path, TrueType outlines, WOFF flavour or None) of a font file to write, refused before any
    work: a suffix other than .otf, .ttf, .woff, .woff2; TrueType asked of an .otf; a .woff2
    without Brotli to compress it; or a target check_target refuses."""
    kind = output_format(path, FONT_FORMATS, "font")
    if kind == "otf" and ttf:
        raise DrumfontError(f"{path}: --ttf writes TrueType outlines, and .otf is for CFF ones; name the file .ttf")
    if kind == "woff2" and not any(importlib.util.find_spec(m) for m in ("brotli", "brotlicffi")):
        raise DrumfontError(f"{path}: WOFF2 is compressed with Brotli, which is not installed: pip install brotli "
                            "(or write .woff)")
    path = check_target(path, force)
    return path, kind == "ttf" or bool(ttf), kind if kind.startswith("woff") else None


def write_font(path: str | os.PathLike, seed: int | None = 0, style_from: str | os.PathLike | None = None,
               name: str = "Drumfont GAN", ttf: bool | None = None, force: bool = False,
               preset: str | os.PathLike | None = None, truncation: float = TRUNCATION) -> tuple[Path, Typeface]:
    """Build and write a font file atomically, as its suffix says (.otf, .ttf, .woff, .woff2);
    TrueType outlines for a .ttf, or for a web font when `ttf`."""
    path, ttf, flavor = font_target(path, force, ttf)
    face = build_typeface(seed, style_from, name, preset, truncation)
    return write_atomic(path, font_bytes(face, ttf, flavor), force=force), face
