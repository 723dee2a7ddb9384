"""torch's seeded normal draws, on numpy: `torch.randn(n, generator=torch.Generator().manual_seed(s))`
to within one float32 rounding (torch's AVX2 path rounds its log, sin and cos its own way), so a
seed that named a style before torch left the runtime names the same one (the letter GAN's style
seeds: fonts and images quoted per seed in reports/README.md).

torch's CPU generator is the 32-bit Mersenne Twister seeded as `std::mt19937(seed)` (numpy's
legacy `RandomState(seed)` seeds it the same way); a float uniform is the low 24 bits of one
32-bit draw over 2^24; `randn` fills every value with a uniform, then turns each run of 16 into
normals by Box-Muller (u1 = 1 - first 8, u2 = last 8: r cos, r sin) and, when 16 does not divide
n, draws 16 more uniforms for the last 16 values; fewer than 16 are drawn one by one in double
precision (`_normal_double`). tests/test_parity.py checks both against torch.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


class TorchGenerator:
    """The draws `torch.Generator().manual_seed(seed)` makes, in order: `randn(n)` and `randint(high)`
    (one value in 0..high-1, as torch.randint(0, high, (1,)))."""

    def __init__(self, seed: int) -> None:
        self._mt = np.random.RandomState(int(seed) & 0xFFFFFFFF)._bit_generator
        self._cached: float | None = None  # torch keeps the second normal of a pair for the next draw

    def _uniform(self, n: int) -> np.ndarray:
        raw = self._mt.random_raw(n).astype(np.uint64)
        return ((raw & 0xFFFFFF).astype(np.float64) * 2.0 ** -24).astype(F32)

    @staticmethod
    def _box_muller16(u: np.ndarray) -> np.ndarray:
        r = np.sqrt(F32(-2) * np.log(F32(1) - u[:8]))
        theta = F32(2 * np.pi) * u[8:]
        return np.concatenate([r * np.cos(theta), r * np.sin(theta)])

    def _normal_double(self) -> float:
        """One normal the way torch draws fewer than 16: Box-Muller in double precision on 53-bit
        uniforms (two 32-bit draws each, the first the high half), the sine kept for the next call."""
        if self._cached is not None:
            value, self._cached = self._cached, None
            return value
        u1, u2 = ((int(a) << 32 | int(b)) & ((1 << 53) - 1) for a, b in self._mt.random_raw(4).reshape(2, 2))
        u1, u2 = u1 * 2.0 ** -53, u2 * 2.0 ** -53
        r = np.sqrt(-2.0 * np.log1p(-u2))
        self._cached = float(r * np.sin(2.0 * np.pi * u1))
        return float(r * np.cos(2.0 * np.pi * u1))

    def randn(self, n: int) -> np.ndarray:
        if n < 16:
            return np.array([self._normal_double() for _ in range(n)], F32)
        u = self._uniform(n)
        out = np.empty(n, F32)
        for i in range(0, n - 15, 16):
            out[i:i + 16] = self._box_muller16(u[i:i + 16])
        if n % 16:
            out[n - 16:] = self._box_muller16(self._uniform(16))
        return out

    def randint(self, high: int) -> int:
        return int(self._mt.random_raw(1)[0] % high)
