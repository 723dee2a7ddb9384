"""Text -> image with the letter GAN, and the loaders of the letter models.

`render_text` draws a word with the conditional generator, one z for all its letters so they
share a style; `render_grid` draws a sample sheet of the unconditional one. Both return Pillow
images and do no I/O beyond loading the presets, so the TUI can call them from a worker thread;
`write_png` is the atomic file writer the CLI uses.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from drumfont.checkpoint import build_model, load_checkpoint
from drumfont.errors import DrumfontError
from drumfont.shipped import preset_path
from drumfont.writes import check_writable, write_atomic

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GAN_PRESET = "letters_gan.pt"
CGAN_PRESET = "letters_cgan.pt"
CLASSIFIER_PRESET = "letter_classifier.pt"
MAX_SCALE = 64
MAX_CHARS = 200


def load_generator(path: str | os.PathLike):
    """(Generator in eval mode, checkpoint dict) from a 'letters_gan' checkpoint."""
    from drumfont.models.gan import GanConfig, Generator

    blob = load_checkpoint(path, "letters_gan")
    return build_model(blob, Generator, GanConfig, path), blob


def load_classifier(path: str | os.PathLike | None = None):
    """(LetterClassifier in eval mode, checkpoint dict); the shipped preset by default."""
    from drumfont.models.letter_classifier import ClassifierConfig, LetterClassifier

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
    return load_generator(path)[0]


def check_text(text: str) -> str:
    """Upper-cased text, or a DrumfontError naming every character the GAN cannot draw."""
    up = text.upper()
    bad = sorted({c for c in up if c != " " and c not in LETTERS})
    if bad:
        raise DrumfontError(f"cannot draw {', '.join(repr(c) for c in bad)}: only letters A-Z and spaces")
    if not up.strip():
        raise DrumfontError("nothing to draw: give at least one letter")
    if len(up) > MAX_CHARS:
        raise DrumfontError(f"text too long ({len(up)} characters, at most {MAX_CHARS})")
    return up


def _to_image(pixels: np.ndarray, scale: int):
    from PIL import Image

    if not 1 <= scale <= MAX_SCALE:
        raise DrumfontError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    img = Image.fromarray(np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8), mode="L")
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST)


def render_text(text: str, seed: int = 0, scale: int = 4, preset: str | os.PathLike | None = None):
    """The text as a Pillow 'L' image (white letters on black), 28×scale pixels high; a space
    is an empty cell. One z is shared by every letter, so the word has one style."""
    import torch

    up = check_text(text)
    g = _cached_generator(str(preset or preset_path(CGAN_PRESET)))
    if not g.cfg.conditional:
        raise DrumfontError("render_text needs a conditional generator (letters_cgan.pt)")
    idx = [i for i, c in enumerate(up) if c != " "]
    labels = torch.tensor([LETTERS.index(up[i]) for i in idx])
    z = g.latent(1, torch.Generator().manual_seed(seed)).expand(len(idx), -1)
    with torch.no_grad():
        glyphs = g(z, labels)[:, 0].numpy()                       # (n, 28, 28)
    cells = np.zeros((len(up), 28, 28), np.float32)
    cells[idx] = glyphs
    return _to_image(np.concatenate(list(cells), axis=1), scale)


def render_grid(rows: int = 8, cols: int = 13, seed: int = 0, scale: int = 2,
                preset: str | os.PathLike | None = None):
    """A rows×cols sheet of samples from the unconditional generator, as a Pillow image."""
    import torch

    if not (1 <= rows <= 64 and 1 <= cols <= 64):
        raise DrumfontError("grid rows and columns must be between 1 and 64")
    g = _cached_generator(str(preset or preset_path(GAN_PRESET)))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if g.cfg.conditional:  # a conditional preset: cycle through the alphabet
            labels = torch.arange(rows * cols) % 26
            x = g.sample(rows * cols, gen, labels)
        else:
            x = g.sample(rows * cols, gen)
    x = x[:, 0].numpy().reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    return _to_image(x, scale)


def png_bytes(image) -> bytes:
    """PNG bytes of a Pillow image."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def write_png(image, path: str | os.PathLike, force: bool = False) -> Path:
    """Write a Pillow image as PNG, atomically, refusing to overwrite unless `force`."""
    return write_atomic(path, png_bytes(image), force=force)


def write_text_png(text: str, path: str | os.PathLike, seed: int = 0, scale: int = 4,
                   force: bool = False, preset: str | os.PathLike | None = None) -> Path:
    """render_text + write_png, checking the target before any work."""
    check_writable(path, force)
    return write_png(render_text(text, seed, scale, preset), path, force)
