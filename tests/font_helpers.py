"""A tiny conditional generator over all 46 glyphs, saved as the trainer saves a preset (with
the training fonts' layout), for the font, typeset and report tests."""

from __future__ import annotations

from pathlib import Path

import torch

from drumfont.checkpoint import save_checkpoint
from drumfont.letters.data import GLYPHS, default_fonts, glyph_layout
from drumfont.letters.gan import GanConfig, Generator


def dejavu():
    """DejaVu Sans at the corpus' render size (a Pillow FreeTypeFont)."""
    from PIL import ImageFont

    return ImageFont.truetype(str(default_fonts()[0]), 64)


def tiny_preset(path: Path, layout: bool = True) -> Path:
    torch.manual_seed(0)
    cfg = GanConfig(z_dim=8, g_width=4, d_width=4, conditional=True, classes=len(GLYPHS))
    g = Generator(cfg)
    g(torch.randn(4, 8), torch.arange(4))  # move BN statistics off their init
    g.eval()
    med = glyph_layout(dejavu())
    extras = {"glyphs": GLYPHS, "layout": {c: [float(v) for v in med[i]] for i, c in enumerate(GLYPHS)}} if layout else {}
    return save_checkpoint(path, "letters_gan", cfg.to_dict(), g.state_dict(), extras=extras)
