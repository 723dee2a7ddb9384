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


def test_build_model_from_its_own_config(tmp_path):
    from dataclasses import dataclass

    from drumfont.checkpoint import build_model

    @dataclass
    class Cfg:
        width: int = 3

    class Net(torch.nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.lin = torch.nn.Linear(cfg.width, 2)

    net = Net(Cfg(4))
    path = save_checkpoint(tmp_path / "n.pt", "net", {"m": {"width": 4}}, {"G": net.state_dict()})
    blob = load_checkpoint(path, "net")
    built = build_model(blob, Net, Cfg, path, config_key="m", state_key="G")
    assert not built.training and torch.equal(built.lin.weight, net.lin.weight)
    blob["config"]["m"]["width"] = 5  # weights no longer fit the config
    with pytest.raises(CheckpointError, match="the Net in it does not load"):
        build_model(blob, Net, Cfg, path, config_key="m", state_key="G")
    with pytest.raises(CheckpointError, match="does not load"):
        build_model(blob, Net, Cfg, path)  # no such parts


def test_a_plain_pickle_is_one_line_without_torchs_warning(tmp_path):
    """Issue 21.18: torch printed a two-line UserWarning ("Detected pickle protocol 4") before
    the refusal of a plain pickle given as --preset; the refusal names the unpickler's reason."""
    import os
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-m", "drumfont", "export", "--style", "rock", "-n", "1",
                          "--out", str(tmp_path / "e"), "--preset", str(plain)],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "a plain pickle, which drumfont never unpickles" in res.stderr and "Warning" not in res.stderr
