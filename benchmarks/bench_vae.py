"""Speed of the drum VAE: training the preset config, and sampling in-process.

    python benchmarks/bench_vae.py [--preset PATH] [--train-epochs N] [--threads 1 2]

Prints: wall time of a full training run per thread count (the preset's own config, the
built-in corpus), and the median time of sampling 1 bar and 1000 bars through the drum API
(Pattern objects included) and through the bare model.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default=None, help="VAE checkpoint (default: the shipped one)")
    p.add_argument("--train-epochs", type=int, default=None, help="epochs (default: the preset's)")
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="thread counts to train with")
    p.add_argument("--skip-train", action="store_true")
    args = p.parse_args()

    import torch

    from drumfont import drums
    from drumfont.drums.hvae import HVAEConfig

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    model = drums.load(args.preset)

    torch.set_num_threads(1)
    model.sample("rock", 1, seed=0)  # warm-up
    one = median_ms(lambda: model.sample("rock", 1, seed=1), 200)
    thousand = median_ms(lambda: model.sample("rock", 1000, seed=1), 20)
    arrays = median_ms(lambda: model.sample_arrays("rock", 1000, seed=1), 20)
    rng = np.random.default_rng(0)

    def bare(n: int):  # the numpy model alone: prior and decoder of n codes
        zh = rng.standard_normal((n, model.config.z_high), dtype=np.float32)
        model._model.decode(zh, model._model.sample_low(zh, rng.standard_normal((n, model.config.z_low),
                                                                                   dtype=np.float32)))
    bare_one, bare_k = median_ms(lambda: bare(1), 200), median_ms(lambda: bare(1000), 20)
    print(f"sample 1 bar (API, Pattern)      {one:8.3f} ms   target <= 1 ms")
    print(f"sample 1000 bars (API, Patterns) {thousand:8.3f} ms   target <= 50 ms")
    print(f"sample 1000 bars (API, arrays)   {arrays:8.3f} ms")
    print(f"bare model: 1 bar {bare_one:.3f} ms, 1000 bars {bare_k:.3f} ms")

    if args.skip_train:
        return
    from drumfont.trainers.train_vae import TrainConfig, train

    blob_cfg = model.config
    from drumfont.nn import preset as presets
    from drumfont.paths import preset_path

    saved = presets.load(args.preset or preset_path(drums.PRESET_NAME), "vae")["config"]["train"]
    for threads in args.threads:
        cfg = dataclasses.replace(TrainConfig(**saved), threads=threads)
        if args.train_epochs:
            cfg = dataclasses.replace(cfg, epochs=args.train_epochs)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            train(HVAEConfig(**dataclasses.asdict(blob_cfg)), cfg, None, Path(tmp) / "v.pt", force=True,
                  show_progress=False, log=lambda m: None)
            print(f"train {cfg.epochs} epochs, {threads} thread(s): {time.perf_counter() - t:7.1f} s "
                  "(corpus build included)   target <= 180 s")


if __name__ == "__main__":
    main()
