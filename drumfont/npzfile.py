"""The dataset file format shared by drum and letter datasets: one .npz of arrays plus a JSON
metadata string, written byte-for-byte reproducibly (fixed zip timestamps) and uncompressed, so a
large file can be memory-mapped and its arrays stay on disk until a batch touches them."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from drumfont.errors import DatasetError, DrumfontError
from drumfont.validate import MAX_DATASET_BYTES, check_count, check_input

FORMAT = 1
TRAIN, VAL, TEST = 0, 1, 2
SPLITS: dict[str, int] = {"train": TRAIN, "validation": VAL, "test": TEST}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (uncompressed zip of .npy) with fixed timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.asarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, npy.getvalue())
    return buf.getvalue()


def _mmap_npz(path: Path) -> dict[str, np.ndarray]:
    """Memory-map every member of an uncompressed .npz (what npz_bytes writes)."""
    arrays = {}
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:  # compressed: fall back to reading it
                arrays[name] = np.load(io.BytesIO(zf.read(info)), allow_pickle=False)
                continue
            fh.seek(info.header_offset)
            local = fh.read(30)
            start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") \
                + int.from_bytes(local[28:30], "little")
            fh.seek(start)
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            if dtype.hasobject or not shape or name == "meta":
                arrays[name] = np.load(io.BytesIO(zf.read(info)), allow_pickle=False)
            else:
                arrays[name] = np.memmap(path, dtype=dtype, mode="r", offset=fh.tell(), shape=shape,
                                         order="F" if fortran else "C")
    return arrays


def declared_bytes(path: Path) -> int:
    """The bytes the arrays of an .npz declare in their .npy headers (read before any is loaded:
    a compressed member may unpack to any size its header states)."""
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member)
            total += int(np.prod(shape, dtype=object)) * dtype.itemsize
    return total


def read_npz(path: str | os.PathLike, kind: str, mmap: bool = False) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and metadata of a dataset file, checked to be of `kind`; memory-mapped if asked."""
    path = Path(path)
    if not os.path.lexists(path):
        raise DatasetError(f"{path}: no such dataset file")
    try:  # a regular file (a FIFO or device is refused before numpy opens it)
        check_input(path, "dataset file")
    except DrumfontError as exc:
        raise DatasetError(str(exc)) from None
    try:
        try:
            check_count(declared_bytes(path), MAX_DATASET_BYTES, "bytes of arrays", path,
                        "a dataset may declare at most {limit}")
        except DrumfontError as exc:
            raise DatasetError(str(exc)) from None
        if mmap:
            arrays = _mmap_npz(path)
        else:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, TypeError, IndexError, NotImplementedError,
            RecursionError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise DatasetError(f"{path}: not a drumfont dataset file ({str(exc)[:120]})") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{path}: the dataset's meta is not a JSON object")
    bad = [k for k, v in arrays.items() if not isinstance(v, np.ndarray) or v.dtype.kind not in "uifb"]
    if bad:
        raise DatasetError(f"{path}: array {bad[0]!r} is not numeric")
    if meta.get("kind") != kind:
        raise DatasetError(f"{path}: holds a {meta.get('kind')!r} dataset, expected {kind!r}")
    if meta.get("format", 0) > FORMAT:
        raise DatasetError(f"{path}: dataset format {meta['format']} is newer than this drumfont; upgrade")
    return arrays, meta
