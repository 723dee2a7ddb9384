"""The dataset file format: one .npz of arrays plus a JSON metadata string.

Drums: `velocities` (N, 16, 9) uint8 (0 = rest), `genre` (N,) int16 (-1 = unlabelled),
`split` (N,) uint8 (0 train, 1 validation, 2 test: held out from both), `source_file` (N,) int32 and `source_bar` (N,) int32
(where each bar came from), optionally `offsets` (N, 16, 9) float16 (micro-timing in
sixteenths, absent = straight) and `fill` (N,) bool (the bar comes from a fill, not a beat),
`meta` = JSON {"format", "kind": "drums", "voices", "genres", "files"}. Written byte-for-byte reproducibly (fixed zip timestamps), so the same seed gives the
same file. The zip is uncompressed, so a million-bar file (144 MB of velocities) can be opened
memory-mapped (`load(path, mmap=True)`): the arrays stay on disk until a batch touches them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drumfont.atomic import write_atomic
from drumfont.errors import DatasetError

# The file format is shared with the letter datasets; drum code reads its names here too.
from drumfont.npzfile import FORMAT, SPLITS, TEST, TRAIN, VAL, npz_bytes, read_npz  # noqa: F401
from drumfont.score.genres import RULE_GENRES
from drumfont.score.pattern import N_VOICES, STEPS, VOICES, Pattern, clip_offsets


class SourceTable:
    """(file, bar) of each bar, stored as two int arrays and a file list rather than N tuples,
    so a million-bar dataset does not hold a million Python objects."""

    def __init__(self, files: list[str], file_index: np.ndarray, bar: np.ndarray) -> None:
        self.files, self.file_index, self.bar = list(files), np.asarray(file_index), np.asarray(bar)

    @classmethod
    def from_pairs(cls, pairs) -> SourceTable:
        """From a sequence of (file, bar) pairs."""
        if isinstance(pairs, SourceTable):
            return pairs
        files: dict[str, int] = {}
        idx = np.fromiter((files.setdefault(str(f), len(files)) for f, _ in pairs), np.int32)
        bars = np.fromiter((int(b) for _, b in pairs), np.int32)
        return cls(list(files), idx, bars)

    def __len__(self) -> int:
        return len(self.bar)

    def __getitem__(self, i: int) -> tuple[str, int]:
        return self.files[int(self.file_index[i])], int(self.bar[i])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other)  # type: ignore[call-overload]

    def take(self, mask: np.ndarray) -> SourceTable:
        """The rows where mask is true."""
        return SourceTable(self.files, self.file_index[mask], self.bar[mask])


@dataclass
class DrumDataset:
    """Drum bars with genre labels, split and provenance."""

    velocities: np.ndarray                 # (N, 16, 9) uint8
    genre: np.ndarray                      # (N,) int16, -1 = unlabelled
    split: np.ndarray                      # (N,) uint8, TRAIN, VAL or TEST
    genres: tuple[str, ...] = RULE_GENRES
    sources: SourceTable | list[tuple[str, int]] = field(default_factory=list)
    offsets: np.ndarray | None = None       # (N, 16, 9) float16 sixteenths; None = straight bars
    fill: np.ndarray | None = None          # (N,) bool; None = no bar is flagged a fill

    def __post_init__(self) -> None:
        n = len(self.velocities)
        self.sources = SourceTable.from_pairs(self.sources)
        if len(self.sources) not in (0, n):
            raise DatasetError("sources must be empty or have one entry per bar")
        if self.velocities.shape[1:] != (STEPS, N_VOICES):
            raise DatasetError(f"velocities must be (N, {STEPS}, {N_VOICES}), got {self.velocities.shape}")
        if len(self.genre) != n or len(self.split) != n:
            raise DatasetError("velocities, genre and split must have the same length")
        if self.offsets is not None and np.shape(self.offsets) != np.shape(self.velocities):
            raise DatasetError("offsets must have the shape of velocities")
        if self.fill is not None and len(self.fill) != n:
            raise DatasetError("fill flags must have one entry per bar")

    def __len__(self) -> int:
        return len(self.velocities)

    @property
    def hits(self) -> np.ndarray:
        """(N, 16, 9) float32 binary grids, the model's input."""
        return (self.velocities > 0).astype(np.float32)

    @property
    def timing(self) -> np.ndarray:
        """(N, 16, 9) float32 offsets in sixteenths (zeros for a straight dataset)."""
        if self.offsets is None:
            return np.zeros(self.velocities.shape, np.float32)
        return np.asarray(self.offsets, np.float32)

    @property
    def labelled(self) -> bool:
        """True when every bar has a genre."""
        return bool(len(self.genre)) and bool((self.genre >= 0).all())

    def subset(self, split: int) -> DrumDataset:
        """Only the training (TRAIN), validation (VAL) or test (TEST) bars."""
        m = np.asarray(self.split) == split
        return self.take(m)

    def take(self, mask: np.ndarray) -> DrumDataset:
        """The bars where mask is true (or at the given indices)."""
        src = self.sources.take(mask) if len(self.sources) else []
        return DrumDataset(self.velocities[mask], self.genre[mask], self.split[mask], self.genres, src,
                           None if self.offsets is None else self.offsets[mask],
                           None if self.fill is None else self.fill[mask])

    def pattern(self, i: int) -> Pattern:
        """Bar i as a Pattern, with its timing."""
        return Pattern(self.velocities[i], clip_offsets(self.timing[i]))

    def to_bytes(self) -> bytes:
        """The .npz bytes of this dataset."""
        src = self.sources
        meta = {"format": FORMAT, "kind": "drums", "voices": list(VOICES), "genres": list(self.genres),
                "files": src.files}
        arrays = {"velocities": np.asarray(self.velocities, np.uint8),
                  "genre": np.asarray(self.genre, np.int16), "split": np.asarray(self.split, np.uint8),
                  "source_file": np.asarray(src.file_index, np.int32),
                  "source_bar": np.asarray(src.bar, np.int32),
                  "meta": np.array(json.dumps(meta, separators=(",", ":")))}
        if self.offsets is not None:
            arrays["offsets"] = np.asarray(self.offsets, np.float16)
        if self.fill is not None:
            arrays["fill"] = np.asarray(self.fill, bool)
        return npz_bytes(arrays)

    def save(self, path: str | os.PathLike, force: bool = False) -> Path:
        """Write atomically; refuse to overwrite unless `force`."""
        return write_atomic(path, self.to_bytes(), force=force)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = False) -> DrumDataset:
        """Read a drums dataset file (memory-mapped, read-only arrays with mmap=True)."""
        arrays, meta = read_npz(path, "drums", mmap=mmap)
        try:
            if list(meta.get("voices", VOICES)) != list(VOICES):
                raise DatasetError(f"{path}: voices {meta['voices']} differ from drumfont's {list(VOICES)}")
            genres, files = meta["genres"], meta.get("files", [])
            for key, value in (("genres", genres), ("files", files)):
                if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                    raise DatasetError(f"{path}: field meta.{key} must be a list of names")
            vel, genre, split = arrays["velocities"], arrays["genre"], arrays["split"]
            src_file, src_bar = arrays["source_file"], arrays["source_bar"]
            if vel.ndim != 3 or vel.dtype != np.uint8:
                raise DatasetError(f"{path}: field velocities must be uint8 (N, {STEPS}, {N_VOICES}), "
                                   f"got {vel.dtype} {vel.shape}")
            for key, a in (("genre", genre), ("split", split), ("source_file", src_file), ("source_bar", src_bar)):
                if a.ndim != 1 or a.dtype.kind not in "iu":
                    raise DatasetError(f"{path}: field {key} must be a 1-D integer array, got {a.dtype} {a.shape}")
            if len(genre) and (genre.min() < -1 or genre.max() >= len(genres)):
                raise DatasetError(f"{path}: field genre holds labels outside -1..{len(genres) - 1}")
            if len(split) and split.max() > max(SPLITS.values()):
                raise DatasetError(f"{path}: field split must hold 0 (train), 1 (validation) or 2 (test)")
            if len(src_file) and (src_file.min() < 0 or src_file.max() >= len(files)) or len(src_file) != len(src_bar):
                raise DatasetError(f"{path}: field source_file points outside the {len(files)} files")
            offsets, fill = arrays.get("offsets"), arrays.get("fill")
            if offsets is not None and (offsets.shape != vel.shape or offsets.dtype.kind != "f"):
                raise DatasetError(f"{path}: field offsets must be float {vel.shape}, got {offsets.dtype} "
                                   f"{offsets.shape}")
            if fill is not None and (fill.ndim != 1 or len(fill) != len(vel)):
                raise DatasetError(f"{path}: field fill must hold one flag per bar, got shape {fill.shape}")
            sources = SourceTable(files, src_file, src_bar)
            return cls(vel, genre, split, tuple(genres), sources, offsets, fill)
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


def grouped_split(labels: np.ndarray, groups: np.ndarray, val_share: float,
                  rng: np.random.Generator) -> np.ndarray:
    """TRAIN/VAL per item, whole groups (source files) to one side: neighbouring bars of one
    performance never land on both. Inside each label (a group takes its first item's label),
    groups in random order go to VAL while that brings VAL nearer `val_share` of the label's
    items, so the share is met as nearly as whole groups allow; a label of one group trains."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    split = np.full(len(labels), TRAIN, np.uint8)
    ids, first, sizes = np.unique(groups, return_index=True, return_counts=True)
    group_label = labels[first]
    to_val = np.zeros(len(ids), bool)
    for label in np.unique(group_label):
        members = np.flatnonzero(group_label == label)
        target = val_share * sizes[members].sum()
        taken = 0
        for g in rng.permutation(members):
            if abs(taken + sizes[g] - target) < abs(taken - target):
                to_val[g] = True
                taken += sizes[g]
    split[to_val[np.searchsorted(ids, groups)]] = VAL
    return split
