"""Posterior-collapse and quality measures for the drum VAE, on numpy arrays.

Latent-space measures (KL per dimension, active units, mutual information, probes, silhouette,
variance ratios, the disentanglement score), reconstruction scores, and pattern-set measures
(validity, novelty, overlapping area of pattern statistics, rhythm preservation).
"""

from __future__ import annotations

import numpy as np

from drumfont.score.pattern import KICK, SNARE, VOICES

COLLAPSED_KL = 0.1      # nats; a dimension below it carries (almost) nothing (the study's threshold)
ACTIVE_COV = 0.01       # Burda et al. 2015: Cov_x(E_q[z_u]) above it marks an active unit


# --- latent space ------------------------------------------------------------------------------

def collapsed_dims(kl_per_dim: np.ndarray, threshold: float = COLLAPSED_KL) -> int:
    """Dimensions whose mean KL is below `threshold` nats."""
    return int((np.asarray(kl_per_dim) < threshold).sum())


def active_units(means: np.ndarray, threshold: float = ACTIVE_COV) -> tuple[int, np.ndarray]:
    """Burda et al.'s active units: count of dims with Var_x(E_q[z_u | x]) > threshold, and the variances."""
    var = np.asarray(means, np.float64).var(axis=0)
    return int((var > threshold).sum()), var


def mutual_information(mu: np.ndarray, logvar: np.ndarray, rng: np.random.Generator) -> float:
    """I(x; z) under q, estimated as E_x[log q(z|x) - log q(z)] with one z per x and the
    aggregate posterior q(z) as the mixture of all N posteriors (He et al. 2019's estimator)."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    n, d = mu.shape
    std = np.exp(0.5 * logvar)
    z = mu + std * rng.standard_normal(mu.shape)
    log_c = -0.5 * d * np.log(2 * np.pi)
    # E_q(z|x)[log q(z|x)] = -d/2 log 2pi - 1/2 sum(1 + logvar), the negative entropy.
    neg_entropy = float((log_c - 0.5 * (1 + logvar).sum(1)).mean())
    # log q(z_i) = logsumexp_j log N(z_i; mu_j, var_j) - log N   -> (N, N) matrix
    diff = (z[:, None, :] - mu[None, :, :]) / std[None, :, :]
    log_dens = log_c - 0.5 * (diff ** 2).sum(-1) - 0.5 * logvar.sum(1)[None, :]
    m = log_dens.max(1, keepdims=True)
    log_qz = (m[:, 0] + np.log(np.exp(log_dens - m).sum(1))) - np.log(n)
    return float(neg_entropy - log_qz.mean())


def linear_probe(z: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Mean 5-fold accuracy of a logistic-regression genre probe on the codes."""
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)
    from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    labels = np.asarray(labels)
    k = min(folds, int(np.bincount(labels).min()) if len(labels) else 0)
    if k < 2 or len(np.unique(labels)) < 2:
        return float("nan")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(k, shuffle=True, random_state=seed)
    return float(cross_val_score(probe, z, labels, cv=cv).mean())


def silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette coefficient of the codes grouped by genre (Euclidean)."""
    from sklearn.metrics import silhouette_score  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    if len(np.unique(labels)) < 2:
        return float("nan")
    # A seeded sample past 5,000 codes: the score is O(N^2) and a sample estimates it well.
    return float(silhouette_score(z, labels, sample_size=min(len(z), 5000), random_state=0))


def variance_split(z: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Intra-genre variance (mean over genres of the trace of the within-genre covariance),
    inter-genre variance (trace of the covariance of the genre centroids) and their ratio
    R = inter / (inter + intra), the share of the code's variance that genre explains."""
    z, labels = np.asarray(z, np.float64), np.asarray(labels)
    groups = [z[labels == g] for g in np.unique(labels)]
    intra = float(np.mean([g.var(axis=0).sum() for g in groups]))
    centroids = np.stack([g.mean(axis=0) for g in groups])
    inter = float(centroids.var(axis=0).sum())
    return {"intra": intra, "inter": inter, "ratio": inter / (inter + intra) if inter + intra > 0 else 0.0}


def disentanglement_score(z_high: np.ndarray, z_low: np.ndarray, labels: np.ndarray) -> float:
    """D = R_high - R_low, with R = inter / (inter + intra) genre variance of each level.

    The study reports a "disentanglement score" (0.056) without a formula; this one says what it
    wants: style in z_high (R_high near 1) and variation, not genre, in z_low (R_low near 0).
    D lies in [-1, 1]; higher is better separated.
    """
    return variance_split(z_high, labels)["ratio"] - variance_split(z_low, labels)["ratio"]


