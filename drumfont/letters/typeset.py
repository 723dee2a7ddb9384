"""Text set in a GAN typeface: PNG through FreeType, or SVG straight from the outlines.

`layout` places each glyph in font units: proportional advances, the typeface's kerning pairs,
and a new line at every line break (line height = ascent - descent). `render_png` rasterises the
built font with Pillow's FreeType at any size (smooth, anti-aliased: the outlines, not upscaled
pixels); `render_svg` writes the same positions as vector paths. Colours are anything Pillow's
ImageColor reads, plus 'transparent' / 'none' for the background. A file holds what its suffix
says: .png, .jpg / .jpeg (opaque backgrounds only) or .svg (text_target).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from fontTools.pens.svgPathPen import SVGPathPen
from PIL import Image, ImageColor, ImageDraw, ImageFont

from drumfont.atomic import check_writable, write_atomic
from drumfont.errors import DrumfontError
from drumfont.letters.engine import RASTER_FORMATS, check_text, image_bytes
from drumfont.letters.font import ASCENT, DESCENT, GLYPH_NAMES, SPACE, UPM, Typeface, font_bytes
from drumfont.validate import RANGES, output_format

SIZE = RANGES["text_size"]         # pixels per em (letters --size checks it as it parses, before any tracing)
MAX_PIXELS = 40_000_000           # a PNG larger than this is refused (about 6000 × 6000)
MARGIN = 0.15                     # em, around the text

Colour = tuple[int, int, int, int]


def parse_colour(text: str, allow_transparent: bool = False) -> Colour | None:
    """'#ff8800', '#ff880080', 'white', 'rgb(0,0,0)' -> RGBA; 'transparent'/'none' -> None."""

    t = text.strip().lower()
    if t in ("transparent", "none"):
        if not allow_transparent:
            raise DrumfontError("the text colour cannot be transparent")
        return None
    try:
        c = ImageColor.getrgb(t)
    except ValueError:
        raise DrumfontError(f"colour {text!r}: use a name (white), #rrggbb, #rrggbbaa or 'transparent'") from None
    return (*c, 255) if len(c) == 3 else tuple(c)  # type: ignore[return-value]


def layout(face: Typeface, text: str) -> tuple[list[list[tuple[str, int]]], int]:
    """([[(char, x), ...] per line], widest line) in font units; spaces advance, others kern."""
    up = check_text(text, "".join(face.glyphs), newlines=True)
    lines, widest = [], 0
    for line in up.split("\n"):
        x, prev, placed = 0, None, []
        for ch in line:
            if ch == " ":
                x += SPACE
                prev = None
                continue
            if prev is not None:
                x += face.kerning.get((prev, ch), 0)
            placed.append((ch, x))
            x += face.glyphs[ch].advance
            prev = ch
        lines.append(placed)
        widest = max(widest, x)
    return lines, widest


def _canvas(face: Typeface, text: str, size: int) -> tuple[list, float, int, int]:
    size = SIZE.check(size, "size")
    lines, widest = layout(face, text)
    scale = size / UPM
    margin = round(MARGIN * size)
    width = round(widest * scale) + 2 * margin
    height = round(len(lines) * (ASCENT - DESCENT) * scale) + 2 * margin
    if width * height > MAX_PIXELS:
        raise DrumfontError(f"the image would be {width}×{height} pixels; use a smaller --size or shorter lines")
    return lines, scale, width, height


def render_png(face: Typeface, text: str, size: int = 96, fg: Colour = (255, 255, 255, 255),
               bg: Colour | None = (0, 0, 0, 255), font: bytes | None = None):
    """The text as a Pillow RGBA image, each glyph rasterised by FreeType from the font file."""

    lines, scale, width, height = _canvas(face, text, size)
    ft = ImageFont.truetype(io.BytesIO(font or font_bytes(face)), size, layout_engine=ImageFont.Layout.BASIC)
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    margin = round(MARGIN * size)
    for row, placed in enumerate(lines):
        baseline = margin + (row * (ASCENT - DESCENT) + ASCENT) * scale
        for ch, x in placed:
            draw.text((margin + x * scale, baseline), ch, font=ft, fill=255, anchor="ls")
    out = Image.new("RGBA", (width, height), bg or (0, 0, 0, 0))
    ink = Image.new("RGBA", (width, height), fg)
    ink.putalpha(mask.point(lambda v: v * fg[3] // 255))
    return Image.alpha_composite(out, ink)


def render_svg(face: Typeface, text: str, size: int = 96, fg: Colour = (255, 255, 255, 255),
               bg: Colour | None = (0, 0, 0, 255)) -> str:
    """The text as an SVG document: one path per glyph from the outlines, the same layout."""

    lines, scale, width, height = _canvas(face, text, size)
    margin = round(MARGIN * size)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f"<title>{_escape(face.name)}: {_escape(text)}</title>"]
    if bg is not None:
        parts.append(f'<rect width="100%" height="100%" fill="{_hex(bg)}" fill-opacity="{bg[3] / 255:.3g}"/>')
    parts.append(f'<g fill="{_hex(fg)}" fill-opacity="{fg[3] / 255:.3g}">')
    for row, placed in enumerate(lines):
        baseline = margin + (row * (ASCENT - DESCENT) + ASCENT) * scale
        for ch, x in placed:
            pen = SVGPathPen(None)
            face.glyphs[ch].draw(pen)
            d = pen.getCommands()
            if d:
                parts.append(f'<path id="{GLYPH_NAMES[ch]}-{row}-{x}" transform="translate({margin + x * scale:.2f} '
                             f'{baseline:.2f}) scale({scale:.5f} {-scale:.5f})" d="{d}"/>')
    parts.append("</g></svg>")
    return "\n".join(parts) + "\n"


def _hex(c: Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c[:3])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


TEXT_FORMATS = {**RASTER_FORMATS, ".svg": "SVG"}


def text_target(path: str | os.PathLike, force: bool = False, svg: bool = False, bg: str = "black") -> str:
    """The format ("PNG", "JPEG" or "SVG") the target's suffix names, checked before any work
    with the target itself: `svg` (the --svg flag) must agree with it, and JPEG needs an opaque
    background."""
    fmt = output_format(path, TEXT_FORMATS, "letters")
    if svg and fmt != "SVG":
        raise DrumfontError(f"{path}: --svg writes SVG, but the name says {fmt}; name the file .svg")
    bg_c = parse_colour(bg, allow_transparent=True)
    if fmt == "JPEG" and (bg_c is None or bg_c[3] < 255):
        raise DrumfontError(f"{path}: JPEG holds no transparency; give --bg an opaque colour or write a .png")
    check_writable(path, force)
    return fmt


def write_text(face: Typeface, text: str, path: str | os.PathLike, size: int = 96, fg: str = "white",
               bg: str = "black", svg: bool = False, force: bool = False) -> Path:
    """Render and write atomically as the suffix says: .svg (vector paths), .png or .jpg."""
    path = Path(path)
    fmt = text_target(path, force, svg, bg)
    fg_c, bg_c = parse_colour(fg), parse_colour(bg, allow_transparent=True)
    if fmt == "SVG":
        return write_atomic(path, render_svg(face, text, size, fg_c, bg_c).encode(), force=force)
    return write_atomic(path, image_bytes(render_png(face, text, size, fg_c, bg_c), fmt), force=force)
