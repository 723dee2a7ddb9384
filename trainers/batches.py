"""Batches streamed from a dataset's uint8 arrays: only one batch's rows are read (from a memory
map, for a big file) and turned into floats, so a million-bar set never has a float copy.

Rows are addressed through an index array of one split, so selecting the training bars does not
copy the velocities either (a boolean mask on a memory map would).
"""

from __future__ import annotations

import numpy as np
import torch


class DrumRows:
    """One split of a drum dataset: hits, velocities / 127 and genre of any rows, on demand."""

    def __init__(self, velocities: np.ndarray, genre: np.ndarray, split: np.ndarray, which: int,
                 offsets: np.ndarray | None = None, rows: np.ndarray | None = None) -> None:
        self.velocities = velocities                        # (N, 16, 9) uint8, possibly a np.memmap
        self.offsets = offsets                              # (N, 16, 9) float16 or None (straight)
        self.genre = np.asarray(genre)                      # (N,) int16: 2 MB for a million bars
        self.rows = np.flatnonzero(np.asarray(split) == which) if rows is None else np.asarray(rows)

    @classmethod
    def of(cls, ds, which: int, fills: bool = True) -> DrumRows:
        """The TRAIN or VAL rows of a DrumDataset (without the bars flagged as fills if asked)."""
        keep = np.asarray(ds.split) == which
        if not fills and ds.fill is not None:
            keep &= ~np.asarray(ds.fill, bool)
        return cls(ds.velocities, ds.genre, ds.split, which, ds.offsets, np.flatnonzero(keep))

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, idx: torch.Tensor | np.ndarray, device: torch.device | str = "cpu"
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(hits (B, 16, 9) float32 in {0, 1}, velocities / 127 (B, 16, 9), genre (B,) int64) of
        the split's rows `idx`; only these rows are read and converted."""
        rows = self.rows[np.asarray(idx)]
        v = torch.from_numpy(np.ascontiguousarray(self.velocities[rows])).to(device)   # uint8
        g = torch.from_numpy(self.genre[rows].astype(np.int64)).to(device)
        return (v > 0).float(), v.float() / 127.0, g

    def timing(self, idx: torch.Tensor | np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
        """Offsets (B, 16, 9) float32 in sixteenths of the split's rows `idx` (zeros if straight)."""
        rows = self.rows[np.asarray(idx)]
        if self.offsets is None:
            return torch.zeros((len(rows),) + tuple(self.velocities.shape[1:]), device=device)
        return torch.from_numpy(np.asarray(self.offsets[rows], np.float32)).to(device)

    def genres(self) -> np.ndarray:
        """Genre of every row of the split (small; for counting and per-genre fits)."""
        return self.genre[self.rows]


class ImageRows:
    """One split of a fonts dataset: images in [0, 1] (B, 1, 28, 28) and letters, on demand."""

    def __init__(self, images: np.ndarray, letter: np.ndarray, split: np.ndarray, which: int) -> None:
        self.images = images                                # (N, 28, 28) uint8
        self.letter = np.asarray(letter)
        self.rows = np.flatnonzero(np.asarray(split) == which)

    @classmethod
    def of(cls, ds, which: int) -> ImageRows:
        """The TRAIN or VAL rows of a FontDataset."""
        return cls(ds.images, ds.letter, ds.split, which)

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, idx: torch.Tensor | np.ndarray, device: torch.device | str = "cpu"
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (B, 1, 28, 28) float32 in [0, 1], letters (B,) int64) of the split's rows `idx`."""
        rows = self.rows[np.asarray(idx)]
        x = torch.from_numpy(np.ascontiguousarray(self.images[rows])).to(device)
        y = torch.from_numpy(self.letter[rows].astype(np.int64)).to(device)
        return x.float().div_(255.0).unsqueeze(1), y
