"""Distributed plumbing: every rank's shards add up to the single-process batches."""

import torch

from drumfont.trainers.distributed import Dist, epoch_batches, reduce_mean, setup


def test_shards_union_equals_single_process_batches():
    for n, batch, world in ((103, 16, 2), (64, 8, 4), (10, 4, 2)):
        single = list(epoch_batches(n, batch, epoch=3, seed=7, d=Dist()))
        shards = [list(epoch_batches(n, batch, epoch=3, seed=7, d=Dist(r, world))) for r in range(world)]
        assert all(len(s) == len(single) for s in shards)
        for k, full in enumerate(single):
            got = torch.cat([s[k] for s in shards])
            assert set(got.tolist()) >= set(full.tolist())
            assert len({len(s[k]) for s in shards}) == 1  # equal shards for DDP's mean
        if n % batch == 0:
            assert sorted(torch.cat([torch.cat(s) for s in shards]).tolist()) == list(range(n))


def test_epochs_reshuffle_and_seed_repeats():
    a = list(epoch_batches(50, 10, 0, 1, Dist()))
    b = list(epoch_batches(50, 10, 1, 1, Dist()))
    c = list(epoch_batches(50, 10, 0, 1, Dist()))
    assert not torch.equal(torch.cat(a), torch.cat(b)) and torch.equal(torch.cat(a), torch.cat(c))


def test_single_process_setup(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    d = setup("cpu")
    assert d.is_main and not d.distributed and d.device.type == "cpu"
    assert reduce_mean({"x": 2.0}, d) == {"x": 2.0}


def test_epoch_noise_differs_by_rank_and_epoch_and_replays():
    from drumfont.trainers.distributed import epoch_generator

    def draw(rank, epoch):
        return torch.randn(4, generator=epoch_generator(5, epoch, Dist(rank, 2)))

    assert torch.equal(draw(0, 3), draw(0, 3))  # a resumed epoch draws the same noise
    assert not torch.equal(draw(0, 3), draw(1, 3)) and not torch.equal(draw(0, 3), draw(0, 4))
    # rank 0 of a 1-process run draws what rank 0 of N does
    assert torch.equal(torch.randn(4, generator=epoch_generator(5, 3, Dist())), draw(0, 3))


def test_on_main_runs_and_raises_in_one_process():
    from drumfont.errors import DrumfontError
    from drumfont.trainers.distributed import on_main

    assert on_main(lambda: 41 + 1, Dist()) == 42

    def refuse():
        raise DrumfontError("no")

    try:
        on_main(refuse, Dist())
    except DrumfontError as exc:
        assert str(exc) == "no"
    else:
        raise AssertionError("the error was swallowed")


def test_drum_rows_read_only_their_rows_from_a_memory_map(tmp_path):
    import numpy as np

    from drumfont.drums.dataset import DrumDataset
    from drumfont.trainers.batches import DrumRows

    rng = np.random.default_rng(0)
    vel = np.where(rng.random((50, 16, 9)) < 0.2, 100, 0).astype(np.uint8)
    split = (np.arange(50) % 5 == 0).astype(np.uint8)  # every fifth bar is validation
    DrumDataset(vel, (np.arange(50) % 3).astype(np.int16), split).save(tmp_path / "d.npz")
    ds = DrumDataset.load(tmp_path / "d.npz", mmap=True)
    assert isinstance(ds.velocities, np.memmap)
    rows = DrumRows.of(ds, 0)
    assert len(rows) == 40
    hits, v, g = rows.batch(torch.tensor([0, 39, 5]))
    expect = np.flatnonzero(split == 0)[[0, 39, 5]]
    assert torch.equal(hits, torch.from_numpy((vel[expect] > 0).astype(np.float32)))
    assert torch.allclose(v, torch.from_numpy(vel[expect] / 127.0).float())
    assert g.tolist() == (expect % 3).tolist() and g.dtype == torch.int64
