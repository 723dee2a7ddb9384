"""The one drum engine: the VAE when its preset loads, the rules otherwise, and which failures are
errors (a preset the user named) and which fall back (a missing shipped model, the studio)."""

from __future__ import annotations

import pytest

from drumfont.cli import build_parser
from drumfont.drums import engine as eng
from drumfont.drums import model
from drumfont.errors import DrumfontError


def test_rules_engine_draws_n_seeded_bars():
    e = eng.RulesEngine()
    bars = e.bars("funk" if "funk" in e.genres else "rock", 3, seed=5)
    assert len(bars) == 3 and bars == e.bars("rock", 3, seed=5)
    assert e.sample("rock", 1.0, 5) == bars[0]
    with pytest.raises(DrumfontError, match="at least 1"):
        e.bars("rock", 0)
    with pytest.raises(DrumfontError, match="unknown genre"):
        e.bars("afrobeat", 1)  # the rules play only the rule corpus's five


def test_a_named_preset_that_does_not_load_is_an_error_unless_the_caller_falls_back(tmp_path):
    missing = str(tmp_path / "missing.pt")
    with pytest.raises(DrumfontError, match="no such checkpoint"):
        eng.load_engine(missing)
    e = eng.load_engine(missing, fallback=True)
    assert e.name == "rules" and "no such checkpoint" in e.reason


def test_a_missing_shipped_model_falls_back_with_its_reason(monkeypatch):
    monkeypatch.setattr(model, "preset_available", lambda: False)
    e = eng.load_engine()
    assert e.name == "rules" and "no shipped drum VAE" in e.reason
    with pytest.raises(DrumfontError, match="morph is not available"):
        e.endpoint("rock")


def test_the_shipped_vae_loads_as_the_default_engine():
    pytest.importorskip("torch")
    e = eng.load_engine()
    assert e.name == "vae" and e.can_morph and "funk" in e.genres
    bars = e.bars("funk", 2, temperature=0.5, seed=1)
    assert bars == e.bars("funk", 2, temperature=0.5, seed=1) != e.bars("funk", 2, temperature=0.5, seed=2)


def test_play_takes_the_same_sampling_options_as_export():
    args = build_parser().parse_args(["play", "--style", "jazz", "--temperature", "0.5", "--seed", "3",
                                      "--preset", "rules"])
    assert (args.temperature, args.seed, args.preset) == (0.5, 3, "rules")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["play", "--temperature", "9"])  # the one range, 0..5
