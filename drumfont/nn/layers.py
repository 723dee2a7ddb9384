"""Inference layers on numpy, written once: what the shipped models' forward passes are made of.

Each layer is built from a PyTorch state dict (arrays under the module's own prefix, as
`nn.Module.state_dict()` names them) and computes what the torch layer computes in eval mode, in
float32. Activations are channels-last: (B, L, C) for sequences, (B, H, W, C) for images, so every
convolution is one matrix product over the channels (the im2col form) with no transposes between
layers; `tests/test_nn.py` holds each layer to its torch twin on random weights and inputs.

Why numpy and not ONNX Runtime (benchmarks/bench_light.py, figures in reports/README.md): for the
drum VAE's decoder both start as fast (import + model + first inference 0.135 s vs 0.137 s in a
fresh process), but numpy is installed anyway (drumfont reads and writes arrays everywhere) and
this adds 1.3 MB (safetensors), where ONNX Runtime adds 76 MB and protobuf; the models are a few
small convolutions, and numpy samples 1,000 bars in about the time torch does.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Mapping

import numpy as np

from drumfont.errors import CheckpointError

State = Mapping[str, np.ndarray]
F32 = np.float32


def _reuse_freed_memory() -> bool:
    """Let glibc keep and reuse the memory of freed arrays instead of handing every block over
    128 kB back to the kernel, which maps fresh zeroed pages for the next one: a batch of 1,000 bars
    makes a few MB of temporaries per layer, and the page faults cost more than the arithmetic
    (1,000 bars sampled in 15 ms median before, 7.6 ms after, on the same machine; torch's own
    allocator does this caching for it). Up to 128 MB freed stays with the process. Linux only;
    elsewhere, or where it fails, nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 * 2**20) and libc.mallopt(m_trim_threshold, 128 * 2**20))
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False


MALLOC_TUNED = _reuse_freed_memory()


