"""Cost of each GAN stabiliser: milliseconds per training step (D + G update, batch 64) and
seconds per epoch of the 5,200 training letters, measured side by side in one process,
round-robin, so machine load hits every configuration alike. Prints a table with the ratio
to vanilla.

    python benchmarks/bench_gan_step.py [--steps 20] [--rounds 3] [--g-width 32 --d-width 16]
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import replace

import torch

from drumfont.letters.gan import Discriminator, GanConfig, Generator, d_loss, g_loss, unrolled_g_loss
from drumfont.trainers.compare_gans import SINGLES, TRAIN_FIELDS
from drumfont.trainers.train_gan import ema_update


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--g-width", type=int, default=32)
    p.add_argument("--d-width", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    base = GanConfig(g_width=args.g_width, d_width=args.d_width)
    configs = dict(SINGLES)
    configs["mbstd+mbd"] = {"mbstd": True, "mbd": True}
    configs["mbstd+info+ema"] = {"mbstd": True, "info_codes": 26, "ema": 0.999}
    setups = {}
    for name, over in configs.items():
        cfg = replace(base, **{k: v for k, v in over.items() if k not in TRAIN_FIELDS})
        torch.manual_seed(0)
        g, d = Generator(cfg), Discriminator(cfg)
        avg = copy.deepcopy(g) if over.get("ema") else None   # the EMA's cost: one lerp per weight per step
        setups[name] = (cfg, g, d, torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999)),
                        torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999)), avg)
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(args.batch_size, 1, 28, 28, generator=gen)
    best = {name: float("inf") for name in configs}
    for _ in range(args.rounds):
        for name, (cfg, g, d, og, od, avg) in setups.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                z = g.latent(args.batch_size, gen)
                codes = g.codes(z)
                fake = g(z)
                ld = d_loss(d, real, fake.detach(), None, None, cfg, gen, codes=codes)
                od.zero_grad()
                ld.backward()
                od.step()
                lg = (unrolled_g_loss if cfg.unrolled else g_loss)(d, real, fake, None, None, cfg, gen, codes=codes)
                og.zero_grad()
                lg.backward()
                og.step()
                if avg is not None:
                    ema_update(avg, g, 0.999)
            best[name] = min(best[name], (time.perf_counter() - t0) / args.steps)
    steps_per_epoch = 5200 // args.batch_size
    print(f"torch {torch.__version__}, {args.threads} thread(s), G width {args.g_width}, D width {args.d_width}, "
          f"batch {args.batch_size}; best of {args.rounds} rounds of {args.steps} steps")
    print(f"{'configuration':16s}{'ms/step':>10s}{'s/epoch':>10s}{'x vanilla':>11s}")
    for name, t in best.items():
        print(f"{name:16s}{1000 * t:10.1f}{t * steps_per_epoch:10.2f}{t / best['vanilla']:11.2f}")


if __name__ == "__main__":
    main()
