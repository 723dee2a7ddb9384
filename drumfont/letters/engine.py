"""The letter GAN's generator API, the loaders of the letter models, and glyph-cell images.

`style_latent` / `style_from_image` give one z (a style), `draw_glyphs` the conditional
generator's 28×28 images of any glyphs in that style, `generator_info` what a font records about
the model; glyphs.py and font.py build typefaces from these alone. `render_text` draws a word as
raw 28-pixel cells, `render_grid` a sample sheet of the unconditional generator. None does I/O
beyond loading the presets, so the TUI can call them from a worker thread; `write_image` is the
atomic file writer the CLI uses (PNG or JPEG, as the file's suffix says). The models run on numpy
(letters/nets.py): nothing here imports torch; a style seed draws the latent torch's generator drew
for it (nn/torch_random.py), so seeds keep their styles, and a sample sheet draws from
`numpy.random.default_rng(seed)`.
"""

from __future__ import annotations

import hashlib
import io
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from drumfont.atomic import check_writable, write_atomic
from drumfont.errors import DrumfontError
from drumfont.letters.data import BOX, GLYPHS, SIZE
from drumfont.letters.nets import ClassifierConfig, ClassifierNet, GanConfig, GeneratorNet, fit_latent
from drumfont.nn import preset as presets
from drumfont.paths import preset_path
from drumfont.validate import open_image, output_format

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GAN_PRESET = "letters_gan.safetensors"
CGAN_PRESET = "letters_cgan.safetensors"
CLASSIFIER_PRESET = "letter_classifier.safetensors"
MAX_SCALE = 64
MAX_CHARS = 200
INVERT_STEPS = 200   # Adam steps of style_from_image
RASTER_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95


def load_generator(path: str | os.PathLike) -> tuple[GeneratorNet, dict]:
    """(the generator on numpy, checkpoint dict) from a 'letters_gan' preset (or .pt checkpoint)."""
    blob = presets.load(path, "letters_gan")
    cfg = presets.make_config(GanConfig, blob["config"], str(path))
    return presets.build(path, lambda: GeneratorNet(cfg, blob["state_dict"])), blob


def load_classifier(path: str | os.PathLike | None = None) -> tuple[ClassifierNet, dict]:
    """(the letter classifier on numpy, checkpoint dict); the shipped preset by default."""
    path = path or preset_path(CLASSIFIER_PRESET)
    blob = presets.load(path, "letter_classifier")
    cfg = presets.make_config(ClassifierConfig, blob["config"], str(path))
    return presets.build(path, lambda: ClassifierNet(cfg, blob["state_dict"])), blob


