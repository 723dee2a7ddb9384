"""trainers/compare_gans.py end to end on tiny networks: every configuration and seed runs, the
combination is picked from the single results, and EMA reaches the loop rather than the networks."""

from __future__ import annotations

import json

import pytest

from drumfont.checkpoint import load_checkpoint
from drumfont.letters.data import build_fonts
from drumfont.trainers import compare_gans


# a 0/0 in the final KL (samples read as digits dropped out of the letter counts) warned here
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_comparison_runs_singles_and_their_combination(tmp_path, capsys):
    data = build_fonts(seed=0, train_per_letter=1, val_per_letter=1).save(tmp_path / "fonts.npz")
    out = tmp_path / "cmp"
    args = ["--out", str(out), "--data", str(data), "--epochs", "2", "--eval-every", "1",
            "--eval-samples", "26", "--final-samples", "52", "--seeds", "0", "1",
            "--g-width", "4", "--d-width", "4", "--only", "vanilla", "mbstd", "ema",
            "--figures", str(tmp_path / "fig")]
    assert compare_gans.main(args + ["--singles-only"]) == 0
    assert "best_combination" not in json.loads((out / "results.json").read_text())["summary"]
    first = (out / "vanilla_s0" / "result.json").read_text()
    assert compare_gans.main(args) == 0                           # reuses the singles, adds the combination
    assert (out / "vanilla_s0" / "result.json").read_text() == first
    res = json.loads((out / "results.json").read_text())
    assert set(res["summary"]) == {"vanilla", "mbstd", "ema", "best_combination"}
    assert all(s["seeds"] == 2 for s in res["summary"].values())
    combo = res["summary"]["best_combination"]["config"]
    assert combo == {"mbstd": True, "ema": 0.999}                # the two non-vanilla singles, merged
    ck = load_checkpoint(out / "ema_s0" / "checkpoint.pt", "gan_run")
    assert "G_ema" in ck["state_dict"] and ck["extras"]["train"]["ema"] == 0.999
    assert "ema" not in ck["config"]                             # not a network switch
    assert "| best_combination |" in capsys.readouterr().out
    assert (tmp_path / "fig" / "gan_comparison_kl.png").stat().st_size > 0
