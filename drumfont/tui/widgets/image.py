"""A Pillow image drawn with half-block characters: two pixels per terminal cell."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from rich.style import Style
from rich.text import Text
from textual.widget import Widget


def half_block_text(image: Any, width: int, height: int) -> Text:
    """The image (any Pillow mode) scaled to fit width x (2*height) pixels, keeping its aspect,
    as text of '▀' cells whose foreground is the upper pixel and background the lower."""

    gray = image.convert("L")
    w, h = gray.size
    scale = min(width / w, (2 * height) / h)
    tw, th = max(1, int(w * scale)), max(2, int(h * scale) // 2 * 2)
    px = np.asarray(gray.resize((tw, th), Image.BILINEAR), dtype=np.uint8)
    t = Text(no_wrap=True)
    for row in range(0, th, 2):
        for col in range(tw):
            up, down = int(px[row, col]), int(px[row + 1, col])
            t.append("▀", style=Style(color=f"rgb({up},{up},{up})", bgcolor=f"rgb({down},{down},{down})"))
        if row + 2 < th:
            t.append("\n")
    return t


class HalfBlockImage(Widget):
    """Shows an image, or a line of text where there is none."""

    DEFAULT_CSS = """
    HalfBlockImage { height: 1fr; width: 1fr; }
    """

    def __init__(self, placeholder: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.image: Any = None
        self.placeholder = placeholder

    def show(self, image: Any, placeholder: str | None = None) -> None:
        """Draw an image (None shows the placeholder)."""
        self.image = image
        if placeholder is not None:
            self.placeholder = placeholder
        self.refresh()

    def render(self) -> Text:
        if self.image is None:
            return Text(self.placeholder, style="grey62")
        return half_block_text(self.image, max(1, self.size.width), max(1, self.size.height))
