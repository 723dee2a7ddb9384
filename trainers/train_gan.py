"""Train the letter GAN (unconditional or conditional) with any mix of stabilisers.

    python -m drumfont.trainers.train_gan --run runs/gan --epochs 60 --preset-out presets/letters_gan.pt
    drumfont train gan --conditional --run runs/cgan

Every step logs D/G loss, their ratio and gradient norms; every --eval-every epochs it samples
--eval-samples letters, classifies them and logs coverage, KL to uniform, confidence, the
unique-sample diversity score and per-letter counts. History: RUN/history.jsonl. Checkpoint:
RUN/checkpoint.pt (atomic, every epoch; --resume continues from it). The generator alone goes
to RUN/generator.pt and, with --preset-out, to that path. With --ema D, an exponential moving
average of G's weights (decay D, warmed up over the first steps) is kept beside G; it is what
the evaluations measure and what is written, with its batch-norm statistics measured afresh on
its own outputs (its weights never ran forward, so G's running statistics do not fit it).

Distributed: `torchrun --nproc_per_node N -m trainers.train_gan ...` trains G and D with
DistributedDataParallel. --batch-size is the global batch; each rank takes its B/N shard of the
same global batches one process sees, draws its own z, labels, DiffAugment and dropout (seeded by
seed, epoch and rank) and DDP averages each network's gradients over ranks. What the extras that
read a batch do across ranks:
- batch norm (G): on CUDA it becomes SyncBatchNorm, statistics over the global batch; gloo has
  none, so on CPU each rank normalises with its own shard's statistics, and the running
  statistics kept are rank 0's (DDP re-broadcasts rank 0's buffers at every forward);
- minibatch discrimination and minibatch stddev (D): computed over the rank's local shard (B/N
  samples); the layer's weights are shared and their gradients averaged;
- feature matching: the mean features of the local real and fake shards;
- unrolled D: each rank steps its own functional copy of D's weights k times on its local shard
  (no communication inside the look-ahead); G's gradient through it is averaged by G's DDP; in
  G's update D runs as the plain module, its gradients there are thrown away;
- R1: per sample, so the averaged gradient equals the single-process one;
- InfoGAN code: each rank draws its own codes; the code head is part of D and averaged with it;
- EMA: every rank updates its copy from the same (averaged) G weights; rank 0's is written.
So with N ranks these statistics see B/N samples: keep B/N >= 16 or so for MBD and mbstd to mean
what they do with one process. Per-step and per-epoch losses are averaged over ranks; rank 0
alone evaluates, logs and writes history, checkpoints and the generator.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from drumfont.atomic import check_writable
from drumfont.checkpoint import load_checkpoint, save_checkpoint
from drumfont.errors import DrumfontError
from drumfont.letters import metrics as M
from drumfont.letters.classifier import classify, load_classifier
from drumfont.letters.data import TRAIN, FontDataset, build_fonts
from drumfont.letters.gan import (
    Discriminator,
    GanConfig,
    Generator,
    d_loss,
    g_loss,
    recalibrate_batchnorm,
    unrolled_g_loss,
)
from drumfont.nn.preset import SUFFIX
from drumfont.trainers.batches import ImageRows
from drumfont.trainers.common import History, add_dataclass_args, dataclass_from_args, progress, seed_everything
from drumfont.trainers.distributed import (
    barrier,
    epoch_batches,
    epoch_generator,
    log,
    on_main,
    reduce_mean,
    reduce_tensor_mean,
    run_main,
    seed_epoch,
    setup,
    unwrap,
    wrap,
)
from drumfont.trainers.export_preset import export
from drumfont.validate import CHECKPOINT_OUT, OneLineParser, check_output


@dataclass
class TrainConfig:
    """The loop's settings (the networks' live in GanConfig)."""

    run: str = field(default="runs/gan", metadata={"help": "run folder: checkpoint, history, generator"})
    data: str = field(default="", metadata={"help": "fonts dataset (.npz); empty = build the default set"})
    data_seed: int = field(default=0, metadata={"help": "seed of the default set when --data is empty"})
    classifier: str = field(default="", metadata={"help": "letter classifier checkpoint; empty = shipped preset"})
    epochs: int = field(default=60, metadata={"help": "passes over the training letters"})
    batch_size: int = field(default=64, metadata={"help": "images per step, over all processes (global batch)"})
    lr: float = field(default=2e-4, metadata={"help": "Adam learning rate (G and D)"})
    beta1: float = field(default=0.5, metadata={"help": "Adam beta1"})
    beta2: float = field(default=0.999, metadata={"help": "Adam beta2"})
    eval_every: int = field(default=10, metadata={"help": "epochs between coverage evaluations"})
    eval_samples: int = field(default=2600, metadata={"help": "samples per evaluation"})
    ema: float = field(default=0.0, metadata={"help": "keep an exponential moving average of G's weights with this decay and "
                                                      "evaluate and ship it (0 = off, the study's G)"})
    seed: int = field(default=0, metadata={"help": "seed of init, data order, z and augmentation"})
    threads: int = field(default=1, metadata={"help": "torch CPU threads"})
    resume: bool = field(default=False, metadata={"help": "continue RUN/checkpoint.pt"})
    preset_out: str = field(default="", metadata={"help": "also write the final generator here (.safetensors: "
                                                          "the preset, which plays without torch)"})
    force: bool = field(default=False, metadata={"help": "overwrite an existing run / --preset-out"})
    log_steps: bool = field(default=True, metadata={"help": "write one history line per step"})
    progress: bool = field(default=True, metadata={"help": "progress bar on a terminal"})
    device: str = field(default="auto", metadata={"help": "auto (a GPU per rank when present, else CPU), cpu or cuda"})


@torch.no_grad()
def ema_update(avg: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """avg <- decay * avg + (1 - decay) * model, weights only (batch-norm statistics are measured
    afresh for the average by recalibrate_batchnorm)."""
    for pa, pm in zip(avg.parameters(), model.parameters()):
        pa.lerp_(pm, 1.0 - decay)


def ema_decay(target: float, step: int) -> float:
    """Warm-up: early on the average follows G closely, so it does not drag the random init along."""
    return min(target, (1.0 + step) / (10.0 + step))


def shipped_generator(g: torch.nn.Module, g_ema: Generator | None, seed: int, epoch: int) -> Generator:
    """The generator that is evaluated and written: G itself, or its EMA with batch-norm
    statistics measured on its own outputs (seeded, so an evaluation is reproducible)."""
    if g_ema is None:
        return unwrap(g)
    recalibrate_batchnorm(g_ema, torch.Generator().manual_seed(seed * 1000 + epoch))
    return g_ema.eval()


def grad_norm(module: torch.nn.Module) -> float:
    """L2 norm of all parameter gradients of a module."""
    sq = [p.grad.detach().pow(2).sum() for p in module.parameters() if p.grad is not None]
    return float(torch.stack(sq).sum().sqrt()) if sq else 0.0


@torch.no_grad()
def evaluate(g: Generator, clf, n: int, seed: int) -> dict:
    """Sample n letters (fixed seed, so evaluations are comparable), classify, measure collapse."""
    was = g.training
    g.eval()
    gen = torch.Generator().manual_seed(seed)
    dev = next(g.parameters()).device
    k = g.cfg.classes
    labels = torch.arange(n) % k if g.cfg.conditional else None
    # z from a CPU generator, so a seed gives the same letters on any device
    images = torch.cat([g(g.latent(min(1000, n - i), gen).to(dev),
                          None if labels is None else labels[i:i + 1000].to(dev)).cpu()
                        for i in range(0, n, 1000)])[:, 0]
    g.train(was)
    pred, conf, _ = classify(clf, images, classes=k)  # a letters-only GAN is read as letters
    counts = M.letter_counts(pred.numpy(), k)
    out = {"letters_covered": M.letters_covered(counts), "letters_covered_strict": M.letters_covered(counts, 0.25),
           "kl_uniform": M.kl_uniform(counts), "mean_confidence": float(conf.mean()),
           "diversity": M.diversity_score(images.numpy()), "counts": counts.tolist(), "samples": n}
    if labels is not None:
        out["cond_accuracy"] = float((pred == labels).float().mean())
    return out


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse the flags and train."""
    parser = OneLineParser(prog=prog, description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The trainer's flags: loop settings, then the GAN's (same names as the dataclass fields)."""
    add_dataclass_args(parser, TrainConfig)
    # torchrun parses every flag after it and has --run-path, so there --run is "ambiguous"
    parser.add_argument("--run-dir", dest="run", help="the same as --run; use this one under torchrun")
    add_dataclass_args(parser, GanConfig)


def run_from_args(args: argparse.Namespace) -> int:
    """Build both configs from parsed flags and train; user errors become one line and exit 2."""
    return run_main(lambda: train(dataclass_from_args(TrainConfig, args), dataclass_from_args(GanConfig, args)))


def train(cfg: TrainConfig, gcfg: GanConfig) -> dict:
    """The whole run (one process, or one rank under torchrun); returns the last evaluation
    (on rank 0; {} elsewhere)."""
    run = Path(cfg.run)
    ckpt_path, hist_path, gen_path = run / "checkpoint.pt", run / "history.jsonl", run / "generator.pt"
    job = setup(cfg.device)  # `job`, not `d`: d is the discriminator here
    if cfg.epochs < 1 or cfg.batch_size < 2 or cfg.eval_every < 1 or cfg.eval_samples < 26:
        raise DrumfontError("need epochs >= 1, batch size >= 2, eval every >= 1 and eval samples >= 26")
    if not 0.0 <= cfg.ema < 1.0:
        raise DrumfontError(f"--ema {cfg.ema}: the decay must be in [0, 1) (0 = off)")
    if cfg.batch_size % job.world_size or cfg.batch_size // job.world_size < 2:
        raise DrumfontError(f"--batch-size {cfg.batch_size} (the global batch) must split into equal shards of "
                            f"at least 2 over {job.world_size} processes (batch norm and MBD need a batch)")

    def check_or_load():
        # On rank 0 only; its checkpoint (or its refusal) goes to every rank.
        for path in (ckpt_path, hist_path, gen_path):  # names and folder checked before any epoch
            check_output(path, force=True)
        if not cfg.resume and not cfg.force and (ckpt_path.exists() or hist_path.exists()):
            raise DrumfontError(f"{run} already holds a run; pass --resume to continue it or --force to restart")
        if cfg.preset_out:
            check_writable(cfg.preset_out, cfg.force, CHECKPOINT_OUT, "--preset-out")
        return load_checkpoint(ckpt_path, "gan_run") if cfg.resume and ckpt_path.exists() else None

    blob = on_main(check_or_load, job)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)

    # --- data, models, optimisers ---
    data = (FontDataset.load(cfg.data) if cfg.data else build_fonts(seed=cfg.data_seed)).first(gcfg.classes)
    rows = ImageRows.of(data, TRAIN)  # uint8 images; each batch becomes floats on its own
    clf, _ = load_classifier(cfg.classifier or None)
    if blob is not None and blob["config"] != gcfg.to_dict():
        gcfg = GanConfig(**blob["config"])  # the run's own architecture wins over flags
    g, d = Generator(gcfg), Discriminator(gcfg)
    if blob is not None:
        g.load_state_dict(blob["state_dict"]["G"]), d.load_state_dict(blob["state_dict"]["D"])
    g_ema = copy.deepcopy(g).eval() if cfg.ema > 0 else None
    if g_ema is not None and blob is not None and "G_ema" in blob["state_dict"]:
        g_ema.load_state_dict(blob["state_dict"]["G_ema"])
    g, d = wrap(g, job), wrap(d, job)  # DDP under torchrun (SyncBatchNorm in G on CUDA)
    if g_ema is not None:
        g_ema.to(job.device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    history = History(hist_path, enabled=job.is_main)
    start_epoch, last_eval = 1, {}
    if blob is not None:
        opt_g.load_state_dict(blob["state_dict"]["opt_G"]), opt_d.load_state_dict(blob["state_dict"]["opt_D"])
        start_epoch = int(blob["extras"]["epoch"]) + 1
        last_eval = blob["metrics"]
        history.truncate_after("epoch", start_epoch - 1)
        log(job, f"resuming {run} at epoch {start_epoch}")
    elif job.is_main and hist_path.exists():
        hist_path.unlink()  # --force (or --resume without a checkpoint): a fresh history
    cond = gcfg.conditional
    dev = job.device
    n = len(rows)
    steps = n // cfg.batch_size  # drop the ragged last batch: batch statistics (BN, MBD) need a full one

    for epoch in range(start_epoch, cfg.epochs + 1):
        t0 = time.time()
        gen = epoch_generator(cfg.seed, epoch, job)  # this rank's z, labels and DiffAugment
        seed_epoch(cfg.seed, epoch, job)             # this rank's dropout masks in D
        sums = np.zeros(4)
        batches = epoch_batches(n, cfg.batch_size, epoch, cfg.seed, job, drop_last=True)
        for i, idx in enumerate(progress(batches, total=steps, desc=f"epoch {epoch}/{cfg.epochs}",
                                         enabled=cfg.progress and job.is_main)):
            real, letters = rows.batch(idx, dev)  # this rank's shard of global batch i
            labels = letters if cond else None
            b = len(idx)
            fake_labels = torch.randint(0, gcfg.classes, (b,), generator=gen).to(dev) if cond else None

            # --- update D: real -> 1, fake -> 0 ---
            z = unwrap(g).latent(b, gen)
            codes = unwrap(g).codes(z)
            z, codes = z.to(dev), None if codes is None else codes.to(dev)
            fake = g(z, fake_labels)
            loss_d = d_loss(d, real, fake.detach(), labels, fake_labels, gcfg, gen, codes=codes)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            gn_d = grad_norm(d)
            opt_d.step()

            # --- update G: fool D (optionally D unrolled k steps ahead), match its features ---
            # D's gradients from here are thrown away, so D runs as the plain module (no DDP sync);
            # the unrolled copy is functional, on this rank's shard.
            if gcfg.unrolled > 0:
                loss_g = unrolled_g_loss(unwrap(d), real, fake, labels, fake_labels, gcfg, gen, codes=codes)
            else:
                loss_g = g_loss(unwrap(d), real, fake, labels, fake_labels, gcfg, gen, codes=codes)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            gn_g = grad_norm(g)
            opt_g.step()
            if g_ema is not None:
                ema_update(g_ema, unwrap(g), ema_decay(cfg.ema, (epoch - 1) * steps + i))

            ld, lg = loss_d.item(), loss_g.item()
            sums += (ld, lg, gn_d, gn_g)  # grad norms are of the rank-averaged gradients
            if cfg.log_steps:
                ld, lg = reduce_mean({"d": ld, "g": lg}, job).values()
                history.write({"type": "step", "epoch": epoch, "step": (epoch - 1) * steps + i, "d_loss": ld,
                               "g_loss": lg, "ratio": ld / max(lg, 1e-8), "d_grad": gn_d, "g_grad": gn_g})
        seconds = time.time() - t0
        mean = reduce_tensor_mean(torch.from_numpy(sums / max(steps, 1)), job).numpy()  # over ranks
        history.write({"type": "epoch", "epoch": epoch, "seconds": seconds, "d_loss": mean[0], "g_loss": mean[1],
                       "d_grad": mean[2], "g_grad": mean[3]})

        if job.is_main and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
            last_eval = evaluate(shipped_generator(g, g_ema, cfg.seed, epoch), clf, cfg.eval_samples,
                                 seed=cfg.seed + 10_000)
            last_eval["epoch"] = epoch
            history.write({"type": "eval", **last_eval})
            msg = (f"epoch {epoch}: letters {last_eval['letters_covered']}/{gcfg.classes} "
                   f"(strict {last_eval['letters_covered_strict']}), KL {last_eval['kl_uniform']:.3f}, "
                   f"conf {last_eval['mean_confidence']:.3f}")
            if cond:
                msg += f", agreement {last_eval['cond_accuracy']:.3f}"
            print(msg + f", {seconds:.1f}s/epoch", file=sys.stderr)

        # No generator states in the checkpoint: every epoch's draws follow from (seed, epoch, rank).
        if job.is_main:
            states = {"G": unwrap(g).state_dict(), "D": unwrap(d).state_dict(), "opt_G": opt_g.state_dict(),
                      "opt_D": opt_d.state_dict()}
            if g_ema is not None:
                states["G_ema"] = g_ema.state_dict()
            save_checkpoint(ckpt_path, "gan_run", gcfg.to_dict(), states,
                            extras={"epoch": epoch, "train": asdict(cfg)}, metrics=last_eval)
    if not job.is_main:
        barrier(job)  # wait for rank 0 to write the generator
        return {}

    # --- the generator alone: what `drumfont letters` and `report gan` load ---
    # the history travels with the generator (steps thinned to <= 2000) so `report gan` can draw
    # coverage, survival and dynamics for a preset too
    records = history.read()
    steps_log = [r for r in records if r.get("type") == "step"]
    steps_log = steps_log[:: max(1, len(steps_log) // 2000)]
    # where each glyph sits in the training fonts (median ink box and advance, in cap heights):
    # the images are all scaled to one box, so a font builder places '.' and '-' from this
    extras = {"train": asdict(cfg), "epochs": cfg.epochs, "data_fonts": list(data.fonts),
              "glyphs": data.glyphs, "layout": data.median_layout(),
              "history_evals": [r for r in records if r.get("type") == "eval"],
              "history_steps": steps_log,
              "seconds": sum(r["seconds"] for r in records if r.get("type") == "epoch")}
    shipped = shipped_generator(g, g_ema, cfg.seed, cfg.epochs).state_dict()
    save_checkpoint(gen_path, "letters_gan", gcfg.to_dict(), shipped, extras=extras, metrics=last_eval)
    export(gen_path)  # generator.safetensors: the same generator, playable without torch
    if cfg.preset_out:  # a .safetensors name gets the preset, any other the torch checkpoint
        if Path(cfg.preset_out).suffix == SUFFIX:
            export(gen_path, cfg.preset_out, force=cfg.force)
        else:
            save_checkpoint(cfg.preset_out, "letters_gan", gcfg.to_dict(), shipped, extras=extras,
                            metrics=last_eval, force=cfg.force)
        print(f"wrote {cfg.preset_out}", file=sys.stderr)
    barrier(job)
    return last_eval


if __name__ == "__main__":
    raise SystemExit(main())
