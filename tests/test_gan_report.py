"""`drumfont report gan` on a tiny run: figures, metrics JSON with every promised key."""

from __future__ import annotations

import json

import pytest
import torch

from drumfont.checkpoint import save_checkpoint
from drumfont.cli import main
from drumfont.letters.classifier import ClassifierConfig, LetterClassifier
from drumfont.letters.data import build_fonts
from drumfont.letters.gan import GanConfig
from drumfont.trainers.train_gan import TrainConfig, train

KEYS = ("letters_covered", "letters_covered_strict", "kl_uniform", "mean_confidence", "fd", "fd_real", "kid",
        "precision", "recall", "density", "coverage", "cond_accuracy", "classifier_val_acc")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    data = build_fonts(seed=0, train_per_letter=1, val_per_letter=1).save(d / "fonts.npz")
    torch.manual_seed(0)
    ccfg = ClassifierConfig(width=4, features=8)
    clf = save_checkpoint(d / "clf.pt", "letter_classifier", ccfg.to_dict(), LetterClassifier(ccfg).state_dict())
    train(TrainConfig(run=str(d / "run"), data=str(data), classifier=str(clf), epochs=2, batch_size=13,
                      eval_every=1, eval_samples=52, progress=False),
          GanConfig(z_dim=8, g_width=4, d_width=4, conditional=True))
    return d


def test_report_json_on_stdout_and_figures(run, tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["report", "gan", "--run", str(run / "run"), "--data", str(run / "fonts.npz"), "--classifier",
            str(run / "clf.pt"), "--samples", "104", "--out", str(out), "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)                      # stdout is exactly the JSON
    for k in KEYS:
        assert k in metrics
    assert metrics["cond_accuracy"] is not None and 0 <= metrics["cond_accuracy"] <= 1
    assert sum(metrics["counts"].values()) == 104
    assert "letters covered" in captured.err
    for name in ("alphabet.png", "interpolation.png", "style_consistency.png", "coverage.png", "survival.png",
                 "dynamics.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    assert main(args) == 2                                   # no overwrite without --force
    assert main(args + ["--force"]) == 0


def test_report_missing_run_is_one_line_error(tmp_path, capsys):
    assert main(["report", "gan", "--run", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no generator.pt" in capsys.readouterr().err


def test_report_of_an_infogan_reads_its_codes(run, tmp_path, capsys):
    train(TrainConfig(run=str(tmp_path / "info"), data=str(run / "fonts.npz"), classifier=str(run / "clf.pt"),
                      epochs=1, batch_size=13, eval_samples=52, progress=False, ema=0.9),
          GanConfig(z_dim=8, g_width=4, d_width=4, info_codes=3))
    out = tmp_path / "rep"
    assert main(["report", "gan", "--run", str(tmp_path / "info"), "--data", str(run / "fonts.npz"),
                 "--classifier", str(run / "clf.pt"), "--samples", "78", "--out", str(out), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert len(metrics["code_letters"]) == len(metrics["code_purity"]) == 3
    assert all(1 / 26 <= p <= 1 for p in metrics["code_purity"])     # the majority holds at least its share
    assert 1 <= metrics["code_distinct_letters"] <= 3
    assert metrics["cond_accuracy"] is None
    assert (out / "codes.png").stat().st_size > 0
