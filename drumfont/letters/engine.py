"""The letter GAN's generator API, the loaders of the letter models, and glyph-cell images.

`style_latent` / `style_from_image` give one z (a style), `draw_glyphs` the conditional
generator's 28×28 images of any glyphs in that style, `generator_info` what a font records about
the model; glyphs.py and font.py build typefaces from these alone. `render_text` draws a word as
raw 28-pixel cells, `render_grid` a sample sheet of the unconditional generator. None does I/O
beyond loading the presets, so the TUI can call them from a worker thread; `write_image` is the
atomic file writer the CLI uses (PNG or JPEG, as the file's suffix says).
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
from drumfont.checkpoint import build_model, load_checkpoint
from drumfont.errors import DrumfontError
from drumfont.letters.data import BOX, GLYPHS, SIZE
from drumfont.paths import preset_path
from drumfont.validate import open_image, output_format

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GAN_PRESET = "letters_gan.pt"
CGAN_PRESET = "letters_cgan.pt"
CLASSIFIER_PRESET = "letter_classifier.pt"
MAX_SCALE = 64
MAX_CHARS = 200
INVERT_STEPS = 200   # Adam steps of style_from_image
RASTER_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95


def load_generator(path: str | os.PathLike):
    """(Generator in eval mode, checkpoint dict) from a 'letters_gan' checkpoint."""
    from drumfont.letters.gan import GanConfig, Generator  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    blob = load_checkpoint(path, "letters_gan")
    return build_model(blob, Generator, GanConfig, path), blob


def load_classifier(path: str | os.PathLike | None = None):
    """(LetterClassifier in eval mode, checkpoint dict); the shipped preset by default."""
    from drumfont.letters.classifier import ClassifierConfig, LetterClassifier  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    path = path or preset_path(CLASSIFIER_PRESET)
    blob = load_checkpoint(path, "letter_classifier")
    return build_model(blob, LetterClassifier, ClassifierConfig, path), blob


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
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    if not 0.0 < truncation <= 2.0:
        raise DrumfontError(f"truncation must be in (0, 2], got {truncation}")
    g, _ = conditional_generator(preset)
    return g.latent(1, torch.Generator().manual_seed(seed)) * truncation


def draw_glyphs(glyphs: str, latent, preset: str | os.PathLike | None = None) -> np.ndarray:
    """(len(glyphs), 28, 28) float32 ink in [0, 1]: every glyph drawn from the one latent."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    g, _ = conditional_generator(preset)
    known = GLYPHS[:g.cfg.classes]
    bad = sorted({c for c in glyphs if c not in known})
    if bad:
        raise DrumfontError(f"the generator cannot draw {', '.join(repr(c) for c in bad)}")
    labels = torch.tensor([known.index(c) for c in glyphs])
    with torch.no_grad():
        return g(latent.expand(len(glyphs), -1), labels)[:, 0].numpy()


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
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.letters.classifier import classify  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    with open_image(path) as im:  # capped in bytes and pixels, checked from the header
        cells = glyph_cells(_ink_image(im))
    g, _ = conditional_generator(preset)
    clf, _ = load_classifier()
    x = torch.from_numpy(np.stack(cells))
    labels, _, _ = classify(clf, x, classes=g.cfg.classes)
    z = g.latent(1, torch.Generator().manual_seed(seed)).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.05)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a few glyphs per step: a second thread only waits (3x slower, measured)
    try:
        for _ in range(INVERT_STEPS):
            loss = torch.nn.functional.mse_loss(g(z.expand(len(x), -1), labels)[:, 0], x) + 1e-3 * z.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return z.detach()


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
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    if not (1 <= rows <= 64 and 1 <= cols <= 64):
        raise DrumfontError("grid rows and columns must be between 1 and 64")
    g, _ = _cached_generator(str(preset or preset_path(GAN_PRESET)))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if g.cfg.conditional:  # a conditional preset: cycle through the alphabet
            labels = torch.arange(rows * cols) % 26
            x = g.sample(rows * cols, gen, labels)
        else:
            x = g.sample(rows * cols, gen)
    x = x[:, 0].numpy().reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
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