def _cached_generator(path: str):
    """The loaded generator, reused while the file is unchanged (the TUI renders often)."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = 0  # load_generator will report the missing file
    return _load_cached(path, mtime)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: int):
    g, blob = load_generator(path)
    return g, blob.get("extras", {})


def conditional_generator(preset: str | os.PathLike | None = None):
    """(conditional Generator, its checkpoint extras), cached while the file is unchanged."""
    path = str(preset or preset_path(CGAN_PRESET))
    g, extras = _cached_generator(path)
    if not g.cfg.conditional:
        raise DrumfontError(f"{path}: needs a conditional generator (like letters_cgan.pt), this one is unconditional")
    return g, extras


def drawable(preset: str | os.PathLike | None = None) -> str:
    """The glyphs the conditional generator draws: A-Z, then digits and punctuation if it learned them."""
    return GLYPHS[:conditional_generator(preset)[0].cfg.classes]


def check_text(text: str, glyphs: str = LETTERS, newlines: bool = False) -> str:
    """Upper-cased text, or a DrumfontError naming every character outside `glyphs`, space
    (and newline when `newlines`)."""
    up = text.upper()
    extra = " \n" if newlines else " "
    bad = sorted({c for c in up if c not in extra and c not in glyphs})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise DrumfontError(f"cannot draw {shown}: only {_describe(glyphs)}, spaces{' and line breaks' if newlines else ''}")
    if not up.strip():
        raise DrumfontError("nothing to draw: give at least one letter")
    if len(up) > MAX_CHARS:
        raise DrumfontError(f"text too long ({len(up)} characters, at most {MAX_CHARS})")
    return up


def _describe(glyphs: str) -> str:
    if glyphs == LETTERS:
        return "letters A-Z"
    return "letters A-Z, digits 0-9, " + " ".join(glyphs[36:])


def style_latent(seed: int, preset: str | os.PathLike | None = None, truncation: float = 1.0):
    """The style of `seed`: one latent (1, latent_dim) for every glyph. `truncation` < 1 pulls z
    towards the mean (the truncation trick of BigGAN, Brock et al. 2019), trading variety between
    seeds for typical glyphs; how far pays is measured in reports/README.md (too far reads worse)."""
    if not 0.0 < truncation <= 2.0:
        raise DrumfontError(f"truncation must be in (0, 2], got {truncation}")
    g, _ = conditional_generator(preset)
    return g.seeded_latent(seed) * np.float32(truncation)


def draw_glyphs(glyphs: str, latent, preset: str | os.PathLike | None = None) -> np.ndarray:
    """(len(glyphs), 28, 28) float32 ink in [0, 1]: every glyph drawn from the one latent."""
    g, _ = conditional_generator(preset)
    known = GLYPHS[:g.cfg.classes]
    bad = sorted({c for c in glyphs if c not in known})
    if bad:
        raise DrumfontError(f"the generator cannot draw {', '.join(repr(c) for c in bad)}")
    labels = np.array([known.index(c) for c in glyphs], np.int64)
    return g(np.repeat(np.asarray(latent, np.float32).reshape(1, -1), len(glyphs), axis=0), labels)


def generator_info(preset: str | os.PathLike | None = None) -> dict:
    """What a font records about its model: file name, SHA-256 prefix, glyphs, and the median
    glyph layout of the training fonts (None for presets trained before it was recorded)."""

    path = Path(preset or preset_path(CGAN_PRESET))
    g, extras = conditional_generator(path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise DrumfontError(f"{path}: cannot read ({exc.strerror})") from None
    return {"name": path.name, "sha256": digest, "glyphs": GLYPHS[:g.cfg.classes],
            "layout": extras.get("layout"), "epochs": extras.get("epochs")}


def glyph_cells(image) -> list[np.ndarray]:
    """A text image (dark ink on light or light on dark, any size) -> one 28×28 float cell per
    glyph, split at blank columns and normalised as the training set is (longer side 20 px,
    centre of mass in the middle)."""

    a = np.asarray(image.convert("L"), np.float32) / 255.0
    if a.mean() > 0.5:  # dark letters on a light page
        a = 1.0 - a
    ink = a > 0.5
    cols = np.flatnonzero(ink.any(0))
    if not len(cols):
        raise DrumfontError("no glyph found in the image")
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    cells = []
    for run in runs:
        piece = a[:, run[0]:run[-1] + 1]
        rows = np.flatnonzero((piece > 0.5).any(1))
        piece = piece[rows[0]:rows[-1] + 1]
        if piece.size < 4:
            continue
        side = BOX / max(piece.shape)
        h, w = max(1, round(piece.shape[0] * side)), max(1, round(piece.shape[1] * side))
        small = np.asarray(Image.fromarray(piece * 255).convert("L").resize((w, h), Image.LANCZOS), np.float32) / 255
        ys, xs = np.mgrid[0:h, 0:w]
        m = small.sum() or 1.0
        top = int(np.clip(round(SIZE / 2 - (ys * small).sum() / m - 0.5), 0, SIZE - h))
        left = int(np.clip(round(SIZE / 2 - (xs * small).sum() / m - 0.5), 0, SIZE - w))
        cell = np.zeros((SIZE, SIZE), np.float32)
        cell[top:top + h, left:left + w] = small
        cells.append(cell)
    return cells


def _ink_image(im):
    """The image whose brightness (or darkness) is the ink: the alpha channel of a render on a
    transparent background, else the image itself."""
    if "A" in im.getbands() or "transparency" in im.info:
        alpha = im.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] < 255:
            return alpha
    return im


def style_from_image(path: str | os.PathLike, preset: str | os.PathLike | None = None, seed: int = 0):
    """The latent whose glyphs look most like the glyphs of a PNG (a word drawn by `drumfont
    letters`, a scan, a glyph of a font): each glyph is read by the letter classifier, then one
    z shared by all is fitted by Adam on the pixel error (GAN inversion)."""
    with open_image(path) as im:  # capped in bytes and pixels, checked from the header
        cells = glyph_cells(_ink_image(im))
    g, _ = conditional_generator(preset)
    clf, _ = load_classifier()
    x = np.stack(cells).astype(np.float32)
    labels, _, _ = clf.classify(x, classes=g.cfg.classes)
    return fit_latent(g, x, labels, g.seeded_latent(seed), INVERT_STEPS)


def _to_image(pixels: np.ndarray, scale: int):

    if not 1 <= scale <= MAX_SCALE:
        raise DrumfontError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    img = Image.fromarray(np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8), mode="L")
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST)


def render_text(text: str, seed: int = 0, scale: int = 4, preset: str | os.PathLike | None = None):
    """The text as a Pillow 'L' image (white letters on black), 28×scale pixels high; a space
    is an empty cell. One z is shared by every letter, so the word has one style."""
    up = check_text(text, drawable(preset))
    idx = [i for i, c in enumerate(up) if c != " "]
    glyphs = draw_glyphs("".join(up[i] for i in idx), style_latent(seed, preset), preset)   # (n, 28, 28)
    cells = np.zeros((len(up), 28, 28), np.float32)
    cells[idx] = glyphs
    return _to_image(np.concatenate(list(cells), axis=1), scale)


def render_grid(rows: int = 8, cols: int = 13, seed: int = 0, scale: int = 2,
                preset: str | os.PathLike | None = None):
    """A rows×cols sheet of samples from the unconditional generator, as a Pillow image."""
    if not (1 <= rows <= 64 and 1 <= cols <= 64):
        raise DrumfontError("grid rows and columns must be between 1 and 64")
    g, _ = _cached_generator(str(preset or preset_path(GAN_PRESET)))
    # a conditional preset: cycle through the alphabet
    labels = np.arange(rows * cols) % 26 if g.cfg.conditional else None
    x = g(g.latent(rows * cols, np.random.default_rng(seed)), labels)
    x = x.reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    return _to_image(x, scale)


def image_bytes(image, fmt: str = "PNG") -> bytes:
    """PNG or JPEG bytes of a Pillow image (JPEG holds no alpha: an RGBA image must be opaque)."""
    buf = io.BytesIO()
    if fmt == "JPEG":
        if image.mode in ("RGBA", "LA") and image.getchannel("A").getextrema()[0] < 255:
            raise DrumfontError("JPEG holds no transparency: give the background a colour or write a .png")
        image = image.convert("L" if image.mode in ("L", "LA", "1") else "RGB")
        image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    else:
        image.save(buf, format="PNG")
    return buf.getvalue()


def png_bytes(image) -> bytes:
    """PNG bytes of a Pillow image."""
    return image_bytes(image, "PNG")


def image_target(path: str | os.PathLike, force: bool = False, what: str = "a raster image") -> str:
    """The raster format ("PNG" or "JPEG") a target's suffix names, checked with the target
    itself before any work."""
    fmt = output_format(path, RASTER_FORMATS, what)
    check_writable(path, force)
    return fmt


def write_image(image, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a Pillow image atomically as the suffix says (.png, .jpg), refusing to overwrite unless `force`."""
    return write_atomic(path, image_bytes(image, output_format(path, RASTER_FORMATS, "a raster image")), force=force)


def write_png(image, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a Pillow image as PNG, atomically, refusing to overwrite unless `force`."""
    return write_atomic(path, png_bytes(image), force=force)


def write_text_png(text: str, path: str | os.PathLike, seed: int = 0, scale: int = 4,
                   force: bool = False, preset: str | os.PathLike | None = None) -> Path:
    """render_text + write_image (PNG or JPEG by the suffix), checking the target before any work."""
    image_target(path, force, "the raw pixel cells (--scale)")
    return write_image(render_text(text, seed, scale, preset), path, force)
