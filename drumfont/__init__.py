"""drumfont: one-bar drum patterns from a hierarchical VAE, live MIDI, and GAN-drawn letters."""

import os

__version__ = "0.1.0"

# One BLAS thread for numpy, unless the user chose otherwise. The models' products are small (a
# bar is 16 x 64 numbers), where a second OpenBLAS thread only spins waiting for the first: fitting
# a style to a two-letter image (200 steps) took 0.85 s on one thread and 19.5 s on two, on a busy
# 2-core machine (benchmarks/bench_light.py measures sampling both ways). Read when numpy loads, so
# it is set here, before anything imports numpy; child processes (the live clock) inherit it.
# (OpenBLAS only: numpy's wheels use it; torch reads MKL's and OpenMP's settings, and keeps its own.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
