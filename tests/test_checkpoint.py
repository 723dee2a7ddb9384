"""Checkpoints: round trip, kind checks, corrupt files."""

import pytest
import torch

from drumfont.checkpoint import load_checkpoint, save_checkpoint
from drumfont.errors import CheckpointError


def test_round_trip(tmp_path):
    sd = {"w": torch.arange(6.0).reshape(2, 3)}
    path = save_checkpoint(tmp_path / "m.pt", "vae", {"z": 4}, sd, extras={"genres": ["rock"]},
                           metrics={"f1": 0.9})
    blob = load_checkpoint(path, "vae")
    assert blob["config"] == {"z": 4} and blob["extras"]["genres"] == ["rock"]
    assert torch.equal(blob["state_dict"]["w"], sd["w"]) and blob["format"] == 1


def test_wrong_kind_missing_and_corrupt(tmp_path):
    path = save_checkpoint(tmp_path / "g.pt", "gan", {}, {})
    with pytest.raises(CheckpointError, match="is a 'gan' checkpoint, expected vae"):
        load_checkpoint(path, "vae")
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "nope.pt", "vae")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage" * 10)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(bad, "vae")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a drumfont checkpoint"):
        load_checkpoint(tmp_path / "other.pt", "vae")
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "cut.pt", "gan")
