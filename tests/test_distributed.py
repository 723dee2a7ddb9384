"""Distributed plumbing: every rank's shards add up to the single-process batches."""

import torch

from trainers.distributed import Dist, epoch_batches, reduce_mean, setup


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
