"""Atomic, no-surprise file writes: temp file in the same folder, fsync, rename.

A crash mid-write leaves the old file (or none), never half a file; an existing file is only
replaced when the caller says so (`force`). Temp files are named `.drumfont-<pid>-<random>.tmp`:
a fixed-length name, so any name the file system takes (255 bytes) can be written, and one
that says whose it is, so that the next write in that folder removes those a killed process
left behind (only when that process is gone: a live writer's temp file is never touched).
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from drumfont.errors import FileExistsNoForce
from drumfont.validate import check_output, explain_os_error, output_format

TEMP_PREFIX = ".drumfont-"
# Folders check_writable has cleaned, with their mtime then: an export checks 10,000 names in one
# folder, which is listed once, and again only once something in it has changed.
_CLEANED: dict[str, int | None] = {}
_TEMP_RE = re.compile(r"^\.drumfont-(\d+)-[0-9a-f]{8}\.tmp$")


def check_writable(path: str | os.PathLike, force: bool = False, formats: dict[str, str] | None = None,
                   what: str = "this") -> Path:
    """Fail early, before any work, if `path` cannot be written (see validate.check_output), or,
    given `formats`, if its suffix is not one of theirs (validate.output_format)."""
    if formats is not None:
        output_format(path, formats, what)
    # A run killed mid-write left its temp file: this run into the folder removes it, also when
    # it goes on to refuse (an existing file without --force) and writes nothing.
    folder = os.path.abspath(os.path.dirname(os.fspath(path)) or ".")
    if _CLEANED.get(folder) != _mtime(folder):  # once per change of the folder, not once per name
        clean_stray_temps(folder)  # a folder that cannot be listed is left to check_output to explain
        _CLEANED[folder] = _mtime(folder)
    return check_output(path, force)


def _mtime(folder: str) -> int | None:
    try:
        return os.stat(folder).st_mtime_ns
    except (OSError, ValueError):
        return None


def _plain_mode(path: Path) -> int:
    """The mode `open(path, "w")` would give: an existing file's, else 0666 less the umask
    (a private temp file would leave presets and exports private)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process
    return True


def clean_stray_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temp files that killed drumfont processes left in `folder`; returns them."""
    removed = []
    try:
        names = os.listdir(folder)
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return removed
    for name in names:
        m = _TEMP_RE.match(name)
        if m and not _alive(int(m.group(1))):
            p = Path(folder) / name
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def _temp_file(folder: Path) -> tuple[int, Path]:
    for _ in range(100):
        tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name in {folder}")


def write_atomic(path: str | os.PathLike, data: bytes, force: bool = False) -> Path:
    """Write `data` to `path` atomically; refuse to replace an existing file unless `force`."""
    with atomic_file(path, force) as fh:
        fh.write(data)
    return Path(path)


@contextmanager
def atomic_file(path: str | os.PathLike, force: bool = False) -> Iterator[BinaryIO]:
    """A new temp file beside `path`, open for writing and reading ('w+b', so that a writer that
    seeks back to fill in a header can use its descriptor): for output written piece by piece,
    which never has to be whole in memory. When the block ends the file is synced and renamed
    onto `path`; when it raises, the temp file is removed and the old `path` stays as it was."""
    path = check_writable(path, force)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stray_temps(path.parent)
        fd, tmp = _temp_file(path.parent)
    except OSError as exc:
        raise explain_os_error(path, exc) from None
    try:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), _plain_mode(path))
            os.fsync(fh.fileno())
        if not force and os.path.lexists(path):  # someone else wrote it while we worked
            raise FileExistsNoForce(f"{path} exists; pass --force to overwrite it")
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise explain_os_error(path, exc) from None
        raise
