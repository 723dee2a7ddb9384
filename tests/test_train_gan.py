"""The GAN trainer end to end on a tiny config: history, checkpoints, resume, CLI."""

from __future__ import annotations

import json

import pytest
import torch

from drumfont.checkpoint import load_checkpoint, save_checkpoint
from drumfont.cli import main
from drumfont.errors import DrumfontError
from drumfont.letters.classifier import ClassifierConfig, LetterClassifier
from drumfont.letters.data import build_fonts
from drumfont.letters.gan import GanConfig
from drumfont.trainers.train_gan import TrainConfig, train

TINY = dict(z_dim=8, g_width=4, d_width=4)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gan")
    data = build_fonts(seed=0, train_per_letter=1, val_per_letter=1).save(d / "fonts.npz")
    torch.manual_seed(0)
    ccfg = ClassifierConfig(width=4, features=8)
    clf = save_checkpoint(d / "clf.pt", "letter_classifier", ccfg.to_dict(), LetterClassifier(ccfg).state_dict())
    return str(data), str(clf)


def _cfg(files, run, **kw) -> TrainConfig:
    base = dict(run=str(run), data=files[0], classifier=files[1], epochs=2, batch_size=13, eval_every=1,
                eval_samples=52, progress=False)
    base.update(kw)
    return TrainConfig(**base)


def _history(run):
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


def test_tiny_run_logs_everything_and_writes_generator(files, tmp_path):
    run = tmp_path / "run"
    last = train(_cfg(files, run, preset_out=str(tmp_path / "p.pt")), GanConfig(**TINY, mbstd=True, unrolled=1))
    hist = _history(run)
    steps = [h for h in hist if h["type"] == "step"]
    evals = [h for h in hist if h["type"] == "eval"]
    assert len(steps) == 2 * 2 and len(evals) == 2                 # 26 training images // 13 per batch
    for key in ("d_loss", "g_loss", "ratio", "d_grad", "g_grad"):
        assert all(torch.isfinite(torch.tensor(s[key])) for s in steps)
    for key in ("letters_covered", "letters_covered_strict", "kl_uniform", "mean_confidence", "diversity"):
        assert key in last
    assert sum(last["counts"]) == 52 and len(last["counts"]) == 26
    gen = load_checkpoint(run / "generator.pt", "letters_gan")
    assert gen["config"]["mbstd"] is True and len(gen["extras"]["history_evals"]) == 2
    assert load_checkpoint(tmp_path / "p.pt", "letters_gan")["metrics"]["epoch"] == 2
    with pytest.raises(DrumfontError, match="already holds a run"):
        train(_cfg(files, run), GanConfig(**TINY))


def test_resume_matches_an_uninterrupted_run(files, tmp_path):
    straight, resumed = tmp_path / "a", tmp_path / "b"
    gcfg = GanConfig(**TINY, conditional=True)
    train(_cfg(files, straight, epochs=3), gcfg)
    train(_cfg(files, resumed, epochs=2), gcfg)
    last = train(_cfg(files, resumed, epochs=3, resume=True), gcfg)
    assert "cond_accuracy" in last
    a = load_checkpoint(straight / "checkpoint.pt", "gan_run")["state_dict"]["G"]
    b = load_checkpoint(resumed / "checkpoint.pt", "gan_run")["state_dict"]["G"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["epoch"] for h in _history(resumed) if h["type"] == "eval"] == [1, 2, 3]


def test_ema_generator_is_shipped_and_resumes_exactly(files, tmp_path):
    straight, resumed = tmp_path / "a", tmp_path / "b"
    gcfg = GanConfig(**TINY, info_codes=3)
    train(_cfg(files, straight, epochs=3, ema=0.9), gcfg)
    train(_cfg(files, resumed, epochs=2, ema=0.9), gcfg)
    train(_cfg(files, resumed, epochs=3, ema=0.9, resume=True), gcfg)
    ck = load_checkpoint(straight / "checkpoint.pt", "gan_run")["state_dict"]
    shipped = load_checkpoint(straight / "generator.pt", "letters_gan")["state_dict"]
    # the average, not the last G, is what ships; its BN statistics were measured afresh
    assert not torch.equal(shipped["project.0.weight"], ck["G"]["project.0.weight"])
    assert torch.equal(shipped["project.0.weight"], ck["G_ema"]["project.0.weight"])
    assert not torch.equal(shipped["project.1.running_mean"], ck["G"]["project.1.running_mean"])
    again = load_checkpoint(resumed / "checkpoint.pt", "gan_run")["state_dict"]["G_ema"]
    assert all(torch.equal(ck["G_ema"][k], again[k]) for k in again if "running" not in k)
    with pytest.raises(DrumfontError, match="--ema"):
        train(_cfg(files, tmp_path / "c", ema=1.0), gcfg)


def test_cli_train_gan_passes_flags(files, tmp_path, capsys):
    run = tmp_path / "cli"
    rc = main(["train", "gan", "--run", str(run), "--data", files[0], "--classifier", files[1], "--epochs", "1",
               "--batch-size", "26", "--eval-samples", "26", "--z-dim", "8", "--g-width", "4", "--d-width", "4",
               "--diffaug", "--no-log-steps"])
    assert rc == 0
    assert load_checkpoint(run / "generator.pt", "letters_gan")["config"]["diffaug"] is True
    assert main(["train", "gan", "--run", str(run), "--epochs", "1"]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_conditional_run_on_every_glyph_records_the_layout(files, tmp_path):
    run = tmp_path / "run46"
    last = train(_cfg(files, run, eval_samples=92), GanConfig(**TINY, conditional=True, classes=46))
    assert len(last["counts"]) == 46 and sum(last["counts"]) == 92
    gen = load_checkpoint(run / "generator.pt", "letters_gan")
    assert gen["config"]["classes"] == 46 and len(gen["extras"]["glyphs"]) == 46
    period, cap = gen["extras"]["layout"]["."], gen["extras"]["layout"]["H"]
    assert period[3] < 0.4 * cap[3]                                 # the dot sits low and small
