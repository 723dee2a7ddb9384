"""Mode-collapse and quality measures for the letter GAN, on classifier labels and features.

Coverage and KL(p̂ || uniform) in nats on the classifier's labels; the study's unique-sample
diversity score; Fréchet distance and KID, precision/recall (Kynkäänniemi et al. 2019, k = 3)
and density/coverage (Naeem et al. 2020, k = 5) on the classifier's penultimate features.
All take numpy arrays and return plain floats.
"""

from __future__ import annotations

import math

import numpy as np

K_LETTERS = 26


def letter_counts(labels: np.ndarray, k: int = K_LETTERS) -> np.ndarray:
    """(k,) int counts of each predicted letter."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=k)[:k]


def letters_covered(counts: np.ndarray, strict_share: float = 0.0) -> int:
    """Letters with at least one sample, or, with strict_share > 0, at least that share of the
    uniform count N/k (0.25 = the 'strict' coverage of the reports)."""
    counts = np.asarray(counts)
    if strict_share <= 0:
        return int((counts >= 1).sum())
    return int((counts >= strict_share * counts.sum() / len(counts)).sum())


def kl_uniform(counts: np.ndarray) -> float:
    """KL(p̂ || U_k) = ln k − H(p̂) in nats; 0 for exactly uniform counts, ln k for one letter."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() <= 0:
        return float("nan")  # no sample: no distribution to compare
    p = counts / counts.sum()
    nz = p[p > 0]
    return float(math.log(len(counts)) + (nz * np.log(nz)).sum())


def diversity_score(images: np.ndarray) -> float:
    """The study's check_mode_collapse score: unique images / all images. Images are quantised to
    8 bits first, since raw floats almost never repeat exactly (< 0.1 flags collapse)."""
    q = np.round(np.asarray(images, dtype=np.float32).reshape(len(images), -1) * 255).astype(np.uint8)
    if len(q) == 0:
        return float("nan")
    return len({row.tobytes() for row in q}) / len(q)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula).
    tr sqrt(S1 S2) is taken as tr sqrt(A S2 A) with A = S1^(1/2): a symmetric PSD matrix whose
    eigenvalues are well defined even when the (often rank-deficient, ReLU) covariances are singular."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 20, subset_size: int = 1000,
        rng: np.random.Generator | None = None) -> float:
    """Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with the cubic polynomial
    kernel (x·y/d + 1)³, averaged over random subsets."""
    rng = rng or np.random.default_rng(0)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = a.shape[1]
    m = min(subset_size, len(a), len(b))
    vals = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals))


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of each point to its k-th nearest neighbour in its own set."""
    d = _sq_dists(x, x)
    return np.partition(d, k, axis=1)[:, k]  # column 0 is the point itself (distance 0)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Kynkäänniemi et al. 2019: precision = share of fakes inside some real k-NN ball; recall =
    share of reals inside some fake k-NN ball."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    r_real, r_fake = _knn_radii(real, k), _knn_radii(fake, k)
    d = _sq_dists(fake, real)                                   # (F, R)
    precision = float((d <= r_real[None, :]).any(axis=1).mean())
    recall = float((d.T <= r_fake[None, :]).any(axis=1).mean())
    return precision, recall


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Naeem et al. 2020: density = mean count of real k-NN balls holding each fake, over k;
    coverage = share of reals whose k-NN ball holds at least one fake."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    r_real = _knn_radii(real, k)
    inside = _sq_dists(fake, real) <= r_real[None, :]           # (F, R)
    return float(inside.sum() / (k * len(fake))), float(inside.any(axis=0).mean())


def quality(real: np.ndarray, fake: np.ndarray, reference: np.ndarray, knn_samples: int = 5000,
            rng: np.random.Generator | None = None) -> dict[str, float]:
    """FD, KID, precision/recall, density/coverage of `fake` features against `real`, each beside
    the same figure for `reference` (another real set) against `real`: the floor a perfect
    generator would reach. The k-NN figures use at most `knn_samples` points per side (their
    memory is quadratic); FD and KID use all."""
    rng = rng or np.random.default_rng(0)

    def sub(x: np.ndarray) -> np.ndarray:
        return x if len(x) <= knn_samples else x[rng.choice(len(x), knn_samples, replace=False)]

    out: dict[str, float] = {}
    for tag, other in (("", fake), ("_real", reference)):
        out["fd" + tag] = frechet_distance(real, other)
        out["kid" + tag] = kid(real, other, rng=np.random.default_rng(1))
        r, o = sub(real), sub(other)
        out["precision" + tag], out["recall" + tag] = precision_recall(r, o, k=3)
        out["density" + tag], out["coverage" + tag] = density_coverage(r, o, k=5)
    return out
