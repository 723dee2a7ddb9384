"""Pattern: construction, text form round trips, and each validity rule."""

import numpy as np
import pytest

from drumfont.errors import PatternError
from drumfont.score.pattern import (  # noqa: F401 (voices are looked up by name in _grid)
    CLAP,
    CLOSED_HAT,
    CRASH,
    KICK,
    N_VOICES,
    OPEN_HAT,
    RIDE,
    RULES,
    SNARE,
    STEPS,
    Pattern,
    from_text,
    level_char,
    to_text,
    validity,
    validity_report,
)


def random_pattern(rng, density=0.3):
    vel = np.where(rng.random((16, 9)) < density, rng.integers(1, 128, (16, 9)), 0)
    return Pattern(vel)


def test_shape_and_range_are_checked():
    with pytest.raises(PatternError):
        Pattern(np.zeros((16, 8)))
    with pytest.raises(PatternError):
        Pattern(np.full((16, 9), 200))
    assert Pattern.empty().hits.sum() == 0


def test_pattern_is_immutable_and_hashable():
    p = random_pattern(np.random.default_rng(0))
    with pytest.raises(ValueError):
        p.velocities[0, 0] = 5
    q = p.with_velocity(0, 0, 99)
    assert q.velocities[0, 0] == 99 and q != p
    assert len({p, Pattern(p.velocities.copy())}) == 1


@pytest.mark.parametrize("seed", range(20))
def test_text_round_trip_is_lossless(seed):
    p = random_pattern(np.random.default_rng(seed))
    assert from_text(to_text(p)) == p


def test_canonical_text_has_no_velocity_list():
    text = "KK X...x...o...x...\nSN ....x.......x..."
    p = from_text(text)
    assert p.velocities[0, KICK] == 118 and p.velocities[4, KICK] == 90 and p.velocities[8, KICK] == 40
    assert ";" not in to_text(p)
    assert from_text(to_text(p)) == p


def test_text_accepts_names_bars_and_any_order():
    p = from_text("# a comment\nsnare ....|x...|....|x...\nkick x...x...x...x...")
    assert p.hits[:, KICK].sum() == 4 and p.hits[:, SNARE].sum() == 2


@pytest.mark.parametrize("bad, words", [
    ("ZZ x...............", "unknown voice"),
    ("KK x..", "has 3 steps"),
    ("KK x..............q", "unknown step character"),
    ("KK x...............\nKK x...............", "appears twice"),
    ("KK x...x........... ; 100", "2 hits but 1"),
    ("KK x............... ; 120", "does not match"),
    ("", "no voice lines"),
])
def test_text_errors_are_clear(bad, words):
    with pytest.raises(PatternError, match=words):
        from_text(bad)


def test_level_char():
    assert [level_char(v) for v in (0, 1, 59, 60, 104, 105, 127)] == [".", "o", "o", "x", "x", "X", "X"]


def test_groove_is_valid():
    p = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")
    assert validity(p) == 1.0
    assert all(validity_report(p).values())


def _grid(**cols):
    h = np.zeros((16, 9), bool)
    for voice, steps in cols.items():
        h[list(steps), globals()[voice.upper()]] = True
    return h


BASE = dict(kick=[0, 8], snare=[4, 12], closed_hat=range(0, 16, 2))


@pytest.mark.parametrize("rule, grid", [
    ("not_empty", _grid(kick=[0], snare=[4])),
    ("not_saturated", np.ones((16, 9), bool)),
    ("time_keeper", _grid(crash=[0, 4, 8])),
    ("hats_exclusive", _grid(**BASE, open_hat=[2])),
    ("plausible_density", _grid(**BASE, crash=range(0, 16, 2))),
    ("anchored", _grid(kick=[1, 9], snare=[5, 13], closed_hat=[3, 7, 11, 15])),
])
def test_each_rule_catches_its_fault(rule, grid):
    base = _grid(**BASE)
    assert validity_report(base)[rule] is True
    report = validity_report(grid)
    assert report[rule] is False
    assert validity(grid) < 1.0
    assert set(report) == set(RULES)


# --- micro-timing ----------------------------------------------------------------------------

def _timed(seed: int) -> Pattern:
    rng = np.random.default_rng(seed)
    vel = np.where(rng.random((STEPS, N_VOICES)) < 0.3, rng.integers(1, 128, (STEPS, N_VOICES)), 0)
    off = rng.uniform(-0.5, 0.5, (STEPS, N_VOICES)).astype(np.float32)
    return Pattern(vel.astype(np.uint8), off)


@pytest.mark.parametrize("seed", range(20))
def test_text_round_trip_with_offsets_is_exact(seed):
    p = _timed(seed)
    assert p.timed
    q = from_text(to_text(p))
    assert q == p and np.array_equal(q.offsets, p.offsets)


def test_pattern_without_offsets_is_straight_and_prints_as_before():
    p = from_text("KK x...x...x...x...\nSN ....X.......X...")
    assert not p.timed and not p.offsets.any()
    assert "@" not in to_text(p)
    assert Pattern(p.velocities) == p


def test_offsets_live_only_on_hits_and_in_range():
    off = np.full((STEPS, N_VOICES), 0.2, np.float32)
    p = Pattern(np.eye(STEPS, N_VOICES, dtype=np.uint8) * 90, off)
    assert p.offsets[0, 0] == pytest.approx(0.2) and p.offsets[0, 1] == 0
    for bad in (0.5, -0.51, np.nan):
        with pytest.raises(PatternError):
            Pattern(p.velocities, np.full((STEPS, N_VOICES), bad, np.float32))
    assert Pattern.from_hits(p.hits, offsets=np.full((STEPS, N_VOICES), 0.9)).offsets.max() < 0.5


def test_text_offsets_errors_are_one_line():
    for text, msg in (("KK x...x........... @ 0.1", "2 hits but 1 offsets"),
                      ("KK x............... @ 0.7", "outside"),
                      ("KK x............... @ late", "must be numbers")):
        with pytest.raises(PatternError, match=msg):
            from_text(text)


def test_editing_a_cell_keeps_the_other_hits_timing():
    p = _timed(3)
    s, v = map(int, np.argwhere(p.hits)[0])
    q = p.with_velocity(s, v, 0)
    assert q.offsets[s, v] == 0
    keep = p.hits.copy()
    keep[s, v] = False
    assert np.array_equal(q.offsets[keep], p.offsets[keep])


def test_batch_builds_the_same_patterns_as_one_by_one():
    rng = np.random.default_rng(5)
    vel = np.where(rng.random((6, STEPS, N_VOICES)) < 0.3, rng.integers(1, 128, (6, STEPS, N_VOICES)), 0)
    off = rng.uniform(-0.7, 0.7, vel.shape)  # out of range on purpose: clipped like from_hits
    batch = Pattern.batch(vel, off)
    assert batch == [Pattern.from_hits(v > 0, v, offsets=o) for v, o in zip(vel, off)]
    assert not batch[0].velocities.flags.writeable and not batch[0].offsets.flags.writeable
    with pytest.raises(PatternError):
        Pattern.batch(np.zeros((2, STEPS, 8)))
