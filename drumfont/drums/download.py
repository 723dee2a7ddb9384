"""Fetching a dataset archive: resumable (HTTP Range), checksum-verified, with a progress bar.

The partial download lives beside the target as `NAME.part`; a later call asks the server for
the rest (`Range: bytes=N-`) and appends. Only a file whose size and SHA-256 match is renamed
into place, so the cache never holds a bad archive under its real name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from drumfont.errors import DrumfontError

CHUNK = 1 << 16
TIMEOUT_S = 30


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check(path: Path, size: int | None, sha256: str | None) -> str | None:
    """Why the file is not the archive expected, or None when it is."""
    got = path.stat().st_size
    if size is not None and got != size:
        return f"{got} bytes, expected {size}"
    if sha256 is not None:
        digest = sha256_of(path)
        if digest != sha256.lower():
            return f"SHA-256 {digest}, expected {sha256.lower()}"
    return None


def fetch(url: str, dest: str | os.PathLike, sha256: str | None, size: int | None = None,
          progress: bool = False) -> Path:
    """`dest`, downloaded from `url` unless a verified copy is already there. An interrupted
    download resumes from its `.part` file; a finished one that fails the checksum is deleted
    and reported (download again to retry)."""
    dest = Path(dest)
    if dest.exists():
        if _check(dest, size, sha256) is None:
            return dest
        dest.unlink()  # a stale or corrupt copy: fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is None or have < size:
        _download(url, part, have, size, progress)
    why = _check(part, size, sha256)
    if why is not None:
        part.unlink()
        raise DrumfontError(f"{url}: the download is not the expected file ({why}); deleted it, run again to retry")
    os.replace(part, dest)
    return dest


def _download(url: str, part: Path, have: int, size: int | None, progress: bool) -> None:
    """Append the bytes from `have` on to `part`; a server that ignores Range starts it over."""
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the .part is complete
            return
        raise DrumfontError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DrumfontError(f"{url}: cannot download ({getattr(exc, 'reason', exc)}); "
                            f"check the network, then run again (it resumes)") from None
    with resp:
        if have and resp.status != 206:  # the whole file came back, not the rest of it
            have = 0
        total = size
        length = resp.headers.get("Content-Length")
        if total is None and length is not None:
            total = have + int(length)
        bar = None
        if progress:

            bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, file=sys.stderr,
                       desc=part.name.removesuffix(".part"))
        try:
            with part.open("ab" if have else "wb") as fh:
                while True:
                    try:
                        block = resp.read(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:  # connection dropped midway
                        raise DrumfontError(f"{url}: download interrupted after {fh.tell()} bytes ({exc}); "
                                            f"run again to resume") from None
                    if not block:
                        break
                    fh.write(block)
                    if bar:
                        bar.update(len(block))
        finally:
            if bar:
                bar.close()
    got = part.stat().st_size
    if total is not None and got < total:
        raise DrumfontError(f"{url}: download interrupted after {got} of {total} bytes; run again to resume")
