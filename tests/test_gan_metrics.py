"""Collapse and quality metrics on distributions whose answers are known."""

from __future__ import annotations

import math
import warnings

import numpy as np

from drumfont.letters import metrics as M


def test_counts_and_coverage():
    counts = M.letter_counts(np.array([0, 0, 1, 25]))
    assert counts.shape == (26,) and counts[0] == 2 and counts[25] == 1
    assert M.letters_covered(counts) == 3
    c = np.full(26, 100)
    c[:3] = [10, 25, 26]  # a quarter of the uniform share is about 23
    assert M.letters_covered(c) == 26
    assert M.letters_covered(c, 0.25) == 25


def test_kl_uniform_of_no_samples_is_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(M.kl_uniform(np.zeros(26)))


def test_kl_uniform_known_values():
    assert abs(M.kl_uniform(np.full(26, 1000))) < 1e-12
    one = np.zeros(26)
    one[4] = 50
    assert math.isclose(M.kl_uniform(one), math.log(26))
    half = np.r_[np.full(13, 10), np.zeros(13)]
    assert math.isclose(M.kl_uniform(half), math.log(2))


def test_diversity_score():
    rng = np.random.default_rng(0)
    x = rng.random((50, 28, 28))
    assert M.diversity_score(x) == 1.0
    assert M.diversity_score(np.repeat(x[:1], 50, 0)) == 1 / 50


def test_frechet_and_kid():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 8))
    assert abs(M.frechet_distance(a, a)) < 1e-6
    shifted = a + 3.0
    assert math.isclose(M.frechet_distance(a, shifted), 8 * 9.0, rel_tol=1e-6)  # |mu diff|^2
    b = rng.normal(size=(2000, 8))
    assert M.frechet_distance(a, b) < 0.1
    assert abs(M.kid(a, b, subsets=5, subset_size=500)) < 0.05
    assert M.kid(a, shifted, subsets=5, subset_size=500) > 1.0


def test_precision_recall_density_coverage():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(600, 4))
    same = rng.normal(size=(600, 4))
    p, r = M.precision_recall(real, same)
    assert p > 0.8 and r > 0.8
    d, c = M.density_coverage(real, same)
    assert 0.7 < d < 1.3 and c > 0.8
    collapsed = np.repeat(real[:1], 600, 0) + 1e-3 * rng.normal(size=(600, 4))
    p, r = M.precision_recall(real, collapsed)
    assert p > 0.9 and r < 0.05            # realistic but not diverse
    far = real + 10
    p, r = M.precision_recall(real, far)
    assert p == 0 and r == 0
    assert M.density_coverage(real, far) == (0.0, 0.0)


def test_quality_has_every_key_with_real_reference():
    rng = np.random.default_rng(1)
    real, fake, ref = rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) + 1, rng.normal(size=(300, 5))
    q = M.quality(real, fake, ref, knn_samples=200)
    for k in ("fd", "kid", "precision", "recall", "density", "coverage"):
        assert k in q and k + "_real" in q
    assert q["fd"] > q["fd_real"]
