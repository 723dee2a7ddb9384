"""The dataset file format: one .npz of arrays plus a JSON metadata string.

Drums: `velocities` (N, 16, 9) uint8 (0 = rest), `genre` (N,) int16 (-1 = unlabelled),
`split` (N,) uint8 (0 train, 1 validation), `meta` = JSON {"format", "kind": "drums", "voices",
"genres", "sources": [[file, bar], ...]}. Written byte-for-byte reproducibly (fixed zip
timestamps), so the same seed gives the same file.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drumfont.errors import DatasetError
from drumfont.pattern import N_VOICES, STEPS, VOICES, Pattern
from drumfont.writes import write_atomic

FORMAT = 1
GENRES: tuple[str, ...] = ("rock", "jazz", "hiphop", "electronic", "latin")
TRAIN, VAL = 0, 1


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


def read_npz(path: str | os.PathLike, kind: str) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and metadata of a dataset file, checked to be of `kind`."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset file")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a drumfont dataset file ({exc})") from None
    if meta.get("kind") != kind:
        raise DatasetError(f"{path}: holds a {meta.get('kind')!r} dataset, expected {kind!r}")
    if meta.get("format", 0) > FORMAT:
        raise DatasetError(f"{path}: dataset format {meta['format']} is newer than this drumfont; upgrade")
    return arrays, meta


@dataclass
class DrumDataset:
    """Drum bars with genre labels, split and provenance."""

    velocities: np.ndarray                 # (N, 16, 9) uint8
    genre: np.ndarray                      # (N,) int16, -1 = unlabelled
    split: np.ndarray                      # (N,) uint8, TRAIN or VAL
    genres: tuple[str, ...] = GENRES
    sources: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.velocities)
        if self.velocities.shape[1:] != (STEPS, N_VOICES):
            raise DatasetError(f"velocities must be (N, {STEPS}, {N_VOICES}), got {self.velocities.shape}")
        if len(self.genre) != n or len(self.split) != n:
            raise DatasetError("velocities, genre and split must have the same length")

    def __len__(self) -> int:
        return len(self.velocities)

    @property
    def hits(self) -> np.ndarray:
        """(N, 16, 9) float32 binary grids, the model's input."""
        return (self.velocities > 0).astype(np.float32)

    @property
    def labelled(self) -> bool:
        """True when every bar has a genre."""
        return bool(len(self.genre)) and bool((self.genre >= 0).all())

    def subset(self, split: int) -> DrumDataset:
        """Only the training (TRAIN) or validation (VAL) bars."""
        m = self.split == split
        src = [s for s, keep in zip(self.sources, m) if keep] if self.sources else []
        return DrumDataset(self.velocities[m], self.genre[m], self.split[m], self.genres, src)

    def pattern(self, i: int) -> Pattern:
        """Bar i as a Pattern."""
        return Pattern(self.velocities[i])

    def to_bytes(self) -> bytes:
        """The .npz bytes of this dataset."""
        meta = {"format": FORMAT, "kind": "drums", "voices": list(VOICES), "genres": list(self.genres),
                "sources": [[str(f), int(b)] for f, b in self.sources]}
        return npz_bytes({"velocities": self.velocities.astype(np.uint8),
                          "genre": self.genre.astype(np.int16), "split": self.split.astype(np.uint8),
                          "meta": np.array(json.dumps(meta, separators=(",", ":")))})

    def save(self, path: str | os.PathLike, force: bool = False) -> Path:
        """Write atomically; refuse to overwrite unless `force`."""
        return write_atomic(path, self.to_bytes(), force=force)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DrumDataset:
        """Read a drums dataset file."""
        arrays, meta = read_npz(path, "drums")
        try:
            if list(meta.get("voices", VOICES)) != list(VOICES):
                raise DatasetError(f"{path}: voices {meta['voices']} differ from drumfont's {list(VOICES)}")
            return cls(arrays["velocities"], arrays["genre"], arrays["split"], tuple(meta["genres"]),
                       [(f, b) for f, b in meta.get("sources", [])])
        except KeyError as exc:
            raise DatasetError(f"{path}: missing {exc} in dataset file") from None


def stratified_split(labels: np.ndarray, val_share: float, rng: np.random.Generator) -> np.ndarray:
    """TRAIN/VAL per item, with the same validation share inside each label."""
    split = np.full(len(labels), TRAIN, np.uint8)
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        split[idx[: int(round(len(idx) * val_share))]] = VAL
    return split
