"""The dataset file format: save/load, reproducible bytes, splits, bad files."""

import numpy as np
import pytest

from drumfont.drums.dataset import TEST, TRAIN, VAL, DrumDataset, grouped_split, npz_bytes, read_npz, stratified_split
from drumfont.errors import DatasetError


def make(n=50, seed=0):
    rng = np.random.default_rng(seed)
    vel = np.where(rng.random((n, 16, 9)) < 0.3, rng.integers(1, 128, (n, 16, 9)), 0).astype(np.uint8)
    genre = np.arange(n) % 5
    split = stratified_split(genre, 0.2, rng)
    return DrumDataset(vel, genre.astype(np.int16), split, sources=[(f"f{i}.mid", i + 1) for i in range(n)])


def test_round_trip_and_bytes(tmp_path):
    d = make()
    assert d.to_bytes() == make().to_bytes()
    path = d.save(tmp_path / "d.npz")
    e = DrumDataset.load(path)
    assert np.array_equal(e.velocities, d.velocities) and np.array_equal(e.genre, d.genre)
    assert e.sources == d.sources and e.genres == d.genres and e.labelled
    assert e.hits.dtype == np.float32 and e.pattern(3).velocities.shape == (16, 9)


def test_stratified_split():
    d = make(100)
    for g in range(5):
        assert ((d.genre == g) & (d.split == VAL)).sum() == 4
    tr, va = d.subset(TRAIN), d.subset(VAL)
    assert len(tr) == 80 and len(va) == 20 and len(tr.sources) == 80


def test_bad_files(tmp_path):
    with pytest.raises(DatasetError, match="no such"):
        DrumDataset.load(tmp_path / "x.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(DatasetError, match="not a drumfont dataset"):
        DrumDataset.load(tmp_path / "junk.npz")
    (tmp_path / "fonts.npz").write_bytes(npz_bytes({"meta": np.array('{"kind": "fonts"}')}))
    with pytest.raises(DatasetError, match="expected 'drums'"):
        DrumDataset.load(tmp_path / "fonts.npz")
    with pytest.raises(DatasetError):
        DrumDataset(np.zeros((3, 16, 8), np.uint8), np.zeros(3), np.zeros(3))
    arrays, meta = read_npz(make().save(tmp_path / "ok.npz"), "drums")
    assert meta["voices"][0] == "kick"


def test_memory_mapped_load(tmp_path):
    d = make(40)
    path = d.save(tmp_path / "m.npz")
    e = DrumDataset.load(path, mmap=True)
    assert isinstance(e.velocities, np.memmap)
    assert np.array_equal(e.velocities, d.velocities) and np.array_equal(e.split, d.split)
    assert list(e.sources) == list(d.sources) and e.subset(VAL).sources[0][0].startswith("f")
    assert e.to_bytes() == d.to_bytes()


def test_grouped_split_keeps_files_whole():
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 30, 120)                       # 120 files of 1-29 bars
    groups = np.repeat(np.arange(120), sizes)
    labels = np.repeat(np.arange(120) % 4, sizes)          # a file has one label
    split = grouped_split(labels, groups, 0.2, np.random.default_rng(0))
    for g in range(120):
        assert len(set(split[groups == g])) == 1           # no file on both sides
    for label in range(4):
        m = labels == label
        share = (split[m] == VAL).mean()
        assert abs(share - 0.2) < 15 / m.sum(), share      # within half a mean file of the share
    assert np.array_equal(split, grouped_split(labels, groups, 0.2, np.random.default_rng(0)))
    assert not np.array_equal(split, grouped_split(labels, groups, 0.2, np.random.default_rng(1)))


def test_grouped_split_one_file_trains_and_share_zero():
    labels, groups = np.zeros(10, int), np.zeros(10, int)
    assert (grouped_split(labels, groups, 0.2, np.random.default_rng(0)) == TRAIN).all()
    groups = np.arange(40) // 4
    labels = groups % 2
    assert (grouped_split(labels, groups, 0.0, np.random.default_rng(0)) == TRAIN).all()
    assert TEST not in (TRAIN, VAL)


def test_test_bars_are_held_out_of_train_and_validation(tmp_path):
    from drumfont.trainers.batches import DrumRows

    d = make(30)
    d.split[:6] = TEST
    e = DrumDataset.load(d.save(tmp_path / "t.npz"))
    assert (e.split == TEST).sum() == 6
    for which in (TRAIN, VAL):
        assert len(e.subset(which)) == (e.split == which).sum() and not (e.subset(which).split == TEST).any()
        assert not set(DrumRows.of(e, which).rows) & set(range(6))
    assert len(e.subset(TRAIN)) + len(e.subset(VAL)) + len(e.subset(TEST)) == 30
