"""`drumfont report vae` on the shipped preset with a small slice of the corpus, and the
measures it is built from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drumfont.cli import main
from drumfont.drums import metrics as mv
from drumfont.drums.dataset import DrumDataset

KEYS = ["active_units_high", "active_units_low", "collapsed_dims_high", "collapsed_dims_low", "probe_acc_high",
        "probe_acc_low", "silhouette_high", "hit_f1", "cell_accuracy", "gen_genre_agreement_min", "gen_validity",
        "gen_novelty", "transfer_success", "rhythm_preservation", "classifier_val_acc"]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[str, str]:
    """A labelled slice of the corpus (12 bars per genre per split) and an unlabelled copy."""
    from drumfont.drums import rules as grooves

    ds = grooves.build_corpus(seed=0)
    keep = np.zeros(len(ds), bool)
    for g in range(len(ds.genres)):
        for s in (0, 1):
            keep[np.flatnonzero((ds.genre == g) & (ds.split == s))[:12]] = True
    sub = DrumDataset(ds.velocities[keep], ds.genre[keep], ds.split[keep], ds.genres)
    folder = tmp_path_factory.mktemp("rep")
    sub.save(folder / "small.npz")
    DrumDataset(sub.velocities, np.full(len(sub), -1, np.int16), sub.split, ds.genres).save(folder / "unl.npz")
    return str(folder / "small.npz"), str(folder / "unl.npz")


def test_report_json_and_figures(small, tmp_path, capsys):
    out = tmp_path / "rep"
    # the rule corpus's slice, with the model and judge trained on the rules
    rc = main(["report", "vae", "--preset", "rules", "--data", small[0], "--out", str(out), "--samples", "20",
               "--json"])
    cap = capsys.readouterr()
    assert rc == 0
    metrics = json.loads(cap.out)  # stdout is exactly the JSON
    for k in KEYS:
        assert isinstance(metrics[k], (int, float)), k
    assert 0 <= metrics["hit_f1"] <= 1 and metrics["active_units_low"] <= 12
    assert set(metrics["per_genre"]) == {"rock", "jazz", "hiphop", "electronic", "latin"}
    assert json.loads((out / "metrics.json").read_text())["hit_f1"] == metrics["hit_f1"]
    for name in ("kl_per_dim.png", "tsne_z_high.png", "tsne_z_low.png", "interp_z_high.png", "interp_z_low.png",
                 "control_fixed_high.png", "control_fixed_low.png", "generated_per_genre.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # no overwrite without --force
    assert main(["report", "vae", "--preset", "rules", "--data", small[0], "--out", str(out), "--samples", "5"]) == 2


def test_report_on_unlabelled_data(small, tmp_path, capsys):
    rc = main(["report", "vae", "--data", small[1], "--out", str(tmp_path / "u"), "--samples", "10", "--json"])
    metrics = json.loads(capsys.readouterr().out)
    assert rc == 0 and metrics["labelled"] is False
    assert "probe_acc_high" not in metrics and "hit_f1" in metrics and "gen_novelty" in metrics


def test_measures_on_known_cases():
    rng = np.random.default_rng(0)
    # active units: a dimension that varies across x counts, a constant one does not
    z = np.c_[rng.normal(0, 1, 100), np.full(100, 3.0)]
    assert mv.active_units(z)[0] == 1
    assert mv.collapsed_dims([0.05, 0.2, 1.0]) == 1
    # MI of a posterior that ignores x is ~0; of a sharp, x-dependent one it approaches log N
    mu0 = np.zeros((200, 2))
    assert abs(mv.mutual_information(mu0, np.zeros((200, 2)), rng)) < 0.15  # Monte Carlo noise only
    mu1 = rng.normal(0, 3, (200, 2))
    assert mv.mutual_information(mu1, np.full((200, 2), -8.0), rng) > 0.9 * np.log(200)
    # probes and silhouette on separable vs shuffled labels
    labels = np.repeat(np.arange(3), 30)
    sep = np.eye(3)[labels] * 5 + rng.normal(0, 0.1, (90, 3))
    assert mv.linear_probe(sep, labels) == 1.0 and mv.silhouette(sep, labels) > 0.9
    assert mv.disentanglement_score(sep, rng.normal(size=(90, 3)), labels) > 0.8
    # reconstruction scores
    h = np.zeros((1, 16, 9), bool)
    h[0, ::4, 0] = True
    s = mv.reconstruction_scores(h, h)
    assert s["hit_f1"] == 1.0 and s["cell_accuracy"] == 1.0 and s["zeros_baseline_accuracy"] == 140 / 144
    assert mv.reconstruction_scores(h, np.zeros_like(h))["hit_f1"] == 0.0
    # novelty: a copy is not novel, one flipped cell is at Hamming distance 1
    flipped = h.copy()
    flipped[0, 1, 1] = True
    nov = mv.novelty(np.concatenate([h, flipped]), h)
    assert nov["novelty"] == 0.5 and nov["nn_hamming_mean"] == 0.5
    # overlapping area: same distribution ~1, disjoint ~0
    a = rng.normal(0, 1, 200)
    assert mv.overlapping_area(a, rng.normal(0, 1, 200)) > 0.8
    assert mv.overlapping_area(a, rng.normal(20, 1, 200)) < 0.05
    # rhythm preservation: identical 1, disjoint 0
    assert mv.rhythm_preservation(h, h)["recall"] == 1.0
    assert mv.rhythm_preservation(h, np.zeros_like(h))["recall"] == 0.0
    # syncopation: an off-beat hit before a silent beat counts, an on-beat one does not
    s = np.zeros((1, 16, 9), bool)
    s[0, 3, 0] = True
    assert mv.syncopation(s)[0] == 1
    s2 = np.zeros((1, 16, 9), bool)
    s2[0, 4, 0] = True
    assert mv.syncopation(s2)[0] == 0


def test_report_on_timed_data_lacking_some_genres(small, tmp_path, capsys):
    # Two genres only (the model knows more), with a drummer's timing on every hit: the report
    # must not fail on the genres the data lacks, and must measure timing beside its baselines.
    ds = DrumDataset.load(small[0])
    keep = np.isin(np.array(ds.genres)[ds.genre], ["rock", "jazz"])
    rng = np.random.default_rng(0)
    off = np.where(ds.velocities > 0, rng.normal(0.05, 0.08, ds.velocities.shape).clip(-0.49, 0.49), 0)
    part = DrumDataset(ds.velocities, ds.genre, ds.split, ds.genres, [], off.astype(np.float16)).take(keep)
    part.save(tmp_path / "part.npz")
    out = tmp_path / "p"
    rc = main(["report", "vae", "--data", str(tmp_path / "part.npz"), "--out", str(out), "--samples", "10",
               "--json"])
    metrics = json.loads(capsys.readouterr().out)
    assert rc == 0
    for k in ("timing_mae_ms", "timing_mae_ms_quantised", "timing_mae_ms_mean_groove", "velocity_mae",
              "velocity_mae_mean_groove"):
        assert metrics[k] >= 0, k
    # the quantised baseline's timing error is the mean |offset| of the real hits, in ms at 120 BPM
    val = part.subset(1)
    assert metrics["timing_mae_ms_quantised"] == pytest.approx(
        np.abs(val.timing[val.velocities > 0]).mean() * 125.0, rel=1e-4)
    assert (out / "offsets_per_voice.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mean_groove_baseline_per_genre_and_cell():
    vel = np.zeros((4, 16, 9), np.uint8)
    off = np.zeros((4, 16, 9), np.float32)
    vel[:, 0, 0] = [100, 80, 60, 40]
    off[:, 0, 0] = [0.1, 0.3, -0.2, -0.4]
    genre = np.array([0, 0, 1, 1])
    mvel, moff = mv.mean_groove(vel, off, genre, 2)
    assert mvel[0, 0, 0] == 90 and mvel[1, 0, 0] == 50
    assert moff[0, 0, 0] == pytest.approx(0.2) and moff[1, 0, 0] == pytest.approx(-0.3)
    b = mv.groove_baselines(vel, off, genre, 2, vel[:1], off[:1], genre[:1])
    assert b["timing_mae_ms_mean_groove"] == pytest.approx(0.1 * 125) and b["velocity_mae_mean_groove"] == 10
