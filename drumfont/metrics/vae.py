"""Posterior-collapse and quality measures for the drum VAE, on numpy arrays.

Latent-space measures (KL per dimension, active units, mutual information, probes, silhouette,
variance ratios, the disentanglement score), reconstruction scores, and pattern-set measures
(validity, novelty, overlapping area of pattern statistics, rhythm preservation).
"""

from __future__ import annotations

import numpy as np

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
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels)
    k = min(folds, int(np.bincount(labels).min()) if len(labels) else 0)
    if k < 2 or len(np.unique(labels)) < 2:
        return float("nan")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(k, shuffle=True, random_state=seed)
    return float(cross_val_score(probe, z, labels, cv=cv).mean())


def silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette coefficient of the codes grouped by genre (Euclidean)."""
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(silhouette_score(z, labels))


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
                          predicted_velocities: np.ndarray | None = None) -> dict[str, float]:
    """Hit F1 and cell accuracy of predicted binary grids (N, 16, 9), the all-zeros baseline's
    accuracy beside it, and the mean absolute velocity error (MIDI units) on true hit cells."""
    h = np.asarray(hits) > 0.5
    p = np.asarray(predicted) > 0.5
    tp = float((h & p).sum())
    fp = float((~h & p).sum())
    fn = float((h & ~p).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 1.0
    scores = {"hit_f1": f1, "cell_accuracy": float((h == p).mean()),
              "zeros_baseline_accuracy": float((~h).mean())}
    if velocities is not None and predicted_velocities is not None:
        scores["velocity_mae"] = float(np.abs(np.asarray(velocities, np.float64)[h]
                                              - np.asarray(predicted_velocities, np.float64)[h]).mean()) if h.any() else 0.0
    return scores
