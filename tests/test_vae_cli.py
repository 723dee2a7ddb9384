"""The drum-VAE commands: interpolate, transfer, export through the VAE, train vae; their
errors are one line and exit code 2."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.cli import main
from drumfont.score.midifile import read_patterns, write_midi
from drumfont.score.pattern import from_text

GROOVE = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_interpolate_genres_as_chain_and_split(tmp_path, capsys):
    out = tmp_path / "morph.mid"
    rc, _, _ = run(capsys, "interpolate", "--from", "rock", "--to", "jazz", "--steps", "4", "-o", str(out))
    assert rc == 0 and len(read_patterns(out)) == 4
    rc, stdout, _ = run(capsys, "interpolate", "--from", "rock", "--to", "jazz", "--steps", "3", "--level", "high",
                        "-o", str(tmp_path / "split"), "--split")
    assert rc == 0 and len(stdout.split()) == 3
    assert len(read_patterns(tmp_path / "split" / "morph-001.mid")) == 1


def test_interpolate_from_a_mid_file(tmp_path, capsys):
    src = write_midi(tmp_path / "g.mid", [GROOVE])
    rc, _, _ = run(capsys, "interpolate", "--from", str(src), "--to", "latin", "--steps", "2", "-o",
                   str(tmp_path / "m.mid"))
    assert rc == 0


def test_transfer_every_bar(tmp_path, capsys):
    src = write_midi(tmp_path / "g.mid", [GROOVE, GROOVE, GROOVE])
    rc, _, err = run(capsys, "transfer", str(src), "--to", "latin", "-o", str(tmp_path / "t.mid"))
    assert rc == 0 and "3 bar" in err
    assert len(read_patterns(tmp_path / "t.mid")) == 3


def test_export_samples_the_vae(tmp_path, capsys):
    rc, stdout, err = run(capsys, "export", "--style", "rock", "-n", "2", "--seed", "1", "--out", str(tmp_path))
    assert rc == 0 and len(stdout.split()) == 2 and "rules" not in err


@pytest.mark.parametrize("argv, message", [
    (["interpolate", "--from", "rock", "--to", "polka", "-o", "{t}/x.mid"], "unknown genre"),
    (["interpolate", "--from", "rock", "--to", "jazz", "--steps", "1", "-o", "{t}/x.mid"], "at least 2"),
    (["transfer", "{t}/empty.mid", "--to", "latin", "-o", "{t}/x.mid"], "no drum notes"),
    (["transfer", "{t}/g.mid", "--to", "polka", "-o", "{t}/x.mid"], "unknown genre"),
    (["export", "--style", "rock", "-n", "0", "--out", "{t}/e"], "at least 1"),
    (["export", "--style", "rock", "-n", "1", "--out", "{t}/e", "--preset", "{t}/junk.pt"], "checkpoint"),
    (["export", "--style", "rock", "-n", "1", "--out", "{t}/e", "--preset", "{t}/clf.pt"], "expected vae"),
    (["report", "vae", "--preset", "{t}/junk.pt", "--out", "{t}/r"], "checkpoint"),
])
def test_bad_input_one_line_exit_2(tmp_path, capsys, argv, message):
    from drumfont.checkpoint import save_checkpoint
    from drumfont.score.pattern import Pattern

    write_midi(tmp_path / "g.mid", [GROOVE])
    write_midi(tmp_path / "empty.mid", [Pattern.empty()])
    (tmp_path / "junk.pt").write_bytes(b"\x00junk")
    save_checkpoint(tmp_path / "clf.pt", "style_classifier", {}, {})
    rc, _, err = run(capsys, *[a.replace("{t}", str(tmp_path)) for a in argv])
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_train_vae_passthrough(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "vae", "--help"])
    assert exc.value.code == 0
    assert "--kl-schedule" in capsys.readouterr().out
    rc, _, err = run(capsys, "train", "vae", "--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "v.pt"))
    assert rc == 2 and "no such dataset" in err


def test_export_falls_back_to_the_rules_without_a_shipped_model(tmp_path, capsys, monkeypatch):
    from drumfont.drums import model

    monkeypatch.setattr(model, "preset_available", lambda: False)
    rc, stdout, err = run(capsys, "export", "--style", "rock", "-n", "2", "--seed", "1", "--out", str(tmp_path))
    assert rc == 0 and len(stdout.split()) == 2
    assert err.count("\n") == 1 and "genre rules" in err


def test_train_vae_resume_through_the_cli(tmp_path, capsys):
    from drumfont.checkpoint import load_checkpoint
    from drumfont.drums.dataset import DrumDataset
    from drumfont.score.genres import RULE_GENRES as GENRES

    rng = np.random.default_rng(0)
    vel = (rng.random((40, 16, 9)) < 0.2) * 100
    DrumDataset(vel.astype(np.uint8), np.repeat(np.arange(2), 20).astype(np.int16),
                np.tile([0, 0, 0, 1], 10).astype(np.uint8), GENRES[:2]).save(tmp_path / "d.npz")
    flags = ["--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "v.pt"), "--epochs", "4",
             "--val-every", "2", "--model-channels", "8", "--no-progress"]
    assert main(["train", "vae", *flags, "--stop-after", "2"]) == 0
    assert load_checkpoint(tmp_path / "v.pt", "vae")["extras"]["complete"] is False
    assert main(["train", "vae", "--out", str(tmp_path / "v.pt"), "--resume", "--no-progress"]) == 0
    assert load_checkpoint(tmp_path / "v.pt", "vae")["extras"]["complete"] is True
