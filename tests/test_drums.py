"""The drum API on the shipped VAE preset: shapes and ranges, determinism, re-roll, transfer,
interpolation, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont import drums
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.score.genres import RULE_GENRES as GENRES
from drumfont.score.pattern import N_VOICES, STEPS, Pattern, from_text

GROOVE = from_text("""
KK x.......x.x.....
SN ....x.......x...
CH x.x.x.x.x.x.x.x.
""")


def same(a: Pattern, b: Pattern) -> bool:
    """The same bar, up to float rounding in the timing (batches of other sizes round apart)."""
    return np.array_equal(a.velocities, b.velocities) and np.allclose(a.offsets, b.offsets, atol=1e-5)


@pytest.fixture(scope="module")
def model() -> drums.DrumModel:
    return drums.load()


def test_shipped_preset_loads_with_all_genres(model):
    # The default learned from real drumming: the study's five genres and more.
    assert set(GENRES) <= set(model.genres)
    assert model.config.z_high == 4 and model.config.z_low == 12
    rules = drums.load("rules")
    assert rules.genres == GENRES


def test_default_model_plays_like_a_drummer(model):
    bars = model.sample("rock", 32, seed=0)
    offsets = np.concatenate([b.offsets[b.hits] for b in bars])
    # hits sit off the grid, by different amounts, mostly within a drummer's range
    assert all(b.timed for b in bars)
    assert offsets.std() > 0.02 and len(np.unique(np.round(offsets, 3))) > 20
    assert np.abs(offsets).mean() < 0.25


def test_sample_shapes_ranges_and_seeding(model):
    bars = model.sample("rock", 5, temperature=1.0, seed=7)
    assert len(bars) == 5 and all(isinstance(b, Pattern) for b in bars)
    for b in bars:
        assert b.velocities.shape == (STEPS, N_VOICES)
        assert b.velocities.max() <= 127
        assert (b.velocities[b.hits] >= 1).all()
    assert bars == model.sample("rock", 5, temperature=1.0, seed=7)
    assert bars != model.sample("rock", 5, temperature=1.0, seed=8)
    # velocities come from the head, not a constant
    v = np.concatenate([b.velocities[b.hits] for b in bars])
    assert len(np.unique(v)) > 3


def test_zero_temperature_gives_the_genres_typical_bar(model):
    a = model.sample("jazz", 3, temperature=0.0, seed=1)
    assert a[0] == a[1] == a[2]
    assert same(a[0], model.decode(*model.genre_code("jazz")))
    # a whole groove: something keeps time beside kick and snare
    assert a[0].hits[:, [2, 3, 7]].sum() >= 4


def test_encode_decode(model):
    zh, zl = model.encode(GROOVE)
    assert zh.shape == (4,) and zl.shape == (12,) and zh.dtype == np.float32
    rec = model.decode(zh, zl)
    # the reconstruction keeps most of the groove's hits
    assert (rec.hits & GROOVE.hits).sum() >= 0.7 * GROOVE.hits.sum()
    with pytest.raises(DrumfontError):
        model.decode(zh[:2], zl)


def test_transfer_keeps_the_z_low_variation_and_moves_the_style(model):
    zh, zl = model.encode(GROOVE)
    eps = model.variation(zh, zl)
    out = model.transfer(GROOVE, "latin")
    target_high = model.genre_style("latin")
    # by construction: the genre's z_high with the source's variation re-placed under it
    expected = model.decode(target_high, model.from_variation(target_high, eps))
    assert same(out, expected)
    assert np.allclose(model.variation(target_high, model.from_variation(target_high, eps)), eps, atol=1e-4)
    # and the style did move: most transferred bars encode nearer latin's z_high than their
    # sources did (in real drumming, styles overlap: not every bar leaves rock behind)
    src = model.sample("rock", 40, seed=3)
    moved = model.transfer_many(src, "latin")
    before = np.array([np.linalg.norm(model.encode(p)[0] - target_high) for p in src])
    after = np.array([np.linalg.norm(model.encode(p)[0] - target_high) for p in moved])
    assert (after < before).mean() >= 0.8
    assert all(same(x, out) for x in model.transfer_many([GROOVE, GROOVE], "latin"))


def test_interpolate_endpoints_and_levels(model):
    a, b = model.sample("rock", 1, seed=1)[0], model.sample("jazz", 1, seed=2)[0]
    for level in ("high", "low", "both"):
        bars = model.interpolate(a, b, 6, level)
        assert len(bars) == 6
    both = model.interpolate(a, b, 5, "both")
    za, zb = model.encode(a), model.encode(b)
    assert same(both[0], model.decode(*za)) and same(both[-1], model.decode(*zb))
    high = model.interpolate(a, b, 5, "high")
    assert same(high[0], model.decode(*za))
    genres = model.interpolate("rock", "jazz", 3, "both")
    assert same(genres[0], model.sample("rock", 1, temperature=0.0)[0])
    assert same(genres[-1], model.sample("jazz", 1, temperature=0.0)[0])


def test_reroll(model):
    same_style = model.reroll(GROOVE, keep="style", seed=3)
    assert same_style == model.reroll(GROOVE, keep="style", seed=3)
    assert isinstance(model.reroll(GROOVE, keep="variation", seed=3), Pattern)
    with pytest.raises(DrumfontError):
        model.reroll(GROOVE, keep="both")


@pytest.mark.parametrize("call", [
    lambda m: m.sample("polka", 1),
    lambda m: m.sample("rock", 0),
    lambda m: m.sample("rock", 1, temperature=-1),
    lambda m: m.interpolate("rock", "jazz", 1),
    lambda m: m.interpolate("rock", "jazz", 4, "middle"),
    lambda m: m.transfer(GROOVE, "polka"),
])
def test_bad_input_is_a_drumfont_error(model, call):
    with pytest.raises(DrumfontError):
        call(model)


def test_wrong_kind_and_corrupt_checkpoints(tmp_path):
    from drumfont.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "gan.pt", "gan", {}, {})
    with pytest.raises(CheckpointError, match="expected vae"):
        drums.load(tmp_path / "gan.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        drums.load(tmp_path / "junk.pt")
    save_checkpoint(tmp_path / "bad.pt", "vae", {"model": {}}, {"x": np.zeros(1)}, extras={"complete": True})
    with pytest.raises(CheckpointError):
        drums.load(tmp_path / "bad.pt")


def test_rules_model_plays_on_the_grid():
    rules = drums.load("rules")
    assert not rules.timed
    bars = rules.sample("rock", 8, seed=0) + rules.interpolate("rock", "jazz", 3)
    assert not any(b.timed for b in bars)