# --- reconstruction --------------------------------------------------------------------------

def reconstruction_scores(hits: np.ndarray, predicted: np.ndarray, velocities: np.ndarray | None = None,
                          predicted_velocities: np.ndarray | None = None, offsets: np.ndarray | None = None,
                          predicted_offsets: np.ndarray | None = None, bpm: float = 120.0) -> dict[str, float]:
    """Hit F1 and cell accuracy of predicted binary grids (N, 16, 9), the all-zeros baseline's
    accuracy beside it, the mean absolute velocity error (MIDI units) and timing error (ms at
    `bpm`) on true hit cells."""
    h = np.asarray(hits) > 0.5
    p = np.asarray(predicted) > 0.5
    tp = float((h & p).sum())
    fp = float((~h & p).sum())
    fn = float((h & ~p).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 1.0
    scores = {"hit_f1": f1, "cell_accuracy": float((h == p).mean()),
              "zeros_baseline_accuracy": float((~h).mean())}
    if velocities is not None and predicted_velocities is not None and h.any():
        err = np.asarray(velocities, np.float64)[h] - np.asarray(predicted_velocities, np.float64)[h]
        scores["velocity_mae"] = float(np.abs(err).mean())
    if offsets is not None and predicted_offsets is not None and h.any():
        err = np.asarray(offsets, np.float64)[h] - np.asarray(predicted_offsets, np.float64)[h]
        scores["timing_mae_ms"] = float(np.abs(err).mean() * sixteenth_ms(bpm))
    return scores


def mean_groove(velocities: np.ndarray, offsets: np.ndarray, genre: np.ndarray, n_genres: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The mean-groove baseline: each genre's mean velocity and offset per step and voice over
    the bars that hit that cell, (G, 16, 9) each; a cell no bar of a genre hits takes the mean
    of all genres there, and a cell no bar hits at all the overall mean."""
    hit = np.asarray(velocities) > 0
    vel = np.asarray(velocities, np.float64)
    off = np.asarray(offsets, np.float64)

    def cell_means(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = hit & mask[:, None, None]
        n = h.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return n, (vel * h).sum(0) / n, (off * h).sum(0) / n

    n_all, v_all, o_all = cell_means(np.ones(len(hit), bool))
    v_all = np.where(n_all > 0, v_all, vel[hit].mean() if hit.any() else 90.0)
    o_all = np.where(n_all > 0, o_all, off[hit].mean() if hit.any() else 0.0)
    mv, mo = np.repeat(v_all[None], max(1, n_genres), 0), np.repeat(o_all[None], max(1, n_genres), 0)
    for g in range(n_genres):
        n, v, o = cell_means(np.asarray(genre) == g)
        mv[g] = np.where(n > 0, v, v_all)
        mo[g] = np.where(n > 0, o, o_all)
    return mv, mo


def groove_baselines(train_vel: np.ndarray, train_off: np.ndarray, train_genre: np.ndarray, n_genres: int,
                     val_vel: np.ndarray, val_off: np.ndarray, val_genre: np.ndarray,
                     bpm: float = 120.0) -> dict[str, float]:
    """Velocity (MIDI units) and timing (ms at `bpm`) MAE on validation hit cells of two honest
    baselines: quantised (on the grid, velocities as played) and the mean groove of the bar's
    genre (unlabelled bars: of all bars), fitted on the training bars."""
    hit = np.asarray(val_vel) > 0
    if not hit.any():
        return {}
    ms = sixteenth_ms(bpm)
    off = np.asarray(val_off, np.float64)
    labelled = (np.asarray(train_genre) >= 0).any() and (np.asarray(val_genre) >= 0).all()
    if labelled:
        gv, go = mean_groove(train_vel, train_off, train_genre, n_genres)
        pv, po = gv[np.asarray(val_genre)], go[np.asarray(val_genre)]
    else:
        gv, go = mean_groove(train_vel, train_off, np.zeros(len(train_vel), np.int64), 1)
        pv, po = np.repeat(gv, len(val_vel), 0), np.repeat(go, len(val_vel), 0)
    return {"velocity_mae_quantised": 0.0,
            "timing_mae_ms_quantised": float(np.abs(off[hit]).mean() * ms),
            "velocity_mae_mean_groove": float(np.abs(np.asarray(val_vel, np.float64)[hit] - pv[hit]).mean()),
            "timing_mae_ms_mean_groove": float(np.abs(off[hit] - po[hit]).mean() * ms)}


def sixteenth_ms(bpm: float) -> float:
    """Length of a sixteenth note in milliseconds."""
    return 60_000.0 / bpm / 4


# --- generated pattern sets ------------------------------------------------------------------

def novelty(generated: np.ndarray, training: np.ndarray) -> dict[str, float]:
    """Share of generated grids not present (exactly) in the training set, and the mean and
    median Hamming distance (cells) from each generated grid to its nearest training grid."""
    g = np.asarray(generated, bool).reshape(len(generated), -1)
    t = np.asarray(training, bool).reshape(len(training), -1)
    # Hamming distance through dot products: |a xor b| = |a| + |b| - 2 a.b
    gi, ti = g.astype(np.int32), t.astype(np.int32)
    dist = gi.sum(1)[:, None] + ti.sum(1)[None, :] - 2 * gi @ ti.T
    nn = dist.min(1)
    return {"novelty": float((nn > 0).mean()), "nn_hamming_mean": float(nn.mean()),
            "nn_hamming_median": float(np.median(nn))}


# Metrical weight of each sixteenth (beat 4 > half-bar 3 > eighth 2 > sixteenth 1); used for
# syncopation: an onset on a weaker step followed by a rest on a stronger one.
METRIC_WEIGHTS = np.array([4, 1, 2, 1, 3, 1, 2, 1, 4, 1, 2, 1, 3, 1, 2, 1])


def syncopation(hits: np.ndarray) -> np.ndarray:
    """Per bar: count of onsets (any voice) whose next step is metrically stronger and silent in
    that voice (a simple Longuet-Higgins & Lee style measure), for (N, 16, 9) grids."""
    h = np.asarray(hits, bool)
    nxt = np.roll(h, -1, axis=1)
    stronger = METRIC_WEIGHTS[np.r_[1:16, 0]] > METRIC_WEIGHTS  # (16,)
    return (h & ~nxt & stronger[None, :, None]).sum(axis=(1, 2)).astype(np.float64)


def pattern_features(hits: np.ndarray) -> dict[str, np.ndarray]:
    """Per-bar statistics compared between real and generated sets: density of each voice
    (hits / 16) and syncopation."""
    h = np.asarray(hits, bool)
    feats = {f"density_{v}": h[:, :, i].mean(1).astype(np.float64) for i, v in enumerate(VOICES)}
    feats["syncopation"] = syncopation(h)
    return feats


def overlapping_area(real: np.ndarray, generated: np.ndarray, grid: int = 256, max_pairs: int = 4000) -> float:
    """Yang & Lerch 2020: the overlapping area of the intra-set distance distribution of the real
    set and the inter-set distance distribution (real vs generated), each smoothed by a Gaussian
    KDE; 1 means the generated set sits inside the real one's spread exactly."""
    from scipy.stats import gaussian_kde  # noqa: PLC0415 (analysis/plot library (0.2-0.8 s to import), paid only by reports)

    real, generated = np.asarray(real, np.float64), np.asarray(generated, np.float64)
    intra = np.abs(real[:, None] - real[None, :])[~np.eye(len(real), dtype=bool)]
    inter = np.abs(real[:, None] - generated[None, :]).ravel()
    # A fixed-seed subsample of the pairs keeps the KDE cheap; 4000 pairs pin the curves down.
    rng = np.random.default_rng(0)
    intra = intra if len(intra) <= max_pairs else rng.choice(intra, max_pairs, replace=False)
    inter = inter if len(inter) <= max_pairs else rng.choice(inter, max_pairs, replace=False)
    hi = max(intra.max(), inter.max())
    if hi <= 0:
        return 1.0  # both sets constant and equal
    xs = np.linspace(0.0, hi * 1.1, grid)

    def density(d: np.ndarray) -> np.ndarray:
        if np.ptp(d) < 1e-9:  # a point mass: a narrow bump, since the KDE cannot fit it
            return np.exp(-0.5 * ((xs - d[0]) / (hi * 0.02)) ** 2)
        return gaussian_kde(d)(xs)
    p, q = density(intra), density(inter)
    p, q = p / np.trapezoid(p, xs), q / np.trapezoid(q, xs)
    return float(np.trapezoid(np.minimum(p, q), xs))


def rhythm_preservation(source: np.ndarray, transferred: np.ndarray) -> dict[str, float]:
    """How much of the source's kick and snare placement survives a transfer: recall (share of
    source kick/snare hits still there) and Jaccard overlap of the two kick/snare grids."""
    s = np.asarray(source, bool)[:, :, [KICK, SNARE]]
    t = np.asarray(transferred, bool)[:, :, [KICK, SNARE]]
    inter = (s & t).sum()
    return {"recall": float(inter / max(1, s.sum())), "jaccard": float(inter / max(1, (s | t).sum()))}
