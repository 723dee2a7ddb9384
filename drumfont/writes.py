"""Atomic, no-surprise file writes: temp file in the same folder, fsync, rename.

A crash mid-write leaves the old file (or none), never half a file; an existing file is only
replaced when the caller says so (`force`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from drumfont.errors import DrumfontError, FileExistsNoForce


def check_writable(path: str | os.PathLike, force: bool = False) -> Path:
    """Fail early, before any work, if `path` exists (without force) or its folder cannot be made."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsNoForce(f"{path} exists; pass --force to overwrite it")
    if path.exists() and path.is_dir():
        raise DrumfontError(f"{path} is a folder, not a file")
    return path


def _plain_mode(path: Path) -> int:
    """The mode `open(path, "w")` would give: an existing file's, else 0666 less the umask
    (mkstemp makes its files 0600, which would leave presets and exports private)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str | os.PathLike, data: bytes, force: bool = False) -> Path:
    """Write `data` to `path` atomically; refuse to replace an existing file unless `force`."""
    path = check_writable(path, force)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DrumfontError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), _plain_mode(path))
            os.fsync(fh.fileno())
        if not force and path.exists():  # someone else wrote it while we worked
            raise FileExistsNoForce(f"{path} exists; pass --force to overwrite it")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
