"""The glyph corpus: A–Z, digits and punctuation rendered from real TTF/OTF fonts into 28×28 grayscale.

By default the fonts matplotlib ships (DejaVu, STIX, Computer Modern), found on disk without
importing matplotlib. Each image is a glyph rendered large with Pillow, cropped to its ink,
scaled into a 20-pixel box and centred on its centre of mass (MNIST's recipe), with light seeded
augmentation: stroke weight, rotation, scale and shift. Same seed, same bytes.

Glyphs come in a fixed order, letters first (GLYPHS[:26] == LETTERS), and each glyph's images are
drawn after the previous glyph's from one seeded stream, so the A–Z part of the set is the same
bytes as the letters-only set the unconditional GAN was trained on. Since every image is scaled
to the same box, the set also keeps, per font, where each glyph sits (its ink box and advance in
cap heights from the baseline): a font builder needs that to tell '.' from a bullet.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from drumfont.atomic import write_atomic
from drumfont.errors import DatasetError
from drumfont.npzfile import FORMAT, TRAIN, VAL, npz_bytes, read_npz
from drumfont.validate import is_dir

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
PUNCTUATION = ".,!?-'&:()"
GLYPHS = LETTERS + DIGITS + PUNCTUATION   # 46 classes; index = label
SIZE = 28
BOX = 20           # the glyph's longer side, before augmentation (MNIST uses 20 of 28)
RENDER_PX = 64     # font size of the high-resolution render that is scaled down

# matplotlib's text faces: Sans/Serif/Mono in four cuts, STIX in four, Computer Modern roman,
# sans, typewriter and bold. Its symbol and size-variant files hold no Latin letters.
DEFAULT_FONT_FILES: tuple[str, ...] = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf",
)
MIN_FONTS = 10


@dataclass(frozen=True)
class Augment:
    """Ranges of the light augmentation; zero everywhere gives the plain centred glyph."""

    shift: float = 1.5          # pixels, uniform in [-shift, shift] per axis
    scale: float = 0.12         # relative, uniform in [1-scale, 1+scale]
    rotation: float = 8.0       # degrees, uniform in [-rotation, rotation]
    strokes: tuple[int, ...] = (-1, 0, 0, 1, 2)  # -1 thins (erosion), >0 Pillow stroke width


NO_AUGMENT = Augment(shift=0.0, scale=0.0, rotation=0.0, strokes=(0,))


@dataclass
class FontDataset:
    """Letter images with labels, split and the font each came from."""

    images: np.ndarray                 # (N, 28, 28) uint8, 0 background .. 255 ink
    letter: np.ndarray                 # (N,) int16, index into GLYPHS
    split: np.ndarray                  # (N,) uint8, TRAIN or VAL
    font: np.ndarray                   # (N,) int16, index into `fonts`
    fonts: list[str] = field(default_factory=list)
    glyphs: str = GLYPHS               # the label alphabet (a prefix of GLYPHS)
    layout: np.ndarray | None = None   # (fonts, glyphs, 5) float32 from glyph_layout; None if unknown

    def __len__(self) -> int:
        return len(self.images)

    def floats(self) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1], the models' input."""
        return self.images.astype(np.float32) / 255.0

    def subset(self, split: int) -> FontDataset:
        """Only the TRAIN or VAL images."""
        m = self.split == split
        return FontDataset(self.images[m], self.letter[m], self.split[m], self.font[m], list(self.fonts),
                           self.glyphs, self.layout)

    def first(self, classes: int) -> FontDataset:
        """Only the images of the first `classes` glyphs (26 = the letters-only set)."""
        if not 1 <= classes <= len(self.glyphs):
            raise DatasetError(f"the dataset holds {len(self.glyphs)} glyphs ({self.glyphs}), asked for {classes}")
        m = self.letter < classes
        layout = None if self.layout is None else self.layout[:, :classes]
        return FontDataset(self.images[m], self.letter[m], self.split[m], self.font[m], list(self.fonts),
                           self.glyphs[:classes], layout)

    def median_layout(self) -> dict[str, list[float]] | None:
        """Per glyph, the median over fonts of glyph_layout's (x0, y0, x1, y1, advance)."""
        if self.layout is None:
            return None
        med = np.median(self.layout, axis=0)
        return {ch: [round(float(v), 4) for v in med[i]] for i, ch in enumerate(self.glyphs)}

    def to_bytes(self) -> bytes:
        """The .npz bytes of this dataset."""
        meta = {"format": FORMAT, "kind": "fonts", "letters": self.glyphs, "fonts": list(self.fonts)}
        arrays = {"images": self.images.astype(np.uint8), "letter": self.letter.astype(np.int16),
                  "split": self.split.astype(np.uint8), "font": self.font.astype(np.int16),
                  "meta": np.array(json.dumps(meta, separators=(",", ":")))}
        if self.layout is not None:
            arrays["layout"] = self.layout.astype(np.float32)
        return npz_bytes(arrays)

    def save(self, path: str | os.PathLike, force: bool = False) -> Path:
        """Write atomically; refuse to overwrite unless `force`."""
        return write_atomic(path, self.to_bytes(), force=force)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FontDataset:
        """Read a fonts dataset file."""
        arrays, meta = read_npz(path, "fonts")
        try:
            images = arrays["images"]
            if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
                raise DatasetError(f"{path}: images must be (N, {SIZE}, {SIZE}), got {images.shape}")
            glyphs = str(meta.get("letters", LETTERS))  # files from before digits and punctuation hold A-Z
            if not GLYPHS.startswith(glyphs):
                raise DatasetError(f"{path}: unknown glyph set {glyphs!r}")
            return cls(images, arrays["letter"], arrays["split"], arrays["font"], list(meta.get("fonts", [])),
                       glyphs, arrays.get("layout"))
        except KeyError as exc:
            raise DatasetError(f"{path}: missing {exc} in dataset file") from None


