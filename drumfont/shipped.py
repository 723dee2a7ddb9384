"""Where shipped presets live: drumfont/presets in a wheel, ./presets in a source checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def presets_dir() -> Path:
    """The folder holding shipped presets and note maps, resolved relative to the package."""
    for candidate in (_HERE / "presets", _HERE.parent / "presets"):
        if (candidate / "notemaps").is_dir():
            return candidate
    return _HERE.parent / "presets"


def preset_path(name: str) -> Path:
    """Path of a shipped preset file such as 'drums_vae.pt'."""
    return presets_dir() / name
