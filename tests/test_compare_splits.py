"""The split comparison's two splits: same bars, one by bar, one by file; the leak measure."""

from __future__ import annotations

import numpy as np

from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.trainers.compare_splits import leak, resplit


def _performances(n_files: int = 40, bars: int = 10) -> DrumDataset:
    """Each file repeats one groove: the case where a split by bar leaks validation into training."""
    rng = np.random.default_rng(0)
    grooves = (rng.random((n_files, 16, 9)) < 0.3) * rng.integers(1, 128, (n_files, 16, 9))
    vel = np.repeat(grooves, bars, axis=0).astype(np.uint8)
    sources = [(f"f{i // bars}.mid", i % bars + 1) for i in range(n_files * bars)]
    genre = (np.arange(n_files * bars) // bars % 2).astype(np.int16)
    return DrumDataset(vel, genre, np.zeros(len(vel), np.uint8), ("a", "b"), sources)


def test_by_file_never_straddles_and_does_not_leak():
    data = _performances()
    by_bar, by_file = resplit(data, "bar", 0.2, 0), resplit(data, "file", 0.2, 0)
    for d in (by_bar, by_file):
        assert np.array_equal(d.velocities, data.velocities) and (d.split == VAL).mean() == 0.2
    files = by_file.sources.file_index
    assert not set(files[by_file.split == TRAIN]) & set(files[by_file.split == VAL])
    assert leak(by_file) == 0.0 and leak(by_bar) > 0.9  # every groove's bars sit on both sides