def matplotlib_font_dir() -> Path:
    """matplotlib's bundled TTF folder, located without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        d = Path(loc) / "mpl-data" / "fonts" / "ttf"
        if d.is_dir():
            return d
    raise DatasetError("the letter set's default fonts and reference shapes are matplotlib's, which is not "
                       "installed: pip install 'drumfont[train]'")


def default_fonts() -> list[Path]:
    """The default font files (matplotlib's text faces that exist on this machine)."""
    d = matplotlib_font_dir()
    return [d / f for f in DEFAULT_FONT_FILES if (d / f).is_file()]


def find_fonts(folder: str | os.PathLike) -> list[Path]:
    """Every .ttf/.otf under `folder` (recursively) that draws 26 distinct capital letters."""
    folder = Path(folder)
    if not is_dir(folder):
        raise DatasetError(f"{folder}: no such font folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf") and p.is_file())
    usable = [p for p in files if _draws_alphabet(p)]
    return usable


# Faces that map A-Z to other symbols (Greek, dingbats): they pass the glyph test but draw no
# Latin letters. Matched against the lower-cased family name and file name.
SYMBOL_FACES: tuple[str, ...] = ("symbol", "dingbat", "d050000l", "math", "emoji", "wingding", "webding")
# latin_score below which a font is taken for a symbol font: Latin text faces score 12-26
# (thin monospace lowest), Greek-at-A-Z fonts about 10, brackets and dingbats about 1.
LATIN_MIN = 11


def _draws_alphabet(path: Path) -> bool:
    """True when the font has visible, pairwise distinct glyphs for A–Z (not a symbol font)."""

    try:
        font = ImageFont.truetype(str(path), 32)
    except OSError:
        return False
    family = (font.getname()[0] or "").lower() + " " + path.name.lower()
    if any(s in family for s in SYMBOL_FACES):
        return False
    masks = set()
    for ch in LETTERS:
        img = _render_glyph(font, ch, 0)
        if img is None:
            return False
        masks.add(img.tobytes() + bytes(img.size))
    missing = _render_glyph(font, "\U000f0000", 0)  # the .notdef box many fonts draw for gaps
    if missing is not None and missing.tobytes() + bytes(missing.size) in masks:
        return False
    return len(masks) == len(LETTERS) and latin_score(ImageFont.truetype(str(path), RENDER_PX)) >= LATIN_MIN


@lru_cache(maxsize=1)
def _templates() -> np.ndarray:
    """DejaVu Sans A-Z, centred and normalised: the reference shapes of latin_score."""

    font = ImageFont.truetype(str(matplotlib_font_dir() / "DejaVuSans.ttf"), RENDER_PX)
    return _normalise(np.stack([render_letter(font, ch) for ch in LETTERS]))


