"""The VAE and style-classifier trainers end to end on a tiny config; exact resume; schedules."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from drumfont.checkpoint import load_checkpoint
from drumfont.drums.dataset import DrumDataset, stratified_split
from drumfont.score.genres import RULE_GENRES as GENRES
from drumfont.trainers import train_style_classifier, train_vae
from drumfont.trainers.train_vae import TrainConfig, kl_beta, output_temperature

TINY_FLAGS = ["--model-channels", "8", "--model-hidden", "8", "--batch-size", "16", "--no-progress"]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> str:
    """60 bars in 3 genres, each genre a fixed groove with a few random flips."""
    rng = np.random.default_rng(0)
    vel, genre = [], []
    for g in range(3):
        base = np.zeros((16, 9), bool)
        base[g::4, 0] = True
        base[4::8, 1 + g] = True
        base[::2, 2] = True
        for _ in range(20):
            h = base ^ (rng.random((16, 9)) < 0.03)
            vel.append(np.where(h, rng.integers(30, 127, (16, 9)), 0))
            genre.append(g)
    genre = np.array(genre, np.int16)
    ds = DrumDataset(np.array(vel, np.uint8), genre, stratified_split(genre, 0.2, rng), GENRES[:3])
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    ds.save(path)
    return str(path)


def test_trains_end_to_end_and_stores_genre_gaussians(tiny_data, tmp_path):
    out = tmp_path / "vae.pt"
    rc = train_vae.main(["--data", tiny_data, "--out", str(out), "--epochs", "4", "--val-every", "2"] + TINY_FLAGS)
    assert rc == 0
    blob = load_checkpoint(out, "vae")
    ex = blob["extras"]
    assert ex["complete"] and ex["epoch"] == 4
    assert ex["genres"] == list(GENRES[:3]) and ex["genres_present"] == [0, 1, 2]
    assert ex["genre_mean"].shape == (3, 4) and ex["genre_cov"].shape == (3, 4, 4)
    assert blob["config"]["model"]["channels"] == 8
    history = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history] == [0, 1, 2, 3]
    assert "val" in history[1] and "val" in history[3] and "val" not in history[0]
    for key in ("loss", "bce", "beta", "temperature", "kl_high_dims", "kl_low_dims"):
        assert key in history[0]
    assert 0 <= history[3]["val"]["hit_f1"] <= 1
    assert np.isfinite(history[3]["loss"])


def test_resume_continues_exactly(tiny_data, tmp_path):
    flags = ["--data", tiny_data, "--epochs", "6", "--val-every", "2", "--free-bits", "0.1",
             "--temp-start", "2"] + TINY_FLAGS
    full, part = tmp_path / "full.pt", tmp_path / "part.pt"
    assert train_vae.main(flags + ["--out", str(full)]) == 0
    assert train_vae.main(flags + ["--out", str(part), "--stop-after", "3"]) == 0
    assert load_checkpoint(part, "vae")["extras"]["epoch"] == 2  # last validation before the stop
    assert train_vae.main(["--out", str(part), "--resume", "--no-progress"]) == 0
    a, b = load_checkpoint(full, "vae"), load_checkpoint(part, "vae")
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k
    ha = [json.loads(x)["loss"] for x in full.with_suffix(".jsonl").read_text().splitlines()]
    hb = [json.loads(x)["loss"] for x in part.with_suffix(".jsonl").read_text().splitlines()]
    assert ha == hb


def test_refuses_to_overwrite_and_to_resume_a_finished_run(tiny_data, tmp_path, capsys):
    out = tmp_path / "vae.pt"
    flags = ["--data", tiny_data, "--out", str(out), "--epochs", "1"] + TINY_FLAGS
    assert train_vae.main(flags) == 0
    assert train_vae.main(flags) == 2
    assert "exists" in capsys.readouterr().err
    assert train_vae.main(["--out", str(out), "--resume"]) == 2
    assert train_vae.main(["--out", str(tmp_path / "missing.pt"), "--resume"]) == 2
    assert train_vae.main(["--data", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "x.pt")]) == 2


def test_kl_schedules():
    cyc = TrainConfig(kl_schedule="cyclical", kl_cycles=4, kl_ratio=0.5, beta_max=1.0)
    assert kl_beta(0, 400, cyc) == 0.0
    assert kl_beta(25, 400, cyc) == pytest.approx(0.5)
    assert kl_beta(60, 400, cyc) == 1.0
    assert kl_beta(100, 400, cyc) == 0.0  # the second cycle starts over
    mono = TrainConfig(kl_schedule="monotonic", kl_ratio=0.5, beta_max=0.2)
    assert kl_beta(100, 400, mono) == pytest.approx(0.1) and kl_beta(399, 400, mono) == pytest.approx(0.2)
    assert kl_beta(0, 400, TrainConfig(kl_schedule="none", beta_max=0.3)) == 0.3
    t = TrainConfig(epochs=11, temp_start=2.0, temp_end=1.0)
    assert output_temperature(0, t) == 2.0 and output_temperature(10, t) == 1.0
    assert output_temperature(5, t) == pytest.approx(1.5)


def test_style_classifier_trainer(tiny_data, tmp_path):
    out = tmp_path / "clf.pt"
    assert train_style_classifier.main(["--data", tiny_data, "--out", str(out), "--epochs", "15",
                                        "--no-progress"]) == 0
    blob = load_checkpoint(out, "style_classifier")
    assert blob["extras"]["genres"] == list(GENRES[:3])
    assert blob["metrics"]["val_acc"] >= 0.75  # three clearly different grooves


def test_typical_bar_is_a_full_timed_groove_nearest_the_genre_mean():
    import torch

    from drumfont.trainers.train_vae import fit_genre_gaussians, typical_bars

    rng = np.random.default_rng(0)
    z_high = torch.tensor(rng.normal(size=(40, 2)), dtype=torch.float32)
    z_low = torch.tensor(rng.normal(size=(40, 3)), dtype=torch.float32)
    genre = np.repeat([0, 1], 20)
    hits = np.full(40, 10)
    means, covs, present = fit_genre_gaussians(z_high, genre, 2)
    # bar 3 sits on genre 0's mean, but is sparse; bar 4 is next to it and a full groove
    z_high[3], z_high[4] = means[0], means[0] + 0.01
    hits[3] = 2
    timed = np.ones(40, bool)
    th, tl = typical_bars(z_high, z_low, hits, genre, means, covs, present, timed)
    assert torch.equal(th[0], z_high[4]) and torch.equal(tl[0], z_low[4])
    timed[4] = False  # a straight (rule-corpus) bar is passed over when timed bars exist
    th, _ = typical_bars(z_high, z_low, hits, genre, means, covs, present, timed)
    assert not torch.equal(th[0], z_high[4])
