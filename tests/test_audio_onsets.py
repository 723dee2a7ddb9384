"""The onset detector on signals whose onsets are known exactly."""

from __future__ import annotations

import numpy as np

from drumfont.audio import onsets as ons


def _hits(times, rate=48000, length=2.0, decay=0.15, level=(1.0,)):
    """Struck damped tones (a tom-like body under a 2 ms noise click) at known times."""
    x = np.zeros(int(length * rate))
    rng = np.random.default_rng(0)
    for i, t in enumerate(times):
        k = round(t * rate)
        n = len(x) - k
        body = np.exp(-np.arange(n) / (decay * rate)) * np.sin(2 * np.pi * 180 * np.arange(n) / rate)
        click = np.zeros(n)
        click[:96] = rng.standard_normal(96) * np.linspace(1, 0, 96)
        x[k:] += level[i % len(level)] * (0.6 * body + 0.4 * click)
    return x


def test_finds_each_hit_within_a_millisecond():
    times = [0.1, 0.35, 0.5, 0.62, 1.3]
    found = ons.detect_onsets(_hits(times), 48000)
    err, missed, extra = ons.match_onsets(np.array(times), found, 0.005)
    assert missed == 0 and extra == 0
    assert np.abs(err).max() < 0.001


def test_a_quiet_hit_on_a_ringing_one_is_found_and_silence_has_none():
    found = ons.detect_onsets(_hits([0.1, 0.3], decay=0.5, level=(1.0, 0.3)), 48000)
    assert len(found) == 2
    assert len(ons.detect_onsets(np.zeros((48000, 2)), 48000)) == 0


def test_match_counts_misses_and_extras():
    err, missed, extra = ons.match_onsets(np.array([0.1, 0.5]), np.array([0.102, 0.9]), 0.005)
    assert missed == 1 and extra == 1 and abs(err[0] - 0.002) < 1e-9 and np.isnan(err[1])
    assert list(ons.distinct_times(np.array([0.5, 0.1, 0.1005]))) == [0.1, 0.5]
