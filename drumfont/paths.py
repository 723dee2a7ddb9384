"""Platform paths: where shipped presets live (drumfont/presets in a wheel, ./presets in a source
checkout) and where a user's data goes (the studio session, downloaded datasets)."""

from __future__ import annotations

import os
import sys
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


def data_dir() -> Path:
    """Where the studio keeps its session and letter images: $DRUMFONT_DATA_DIR, else the
    platform's user data folder ($XDG_DATA_HOME/drumfont on Linux)."""
    override = os.environ.get("DRUMFONT_DATA_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "drumfont"