def weight(state: State, key: str, shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """A float32 array of the state dict, its shape checked (None: any size on that axis); a missing
    or misshapen weight is a CheckpointError, so a file that does not fit its config says so."""
    if key not in state:
        raise CheckpointError(f"the weights lack {key!r}")
    a = np.asarray(state[key], dtype=F32)
    if shape is not None and (a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise CheckpointError(f"weight {key!r} has shape {a.shape}, expected {want}")
    if not np.isfinite(a).all():
        raise CheckpointError(f"weight {key!r} holds a non-finite value")
    return a


def matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (..., K) @ w (K, N) as one 2-D product: numpy runs a stacked `@` as one small product per
    leading index (a thousand bars were a thousand calls), so the leading axes are folded first."""
    return (np.ascontiguousarray(x).reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[-1])


def pad_steps(x: np.ndarray, p: int) -> np.ndarray:
    """x (B, L, C) with p zero steps either side (np.pad's general path costs more than the copy)."""
    b, length, c = x.shape
    out = np.zeros((b, length + 2 * p, c), x.dtype)
    out[:, p: p + length] = x
    return out


def _bias(state: State, key: str, n: int) -> np.ndarray | None:
    return weight(state, key, (n,)) if key in state else None


# --- activations -----------------------------------------------------------------------------

def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, F32(0))


def leaky_relu(x: np.ndarray, slope: float = 0.2) -> np.ndarray:
    return np.maximum(x, x * F32(slope))  # for 0 <= slope <= 1; a third of np.where's time


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), as torch computes it: exact in the tails (a logit of -30 gives 9e-14, not
    0); below -88 e^-x overflows float32 to inf and the result is 0, as it should be."""
    with np.errstate(over="ignore"):
        return np.reciprocal(np.exp(-x) + F32(1))


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


# --- layers ------------------------------------------------------------------------------------

class Linear:
    """torch.nn.Linear: y = x W^T + b over the last axis."""

    def __init__(self, state: State, prefix: str, in_features: int | None = None, out_features: int | None = None):
        w = weight(state, f"{prefix}.weight", (out_features, in_features))
        self.in_features, self.out_features = w.shape[1], w.shape[0]
        self.w = np.ascontiguousarray(w.T)                      # (in, out)
        self.b = _bias(state, f"{prefix}.bias", self.out_features)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = matmul(x, self.w)
        return y if self.b is None else y + self.b


class Embedding:
    """torch.nn.Embedding: rows of a table by index."""

    def __init__(self, state: State, prefix: str, num: int | None = None, dim: int | None = None):
        self.table = weight(state, f"{prefix}.weight", (num, dim))

    def __call__(self, idx: np.ndarray) -> np.ndarray:
        return self.table[np.asarray(idx, np.int64)]


class Conv1d:
    """torch.nn.Conv1d on channels-last (B, L, C_in) -> (B, L_out, C_out): the k taps of every
    output step side by side (im2col), then one matrix product."""

    def __init__(self, state: State, prefix: str, in_channels: int | None = None, out_channels: int | None = None,
                 kernel: int | None = None, stride: int = 1, padding: int = 0, dilation: int = 1):
        w = weight(state, f"{prefix}.weight", (out_channels, in_channels, kernel))  # (C_out, C_in, k)
        self.out_channels, self.in_channels, self.kernel = w.shape
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.w = np.ascontiguousarray(w.transpose(2, 1, 0).reshape(self.kernel * self.in_channels, self.out_channels))
        self.b = _bias(state, f"{prefix}.bias", self.out_channels)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        b, length, _ = x.shape
        p, s, d, k = self.padding, self.stride, self.dilation, self.kernel
        if k == 1 and p == 0 and s == 1:
            cols = x
        else:
            xp = pad_steps(x, p) if p else x
            out = (length + 2 * p - d * (k - 1) - 1) // s + 1
            cols = np.concatenate([xp[:, t * d: t * d + s * (out - 1) + 1: s] for t in range(k)], axis=-1)
        y = matmul(cols, self.w)
        return y if self.b is None else y + self.b


class ConvTranspose1d:
    """torch.nn.ConvTranspose1d on channels-last (B, L, C_in) -> (B, L_out, C_out), as s stride-1
    convolutions, one per phase of the output (output step j*s + r is phase r of step j): phase r
    of step j sums W[:, :, t] x[j - d] over the taps t = d*s + r + padding that exist. Each phase
    is one matrix product over only its own taps, and the phases interleave by a reshape of the
    channels-last result: no scatter-adds of taps (2.5x faster, benchmarks/bench_light.py)."""

    def __init__(self, state: State, prefix: str, in_channels: int | None = None, out_channels: int | None = None,
                 kernel: int | None = None, stride: int = 1, padding: int = 0, output_padding: int = 0):
        w = weight(state, f"{prefix}.weight", (in_channels, out_channels, kernel))  # (C_in, C_out, k)
        self.in_channels, self.out_channels, self.kernel = w.shape
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        s, p = stride, padding
        # per phase: (the input offsets d it reads, their taps' weights stacked (len(d) * C_in, C_out))
        self.phases: list[tuple[list[int], np.ndarray]] = []
        for r in range(s):
            taps = [((t - r - p) // s, t) for t in range(self.kernel) if (t - r - p) % s == 0]
            self.phases.append(([d for d, _ in taps],
                                np.concatenate([w[:, :, t] for _, t in taps], axis=0) if taps
                                else np.zeros((0, self.out_channels), F32)))
        offsets = [d for ds, _ in self.phases for d in ds] or [0]
        self.lo, self.hi = min(offsets), max(offsets)
        self.b = _bias(state, f"{prefix}.bias", self.out_channels)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        b, length, cin = x.shape
        s, c = self.stride, self.out_channels
        out = (length - 1) * s - 2 * self.padding + self.kernel + self.output_padding
        blocks = -(-out // s)
        left = max(self.hi, 0)
        right = max(blocks - 1 - self.lo - (length - 1), 0)
        xp = np.zeros((b, left + length + right, cin), F32)
        xp[:, left: left + length] = x
        y = np.zeros((b, blocks, s, c), F32)
        for r, (ds, w) in enumerate(self.phases):
            if ds:
                cols = np.concatenate([xp[:, left - d: left - d + blocks] for d in ds], axis=-1)
                y[:, :, r] = matmul(cols, w)
        y = y.reshape(b, blocks * s, c)[:, :out]
        return y if self.b is None else y + self.b


class Conv2d:
    """torch.nn.Conv2d on channels-last (B, H, W, C_in) -> (B, H_out, W_out, C_out) (im2col)."""

    def __init__(self, state: State, prefix: str, in_channels: int | None = None, out_channels: int | None = None,
                 kernel: int | None = None, stride: int = 1, padding: int = 0):
        w = weight(state, f"{prefix}.weight", (out_channels, in_channels, kernel, kernel))  # (C_out, C_in, kh, kw)
        self.out_channels, self.in_channels, self.kh, self.kw = w.shape
        self.stride, self.padding = stride, padding
        self.w = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, self.out_channels))
        self.b = _bias(state, f"{prefix}.bias", self.out_channels)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        _, h, w_, _ = x.shape
        p, s = self.padding, self.stride
        xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))) if p else x
        ho, wo = (h + 2 * p - self.kh) // s + 1, (w_ + 2 * p - self.kw) // s + 1
        cols = np.concatenate([xp[:, i: i + s * (ho - 1) + 1: s, j: j + s * (wo - 1) + 1: s]
                               for i in range(self.kh) for j in range(self.kw)], axis=-1)
        y = matmul(cols, self.w)
        return y if self.b is None else y + self.b


class ConvTranspose2d:
    """torch.nn.ConvTranspose2d on channels-last (B, H, W, C_in) -> (B, H_out, W_out, C_out), and
    its adjoint (`backward`: the gradient with respect to the input, for fitting a latent)."""

    def __init__(self, state: State, prefix: str, in_channels: int | None = None, out_channels: int | None = None,
                 kernel: int | None = None, stride: int = 1, padding: int = 0):
        w = weight(state, f"{prefix}.weight", (in_channels, out_channels, kernel, kernel))  # (C_in, C_out, kh, kw)
        self.in_channels, self.out_channels, self.kh, self.kw = w.shape
        self.stride, self.padding = stride, padding
        self.w = np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(self.in_channels, -1))  # (C_in, kh*kw*C_out)
        self.b = _bias(state, f"{prefix}.bias", self.out_channels)

    def _sizes(self, h: int, w: int) -> tuple[int, int, int, int]:
        s = self.stride
        return (h - 1) * s + self.kh, (w - 1) * s + self.kw, (h - 1) * s - 2 * self.padding + self.kh, \
            (w - 1) * s - 2 * self.padding + self.kw

    def __call__(self, x: np.ndarray) -> np.ndarray:
        b, h, w_, _ = x.shape
        s, c, p = self.stride, self.out_channels, self.padding
        fh, fw, ho, wo = self._sizes(h, w_)
        taps = matmul(x, self.w).reshape(b, h, w_, self.kh, self.kw, c)
        full = np.zeros((b, fh, fw, c), F32)
        for i in range(self.kh):
            for j in range(self.kw):
                full[:, i: i + (h - 1) * s + 1: s, j: j + (w_ - 1) * s + 1: s] += taps[:, :, :, i, j]
        y = full[:, p: p + ho, p: p + wo]
        return y if self.b is None else y + self.b

    def backward(self, grad: np.ndarray, h: int, w: int) -> np.ndarray:
        """d loss / d input (B, h, w, C_in) from d loss / d output (B, H_out, W_out, C_out)."""
        b = grad.shape[0]
        s, p = self.stride, self.padding
        fh, fw, ho, wo = self._sizes(h, w)
        full = np.zeros((b, fh, fw, self.out_channels), F32)
        full[:, p: p + ho, p: p + wo] = grad
        cols = np.stack([full[:, i: i + (h - 1) * s + 1: s, j: j + (w - 1) * s + 1: s]
                         for i in range(self.kh) for j in range(self.kw)], axis=3)  # (B, h, w, kh*kw, C_out)
        return matmul(cols.reshape(b, h, w, -1), self.w.T)


class BatchNorm:
    """torch.nn.BatchNorm1d/2d in eval mode, on the last (channel) axis: its running statistics
    folded into one scale and shift."""

    def __init__(self, state: State, prefix: str, num_features: int | None = None, eps: float = 1e-5):
        n = (num_features,)
        mean, var = weight(state, f"{prefix}.running_mean", n), weight(state, f"{prefix}.running_var", n)
        if (var < 0).any():
            raise CheckpointError(f"{prefix}.running_var holds a negative variance")
        self.num_features = len(mean)
        gamma = weight(state, f"{prefix}.weight", (self.num_features,)) if f"{prefix}.weight" in state \
            else np.ones(self.num_features, F32)
        beta = _bias(state, f"{prefix}.bias", self.num_features)
        self.scale = (gamma / np.sqrt(var + F32(eps))).astype(F32)
        self.shift = ((0 if beta is None else beta) - mean * self.scale).astype(F32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.shift


class GroupNorm1:
    """torch.nn.GroupNorm(1, C): every sample normalised over all its steps and channels."""

    def __init__(self, state: State, prefix: str, num_channels: int | None = None, eps: float = 1e-5):
        self.gamma = weight(state, f"{prefix}.weight", (num_channels,))
        self.beta = weight(state, f"{prefix}.bias", (len(self.gamma),))
        self.eps = F32(eps)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        axes = tuple(range(1, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.gamma + self.beta


def max_pool2d(x: np.ndarray, k: int = 2) -> np.ndarray:
    """torch.nn.MaxPool2d(k) on channels-last images (an odd edge row or column is dropped)."""
    b, h, w, c = x.shape
    x = x[:, : h // k * k, : w // k * k]
    return x.reshape(b, h // k, k, w // k, k, c).max(axis=(2, 4))


class GRUCell:
    """torch.nn.GRUCell (or one layer of torch.nn.GRU, `suffix="_l0"`): gates r, z, n in PyTorch's
    order, h' = (1 - z) * n + z * h."""

    def __init__(self, state: State, prefix: str, input_size: int | None = None, hidden_size: int | None = None,
                 suffix: str = ""):
        w_ih = weight(state, f"{prefix}.weight_ih{suffix}", (None, input_size))
        self.hidden_size = w_ih.shape[0] // 3
        if hidden_size is not None and self.hidden_size != hidden_size or w_ih.shape[0] % 3:
            raise CheckpointError(f"{prefix}.weight_ih{suffix} has {w_ih.shape[0]} rows, expected 3 x hidden")
        h = self.hidden_size
        self.w_ih = np.ascontiguousarray(w_ih.T)
        self.w_hh = np.ascontiguousarray(weight(state, f"{prefix}.weight_hh{suffix}", (3 * h, h)).T)
        self.b_ih = _bias(state, f"{prefix}.bias_ih{suffix}", 3 * h)
        self.b_hh = _bias(state, f"{prefix}.bias_hh{suffix}", 3 * h)

    def __call__(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        gi = matmul(x, self.w_ih)
        gh = matmul(h, self.w_hh)
        if self.b_ih is not None:
            gi = gi + self.b_ih
        if self.b_hh is not None:
            gh = gh + self.b_hh
        n_ = self.hidden_size
        r = sigmoid(gi[..., :n_] + gh[..., :n_])
        z = sigmoid(gi[..., n_: 2 * n_] + gh[..., n_: 2 * n_])
        n = np.tanh(gi[..., 2 * n_:] + r * gh[..., 2 * n_:])
        return (1 - z) * n + z * h


class GRU:
    """torch.nn.GRU(batch_first=True), one layer: the cell run over (B, T, input) from h (B, hidden);
    returns every step's state (B, T, hidden) and the last."""

    def __init__(self, state: State, prefix: str, input_size: int | None = None, hidden_size: int | None = None):
        self.cell = GRUCell(state, prefix, input_size, hidden_size, suffix="_l0")

    def __call__(self, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        states = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            states.append(h)
        return np.stack(states, axis=1), h
