"""Preset files (drumfont/nn/preset.py): safetensors with the checkpoint's config in its header,
loaded with numpy alone and never through an unpickler; old torch .pt checkpoints still load
where torch is installed; the trainers' conversion keeps every number."""

from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest

from drumfont.drums import model as vae
from drumfont.errors import CheckpointError
from drumfont.nn import preset as presets
from drumfont.paths import presets_dir


def _tiny(tmp_path, **extras):
    state = {"w.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "w.bias": np.ones(2, np.float32),
             "bn.num_batches_tracked": np.array(3, np.int64)}
    return presets.save_preset(tmp_path / "m.safetensors", "vae", {"model": {"z_low": 12}}, state,
                               extras={"genres": ["rock"], "genre_mean": np.zeros((1, 4), np.float32),
                                       "optimizer": {"state": {}}, **extras},
                               metrics={"val": {"hit_f1": 0.5}})


def test_round_trip_keeps_arrays_and_plain_values_and_drops_the_run_state(tmp_path):
    blob = presets.load(_tiny(tmp_path), "vae")
    assert blob["format"] == presets.FORMAT and blob["kind"] == "vae"
    assert blob["config"] == {"model": {"z_low": 12}} and blob["metrics"] == {"val": {"hit_f1": 0.5}}
    np.testing.assert_array_equal(blob["state_dict"]["w.weight"], np.arange(6).reshape(2, 3))
    assert blob["state_dict"]["bn.num_batches_tracked"].dtype == np.int64
    assert blob["extras"]["genres"] == ["rock"] and blob["extras"]["genre_mean"].shape == (1, 4)
    assert "optimizer" not in blob["extras"]


def test_loading_never_unpickles(tmp_path, monkeypatch):
    path = _tiny(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("an unpickler ran")

    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    assert presets.load(path, "vae")["kind"] == "vae"
    for name in ("drums_vae.safetensors", "humanize.safetensors", "letters_cgan.safetensors"):
        assert presets.load(presets_dir() / name, ("vae", "humanize", "letters_gan"))["state_dict"]


def test_every_shipped_model_is_a_preset_and_no_pickle_ships():
    names = sorted(p.name for p in presets_dir().iterdir() if p.is_file() and p.suffix != ".py")
    assert not [n for n in names if n.endswith((".pt", ".pth", ".pkl"))], names
    models = [n for n in names if n.endswith(presets.SUFFIX)]
    assert len(models) == 10
    for name in models:
        assert presets.is_preset((presets_dir() / name).read_bytes()), name


def test_bad_files_are_one_line_checkpoint_errors(tmp_path):
    path = _tiny(tmp_path)
    data = path.read_bytes()
    cases = {"cut.safetensors": data[: len(data) // 2], "junk.safetensors": b"\x00junk",
             "empty.safetensors": b""}
    (n,) = struct.unpack("<Q", data[:8])
    head = json.loads(data[8:8 + n])
    head["__metadata__"] = {"other": "x"}
    raw = json.dumps(head).encode()
    cases["foreign.safetensors"] = struct.pack("<Q", len(raw)) + raw + data[8 + n:]
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError) as err:
            presets.load(tmp_path / name, "vae")
        assert "\n" not in str(err.value) and name in str(err.value)
    with pytest.raises(CheckpointError, match="expected humanize"):
        presets.load(path, "humanize")


def test_a_preset_whose_weights_do_not_fit_its_config_names_the_file(tmp_path):
    blob = presets.load(presets_dir() / vae.PRESET_NAME, "vae")
    blob["state_dict"]["dec_in.weight"] = blob["state_dict"]["dec_in.weight"][:, :3]
    path = presets.save_preset(tmp_path / "bad.safetensors", "vae", blob["config"], blob["state_dict"],
                               blob["extras"], blob["metrics"])
    with pytest.raises(CheckpointError, match=r"bad.safetensors: weight 'dec_in.weight' has shape"):
        vae.load(path)


def test_a_torch_checkpoint_still_loads_and_converts_to_the_same_model(tmp_path):
    torch = pytest.importorskip("torch")
    from drumfont.checkpoint import save_checkpoint
    from drumfont.trainers.export_preset import export

    blob = presets.load(presets_dir() / vae.PRESET_NAME, "vae")
    tensors = {k: torch.tensor(v) for k, v in blob["state_dict"].items()}
    extras = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in blob["extras"].items()}
    pt = save_checkpoint(tmp_path / "old.pt", "vae", blob["config"], tensors, extras=extras, metrics=blob["metrics"])
    from_pt = vae.load(pt)
    converted = vae.load(export(pt))
    assert converted.source.endswith("old.safetensors")
    a = from_pt.sample_arrays("rock", 64, seed=3)
    b = converted.sample_arrays("rock", 64, seed=3)
    c = vae.load().sample_arrays("rock", 64, seed=3)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


def test_a_drumify_preset_carries_the_draws_its_thresholds_were_fitted_with():
    torch = pytest.importorskip("torch")
    from drumfont.drums.groove_model import hit_draws
    from drumfont.drums.nets import GrooveConfig

    blob = presets.load(presets_dir() / "drumify.safetensors", "drumify")
    cfg = presets.make_config(GrooveConfig, blob["config"]["model"], "drumify")
    assert torch.equal(torch.tensor(blob["extras"]["hit_z"]), hit_draws(cfg))
