"""torchrun / DistributedDataParallel plumbing shared by the trainers, and nothing else.

A trainer runs unchanged as one process or under `torchrun --nproc_per_node N`: `setup()` reads
torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK), picks gloo on CPU and nccl on CUDA, and
returns a `Dist` that says who this process is. Batches come from `epoch_batches`, which gives
every rank its shard of the *same* global batches a single process would see (a seeded global
permutation per epoch, cut into global batches, each split across ranks), so with the same
global batch size and seed the 1-process and N-process loss curves agree up to float rounding
(where the loss has no per-rank randomness or batch statistics; see each trainer's docstring).

Randomness inside an epoch (VAE noise, GAN z, augmentation, dropout) comes from `epoch_generator`
/ `seed_epoch`: a pure function of (seed, epoch, rank), so ranks draw independent noise and a
resumed run replays an epoch exactly without storing generator states. Only rank 0 logs and
writes; `on_main` runs a check or a load on rank 0 and hands its result (or its DrumfontError)
to every rank, so a bad flag stops the whole job with one message instead of a hang.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

import torch
import torch.distributed as dist

from drumfont.errors import DrumfontError

T = TypeVar("T")


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
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise DrumfontError(f"unknown --device {name!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DrumfontError("--device cuda asked for, but torch sees no GPU; use --device cpu or auto")
        if dev.index is None:  # one GPU per rank on a node
            dev = torch.device(f"cuda:{local_rank}")
    return dev


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
        # Free DDP's reducers (and any gloo work they hold) while the group still exists rather
        # than at interpreter exit. A mitigation, not a proven cure: 2 of some 50 gloo runs here
        # ended in an abort at exit ("terminate called without an active exception") after all
        # their work was done and written.

        gc.collect()
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, d: Dist) -> torch.nn.Module:
    """DistributedDataParallel around `model` when distributed; the model itself otherwise.

    DDP copies rank 0's parameters and buffers to every rank here, averages gradients over
    ranks in backward, and re-broadcasts rank 0's buffers (batch-norm running statistics) at
    each forward. On CUDA, batch norm becomes SyncBatchNorm (batch statistics over the global
    batch); gloo has no SyncBatchNorm, so on CPU each rank normalises with its local shard's
    statistics. Build the optimiser after wrapping (the parameters are the same objects)."""
    model.to(d.device)
    if not d.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    if d.device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DDP(model, device_ids=[d.device.index])
    return DDP(model)


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


def rank_seed(seed: int, epoch: int, d: Dist, stream: int = 0) -> int:
    """A seed that depends only on (seed, epoch, rank, stream): independent draws per rank,
    replayable after a resume. Rank 0 of a 1-process run uses the same seeds as rank 0 of N."""
    return (seed * 1_000_003 + epoch * 10_007 + d.rank * 101 + stream) % (2**63 - 1)


def epoch_generator(seed: int, epoch: int, d: Dist, stream: int = 0) -> torch.Generator:
    """A CPU torch.Generator for this rank's noise in one epoch (z, augmentation, VAE noise).
    Draws stay on the CPU, so a seed gives the same numbers with or without a GPU."""
    return torch.Generator().manual_seed(rank_seed(seed, epoch, d, stream))


def seed_epoch(seed: int, epoch: int, d: Dist) -> None:
    """Seed torch's global stream (dropout masks) for this rank and epoch."""
    torch.manual_seed(rank_seed(seed, epoch, d, stream=99))


def on_main(fn: Callable[[], T], d: Dist) -> T:
    """Run `fn` on rank 0 only and give its result to every rank (pickled, through the process
    group); a DrumfontError raised there is raised on every rank, so no rank waits forever in
    a collective that rank 0 never reaches."""
    if not d.distributed:
        return fn()

    box: list[Any] = [None]
    if d.is_main:
        try:
            box[0] = ("ok", fn())
        except DrumfontError as exc:
            box[0] = ("error", exc)
    dist.broadcast_object_list(box, src=0)
    status, value = box[0]
    if status == "error":
        raise value
    return value


def log(d: Dist, msg: str) -> None:
    """A line on stderr from rank 0 only."""
    if d.is_main:
        print(msg, file=sys.stderr, flush=True)


def reduce_mean(values: dict[str, float], d: Dist) -> dict[str, float]:
    """Average scalar metrics over ranks (each rank's value weighted equally)."""
    if not d.distributed or not values:
        return values
    keys = sorted(values)
    # nccl reduces only CUDA tensors; gloo takes CPU ones
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=d.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    t /= d.world_size
    return dict(zip(keys, t.tolist()))


def reduce_tensor_mean(t: torch.Tensor, d: Dist) -> torch.Tensor:
    """Average a tensor over ranks (per-dimension statistics such as KL per latent unit)."""
    return reduce_sum(t, d) / d.world_size if d.distributed else t


def reduce_sum(t: torch.Tensor, d: Dist) -> torch.Tensor:
    """Sum a tensor over ranks (counts, histograms)."""
    if d.distributed:
        home = t.device
        t = t.detach().to(d.device, copy=True)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t = t.to(home)
    return t


def barrier(d: Dist) -> None:
    """Wait for every rank (e.g. after rank 0 wrote a checkpoint)."""
    if d.distributed:
        dist.barrier()


def run_main(body: Callable[[], object]) -> int:
    """Run a trainer's body as a command: a DrumfontError becomes one line on stderr and exit
    code 2, and the process group is always left (after an error on any rank too)."""
    try:
        body()
    except DrumfontError as exc:
        print(f"drumfont: error: {exc}", file=sys.stderr)
        return 2
    finally:
        teardown()
    return 0