def _normalise(x: np.ndarray) -> np.ndarray:
    x = x.reshape(len(x), -1).astype(np.float64)
    x -= x.mean(1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def latin_score(font) -> int:
    """How many of the font's A-Z glyphs are closest (by correlation) to the same letter of
    DejaVu Sans: about 26 for a Latin text face, a handful for symbol fonts that put brackets,
    Greek or dingbats at those code points."""
    imgs = _normalise(np.stack([render_letter(font, ch) for ch in LETTERS]))
    return int((np.argmax(imgs @ _templates().T, axis=1) == np.arange(26)).sum())


def _render_glyph(font, ch: str, stroke: int):
    """The glyph's ink, cropped, as an 'L' image; None when it draws nothing."""

    pad = 8 + 2 * max(stroke, 0)
    l, t, r, b = font.getbbox(ch, stroke_width=max(stroke, 0))
    w, h = max(r - l, 1) + 2 * pad, max(b - t, 1) + 2 * pad
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((pad - l, pad - t), ch, font=font, fill=255,
                             stroke_width=max(stroke, 0), stroke_fill=255)
    if stroke < 0:
        img = img.filter(ImageFilter.MinFilter(3))
    box = img.getbbox()
    return img.crop(box) if box else None


def render_letter(font, ch: str, rng: np.random.Generator | None = None,
                  aug: Augment = NO_AUGMENT) -> np.ndarray:
    """One 28×28 uint8 image of `ch` in `font` (a Pillow FreeTypeFont), augmented by `aug`."""

    rng = rng or np.random.default_rng(0)
    stroke = int(aug.strokes[rng.integers(len(aug.strokes))])
    glyph = _render_glyph(font, ch, stroke)
    if glyph is None and stroke != 0:
        glyph = _render_glyph(font, ch, 0)
    if glyph is None:
        raise DatasetError(f"font {getattr(font, 'path', font)} draws nothing for {ch!r}")
    scale = 1.0 + rng.uniform(-aug.scale, aug.scale) if aug.scale else 1.0
    angle = rng.uniform(-aug.rotation, aug.rotation) if aug.rotation else 0.0
    if angle:
        glyph = glyph.rotate(angle, resample=Image.BICUBIC, expand=True)
        glyph = glyph.crop(glyph.getbbox() or (0, 0, glyph.width, glyph.height))
    side = BOX * scale / max(glyph.size)
    w, h = max(1, round(glyph.width * side)), max(1, round(glyph.height * side))
    small = np.asarray(glyph.resize((w, h), Image.LANCZOS), dtype=np.float32)
    # centre of mass to the image centre, as MNIST does, then the random shift
    ys, xs = np.mgrid[0:h, 0:w]
    mass = small.sum() or 1.0
    cy, cx = (ys * small).sum() / mass, (xs * small).sum() / mass
    dy, dx = (rng.uniform(-aug.shift, aug.shift, 2) if aug.shift else (0.0, 0.0))
    top = int(round(SIZE / 2 - cy + dy - 0.5))
    left = int(round(SIZE / 2 - cx + dx - 0.5))
    top = min(max(top, 0), SIZE - h) if h <= SIZE else (SIZE - h) // 2
    left = min(max(left, 0), SIZE - w) if w <= SIZE else (SIZE - w) // 2
    canvas = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, SIZE), min(left + w, SIZE)
    canvas[y0:y1, x0:x1] = small[y0 - top:y1 - top, x0 - left:x1 - left]
    return np.clip(canvas, 0, 255).round().astype(np.uint8)


def glyph_layout(font, glyphs: str = GLYPHS) -> np.ndarray:
    """(len(glyphs), 5) float32: each glyph's ink box x0, y0, x1, y1 and its advance, in cap
    heights (the ink height of 'H'), y up from the baseline, x from the pen position. Measured on
    the rendered ink: Pillow's getbbox keeps the origin inside the box ('.' would reach the cap)."""

    size = int(font.size)
    out = np.zeros((len(glyphs) + 1, 5), np.float32)
    for i, ch in enumerate(glyphs + "H"):
        img = Image.new("L", (4 * size, 4 * size), 0)
        ImageDraw.Draw(img).text((size, 3 * size), ch, font=font, fill=255, anchor="ls")
        l, t, r, b = img.getbbox() or (size, 3 * size, size, 3 * size)
        out[i] = (l - size, 3 * size - b, r - size, 3 * size - t, font.getlength(ch))
    cap = out[-1, 3] - out[-1, 1]
    return out[:-1] / max(cap, 1.0)


def build_fonts(fonts: list[Path] | None = None, seed: int = 0, train_per_letter: int = 200,
                val_per_letter: int = 60, aug: Augment = Augment(), min_fonts: int = MIN_FONTS,
                glyphs: str = GLYPHS) -> FontDataset:
    """Render the dataset: per glyph, `train_per_letter` + `val_per_letter` images that cycle
    through the fonts in a seeded order, so every font appears about equally in both splits."""

    fonts = list(fonts) if fonts is not None else default_fonts()
    if len(fonts) < min_fonts:
        raise DatasetError(f"need at least {min_fonts} fonts that draw A-Z, found {len(fonts)}")
    loaded = []
    for p in fonts:
        try:
            loaded.append(ImageFont.truetype(str(p), RENDER_PX))
        except OSError as exc:
            raise DatasetError(f"{p}: cannot load font ({exc})") from None
    if not GLYPHS.startswith(glyphs):
        raise DatasetError(f"glyphs must be a prefix of {GLYPHS!r}")
    rng = np.random.default_rng(seed)
    n = train_per_letter + val_per_letter
    n_glyphs = len(glyphs)
    images = np.zeros((n_glyphs * n, SIZE, SIZE), np.uint8)
    letter = np.repeat(np.arange(n_glyphs, dtype=np.int16), n)
    split = np.tile(np.r_[np.full(train_per_letter, TRAIN), np.full(val_per_letter, VAL)].astype(np.uint8), n_glyphs)
    font_idx = np.zeros(n_glyphs * n, np.int16)
    for li, ch in enumerate(glyphs):
        for part, count in ((0, train_per_letter), (train_per_letter, val_per_letter)):
            order = np.resize(rng.permutation(len(loaded)), count)
            for j, fi in enumerate(order):
                k = li * n + part + j
                font_idx[k] = fi
                images[k] = render_letter(loaded[fi], ch, rng, aug)
    layout = np.stack([glyph_layout(f, glyphs) for f in loaded])
    return FontDataset(images, letter, split, font_idx, [p.name for p in fonts], glyphs, layout)
