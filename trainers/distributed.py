"""torchrun / DistributedDataParallel plumbing shared by the trainers, and nothing else.

A trainer runs unchanged as one process or under `torchrun --nproc_per_node N`: `setup()` reads
torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK), picks gloo on CPU and nccl on CUDA, and
returns a `Dist` that says who this process is. Batches come from `epoch_batches`, which gives
every rank its shard of the *same* global batches a single process would see (a seeded global
permutation per epoch, cut into global batches, each split across ranks), so with the same
global batch size and seed the 1-process and N-process loss curves agree up to float rounding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    """Who this process is in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Only rank 0 logs, writes history and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True under torchrun with more than one process."""
        return self.world_size > 1


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """'auto' -> this rank's GPU when CUDA is present, else the CPU; or an explicit device."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    return torch.device(name)


def setup(device: str = "auto") -> Dist:
    """Join the process group when launched by torchrun; a plain single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend=backend)
    return Dist(rank, world, local, dev)


def teardown() -> None:
    """Leave the process group (safe to call in a single process)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, d: Dist) -> torch.nn.Module:
    """DistributedDataParallel around `model` when distributed; the model itself otherwise."""
    model.to(d.device)
    if not d.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [d.device.index] if d.device.type == "cuda" else None
    return DDP(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside a DDP wrapper (what a checkpoint stores)."""
    return model.module if hasattr(model, "module") else model


def epoch_batches(n: int, global_batch: int, epoch: int, seed: int, d: Dist,
                  shuffle: bool = True, drop_last: bool = False) -> Iterator[torch.Tensor]:
    """This rank's index tensor for each global batch of an epoch.

    The permutation depends only on (seed, epoch), like DistributedSampler's; every global batch
    is split into `world_size` equal shards (the last, short batch too, padded by wrapping so
    DDP's gradient average stays a mean over equal shards)."""
    if global_batch % d.world_size:
        raise ValueError(f"global batch {global_batch} is not divisible by {d.world_size} processes")
    if shuffle:
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(n, generator=g)
    else:
        order = torch.arange(n)
    for start in range(0, n, global_batch):
        batch = order[start:start + global_batch]
        if len(batch) < global_batch:
            if drop_last:
                return
            if d.distributed:  # pad to a multiple of world_size so shards are equal
                pad = (-len(batch)) % d.world_size
                batch = torch.cat([batch, order[:pad]])
        size = len(batch) // d.world_size
        yield batch[d.rank * size:(d.rank + 1) * size] if d.distributed else batch


def reduce_mean(values: dict[str, float], d: Dist) -> dict[str, float]:
    """Average scalar metrics over ranks (each rank's value weighted equally)."""
    if not d.distributed or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    t /= d.world_size
    return dict(zip(keys, t.tolist()))


def reduce_sum(t: torch.Tensor, d: Dist) -> torch.Tensor:
    """Sum a tensor over ranks (counts, histograms)."""
    if d.distributed:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def barrier(d: Dist) -> None:
    """Wait for every rank (e.g. after rank 0 wrote a checkpoint)."""
    if d.distributed:
        dist.barrier()
