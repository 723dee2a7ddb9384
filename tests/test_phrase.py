"""The phrase level: windows and fill flags, the model's shapes and conditioning, its trainer on a
tiny config, the engine's outputs (bar counts, fill bars, crash after fills, songs, continue) and
the phrase report."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from drumfont.checkpoint import load_checkpoint
from drumfont.drums import phrase_data as pdm
from drumfont.drums import phrase_engine
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.drums.phrase import PhraseConfig, PhraseVAE, conditions, context_grids, phrase_input, phrase_losses
from drumfont.errors import DrumfontError
from drumfont.nn import preset as presets
from drumfont.score.genres import RULE_GENRES as GENRES
from drumfont.score.pattern import CRASH, TOM_HIGH, TOM_LOW, Pattern
from drumfont.trainers import train_phrase, train_vae

TINY_MODEL = ["--model-channels", "8", "--model-hidden", "16", "--model-z-bar", "4", "--model-z-phrase", "2",
              "--model-genre-dim", "2", "--model-context", "4"]
TINY = TINY_MODEL + ["--batch-size", "32", "--no-progress", "--val-every", "1"]


def groove(g: int) -> np.ndarray:
    """A genre's groove: a hat line, a kick and a snare placed by the genre."""
    base = np.zeros((16, 9), bool)
    base[::2, 2] = True
    base[g::4, 0] = True
    base[4::8, 1] = True
    return base


def fill_bar(base: np.ndarray) -> np.ndarray:
    """The groove's first half, then toms and snare all through the second half."""
    bar = base.copy()
    bar[8:] = False
    bar[8:, [1, TOM_HIGH, TOM_LOW]] = True
    return bar


@pytest.fixture(scope="module")
def perf_data(tmp_path_factory) -> str:
    """Performances: 3 genres x 5 files of 12 bars, a fill every 4th bar and a crash after it;
    files 3 and 4 of each genre are the validation split."""
    rng = np.random.default_rng(0)
    vel, off, genre, split, src = [], [], [], [], []
    for g in range(3):
        for f in range(5):
            for b in range(12):
                bar = fill_bar(groove(g)) if b % 4 == 3 else groove(g) ^ (rng.random((16, 9)) < 0.02)
                if b % 4 == 0 and b > 0:
                    bar[0, CRASH] = True
                vel.append(np.where(bar, rng.integers(40, 127, (16, 9)), 0))
                off.append(np.where(bar, rng.uniform(-0.2, 0.2, (16, 9)), 0))
                genre.append(g)
                split.append(VAL if f >= 3 else TRAIN)
                src.append((f"g{g}/f{f}.mid", b + 1))
    ds = DrumDataset(np.array(vel, np.uint8), np.array(genre, np.int16), np.array(split, np.uint8), GENRES[:3],
                     src, np.array(off, np.float16), np.zeros(len(vel), bool))
    path = tmp_path_factory.mktemp("phrase") / "perf.npz"
    ds.save(path)
    return str(path)


@pytest.fixture(scope="module")
def tiny_phrase(perf_data, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("phrase_model") / "phrase.pt"
    assert train_phrase.main(["--data", perf_data, "--out", str(out), "--epochs", "2"] + TINY) == 0
    return str(out)


# --- windows and fill flags ------------------------------------------------------------------------

def test_fill_rule_flags_a_bar_that_opens_in_the_groove_and_leaves_it():
    base = groove(0)
    run = np.stack([base, base, base, fill_bar(base), base, base])
    flags = pdm.detect_fills(run, np.zeros(6, int), np.arange(1, 7))
    assert flags.tolist() == [False, False, False, True, False, False]
    # a bar that is different from its first sixteenth is a new groove, not a fill
    other = np.roll(base, 3, axis=0)
    flags = pdm.detect_fills(np.stack([base, base, other]), np.zeros(3, int), np.arange(1, 4))
    assert not flags.any()
    # bars of GMD's fill files keep their label
    assert pdm.detect_fills(run[:2], np.zeros(2, int), np.arange(2), np.array([True, True])).all()


def test_runs_break_at_files_and_gaps():
    files = np.array([0, 0, 0, 0, 1, 1])
    bars = np.array([1, 2, 4, 5, 1, 2])
    out = pdm.runs(files, bars, np.ones(6, bool))
    assert [r.tolist() for r in out] == [[0, 1], [2, 3], [4, 5]]


def test_windows_sit_on_the_grid_from_each_run_start_with_the_bar_before():
    n = 10
    hits = np.stack([groove(0)] * n)
    w = pdm.build_windows(hits, np.zeros(n), np.zeros(n), np.zeros(n), np.arange(1, n + 1), lengths=(1, 4, 8))
    assert w[4].rows.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]  # bars 9-10 are too few for a 4-bar window
    assert w[4].prev.tolist() == [-1, 3]
    assert len(w[8]) == 1 and len(w[1]) == n
    with pytest.raises(ValueError):
        pdm.build_windows(hits, np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n), lengths=(9,))


def test_the_rule_corpus_bars_are_one_bar_phrases_of_their_own():
    n = 8
    vel = np.stack([groove(0)] * n).astype(np.uint8) * 90
    src = [("drummer1/a.mid", b) for b in range(1, 5)] + [("rules:rock", b) for b in range(1, 5)]
    ds = DrumDataset(vel, np.zeros(n, np.int16), np.zeros(n, np.uint8), GENRES[:1], src)
    assert pdm.performed(ds).tolist() == [True] * 4 + [False] * 4
    w = pdm.windows_of(ds, (1, 2, 4))
    assert w[4].rows.tolist() == [[0, 1, 2, 3]] and w[2].rows.tolist() == [[0, 1], [2, 3]]
    assert sorted(w[1].rows.ravel().tolist()) == list(range(n))  # each rule bar a phrase of its own
    assert (w[1].prev[np.isin(w[1].rows[:, 0], [4, 5, 6, 7])] == -1).all()


def test_chunks_and_jaccard():
    assert pdm.chunks(13) == [8, 4, 1] and pdm.chunks(4) == [4] and pdm.chunks(64) == [8] * 8
    assert sum(pdm.chunks(31)) == 31
    a = groove(0)
    assert pdm.jaccard_distance(a, a) == 0
    assert pdm.jaccard_distance(a, ~a) == 1
    assert pdm.jaccard_distance(np.zeros((16, 9)), np.zeros((16, 9))) == 0


# --- the model ---------------------------------------------------------------------------------------

def tiny_cfg() -> PhraseConfig:
    return PhraseConfig(z_bar=4, z_phrase=2, channels=8, hidden=16, genre_dim=2, context=4, n_genres=3)


def batch(b: int = 3, n: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    h = (torch.rand(b, n, 16, 9, generator=g) < 0.2).float()
    v, o = torch.rand(b, n, 16, 9, generator=g), torch.rand(b, n, 16, 9, generator=g) - 0.5
    x = phrase_input(h, v, o)
    return h, v, o, x


def test_conditions_are_one_hots_of_position_and_bars_to_the_end():
    fill = torch.tensor([[False, False, True]])
    c = conditions(fill, torch.tensor([True]), torch.tensor([True]), 8)
    assert c.shape == (1, 3, 19)
    assert c[0, :, :8].argmax(-1).tolist() == [0, 1, 2]
    assert c[0, :, 8:16].argmax(-1).tolist() == [2, 1, 0]
    assert c[0, :, 16].tolist() == [0, 0, 1] and c[0, :, 17].tolist() == [1, 0, 0] and c[0, :, 18].tolist() == [1, 1, 1]
    # a later chunk of a longer phrase
    c = conditions(torch.zeros(1, 2, dtype=torch.bool), torch.tensor([False]), torch.tensor([True]), 8, start=2,
                   length=4)
    assert c[0, :, :8].argmax(-1).tolist() == [2, 3] and c[0, :, 8:16].argmax(-1).tolist() == [1, 0]


def test_forward_shapes_and_finite_loss():
    torch.manual_seed(0)
    model = PhraseVAE(tiny_cfg())
    h, v, o, x = batch()
    out = model(x, torch.tensor([0, 1, -1]), torch.zeros(3, 4, dtype=torch.bool), x[:, 0],
                torch.tensor([True, False, True]), torch.zeros(3, dtype=torch.bool))
    assert out["logits"].shape == (3, 4, 16, 9) and out["velocity"].shape == (3, 4, 16, 9)
    assert out["kl_bar"].shape == (3, 4) and out["kl_phrase"].shape == (3, 2)
    assert (out["offset"].abs() < 0.5).all() and ((out["velocity"] >= 0) & (out["velocity"] <= 1)).all()
    bce, vel, off = phrase_losses(out, h, v, o)
    assert torch.isfinite(bce + vel + off)


def test_mixture_prior_density_kl_and_sampling():
    from drumfont.drums.hvae import gaussian_kl
    from drumfont.drums.phrase import Prior

    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 1, 3, generator=g), torch.randn(5, 1, 3, generator=g) * 0.3
    one = Prior(torch.zeros(5, 1), mu, logvar)
    z = torch.randn(5, 3, generator=g)
    ref = -0.5 * (np.log(2 * np.pi) + logvar[:, 0] + (z - mu[:, 0]) ** 2 / logvar[:, 0].exp()).sum(-1)
    assert torch.allclose(one.log_density(z), ref, atol=1e-5)
    mq, lq = torch.randn(5, 3, generator=g), torch.zeros(5, 3)
    assert torch.allclose(one.kl(z, mq, lq), gaussian_kl(mq, lq, mu[:, 0], logvar[:, 0]).sum(-1))
    # two far components, nearly all weight on the second: draws land there; T=0 is its mean
    two = Prior(torch.tensor([[-8.0, 8.0]]).repeat(400, 1), torch.tensor([[[-10.0] * 3, [10.0] * 3]]).repeat(400, 1, 1),
                torch.full((400, 2, 3), -4.0))
    draws = two.sample(torch.Generator().manual_seed(1))
    assert (draws > 5).all()
    assert torch.equal(two.sample(None, 0.0), torch.full((400, 3), 10.0))
    assert torch.isfinite(two.kl(draws, draws, torch.zeros_like(draws))).all()


def test_context_grids_hold_the_bar_before_and_the_first_bar():
    _, _, _, x = batch(2, 3)
    prev = torch.ones(2, 16, 27)
    ctx = context_grids(x, prev)
    assert ctx.shape == (2, 3, 16, 54)
    assert torch.equal(ctx[:, 0, :, :27], prev) and torch.equal(ctx[:, 2, :, :27], x[:, 1])
    assert (ctx[:, 0, :, 27:] == 0).all() and torch.equal(ctx[:, 2, :, 27:], x[:, 0])


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = PhraseVAE(tiny_cfg())
    h, v, o, x = batch(4, 4)
    args = (x, torch.tensor([0, 1, 2, 0]), torch.zeros(4, 4, dtype=torch.bool), torch.zeros(4, 16, 27),
            torch.zeros(4, dtype=torch.bool), torch.zeros(4, dtype=torch.bool))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss() -> torch.Tensor:
        out = model(*args, generator=torch.Generator().manual_seed(1))
        bce, vel, off = phrase_losses(out, h, v, o)
        return bce + 0.1 * out["kl_bar"].mean() + vel + off

    first = loss().item()
    for _ in range(60):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < 0.75 * first


def test_conditioning_moves_the_prior_and_generation_is_seeded():
    torch.manual_seed(0)
    model = PhraseVAE(tiny_cfg()).eval()
    z_p = torch.zeros(1, 2)
    h0 = model.start(z_p, torch.tensor([0]))
    before = torch.zeros(1, 1, 16, 27)
    c_fill = conditions(torch.tensor([[True]]), torch.tensor([False]), torch.tensor([False]), 8)
    c_beat = conditions(torch.tensor([[False]]), torch.tensor([False]), torch.tensor([False]), 8)
    mu_fill = model.conduct(before, c_fill, torch.tensor([0]), h0)[1].mu
    mu_beat = model.conduct(before, c_beat, torch.tensor([0]), h0)[1].mu
    mu_other = model.conduct(before, c_beat, torch.tensor([1]), model.start(z_p, torch.tensor([1])))[1].mu
    mu_bar = model.conduct(torch.ones(1, 1, 16, 27), c_beat, torch.tensor([0]), h0)[1].mu
    assert not torch.allclose(mu_fill, mu_beat) and not torch.allclose(mu_beat, mu_other)
    assert not torch.allclose(mu_beat, mu_bar)  # the bar before is read
    cond = conditions(torch.zeros(2, 4, dtype=torch.bool), torch.zeros(2, dtype=torch.bool),
                      torch.zeros(2, dtype=torch.bool), 8)
    with torch.no_grad():
        runs = [model.generate(torch.zeros(2, 2), torch.tensor([0, 1]), cond, torch.zeros(2, 16, 27),
                               torch.Generator().manual_seed(s)) for s in (5, 5, 6)]
        forced = model.generate(torch.zeros(2, 2), torch.tensor([0, 1]), cond, torch.zeros(2, 16, 27),
                                torch.Generator().manual_seed(5), forced_x=torch.zeros(2, 3, 16, 27))
    assert runs[0][0].shape == (2, 4, 16, 9) and runs[0][0].dtype == torch.bool
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not torch.equal(runs[0][1], runs[2][1])
    assert forced[0].shape == (2, 1, 16, 9)  # three bars given, one drawn


# --- the trainer ------------------------------------------------------------------------------------

def test_trainer_runs_two_epochs_and_the_checkpoint_rebuilds_the_model(tiny_phrase):
    blob = load_checkpoint(tiny_phrase, "phrase")
    ex = blob["extras"]
    assert ex["complete"] and ex["epoch"] == 2 and ex["genres"] == list(GENRES[:3]) and ex["genres_present"] == [0, 1, 2]
    assert blob["config"]["model"]["z_bar"] == 4 and blob["config"]["train"]["epochs"] == 2
    sampling = ex["sampling"]  # calibrated per genre on training phrases, from the trainer's grid
    assert len(sampling["spread"]) == len(sampling["threshold"]) == 3 and set(sampling["fit"]) == {"0", "1", "2"}
    assert set(sampling["spread"]) <= set(train_phrase.SPREADS) and set(sampling["threshold"]) <= set(train_phrase.THRESHOLDS)
    history = [json.loads(x) for x in open(tiny_phrase.replace(".pt", ".jsonl")).read().splitlines()]
    assert [r["epoch"] for r in history] == [0, 1]
    assert 0 <= history[1]["val"]["hit_f1"] <= 1 and np.isfinite(history[1]["loss"])
    assert set(history[1]["val"]) >= {"1", "2", "4", "8", "timing_mae_ms", "velocity_mae"}


def test_trainer_resumes_exactly(perf_data, tmp_path):
    flags = ["--data", perf_data, "--epochs", "3"] + TINY
    full, part = tmp_path / "full.pt", tmp_path / "part.pt"
    assert train_phrase.main(flags + ["--out", str(full)]) == 0
    assert train_phrase.main(flags + ["--out", str(part), "--stop-after", "2"]) == 0
    assert train_phrase.main(["--out", str(part), "--resume", "--no-progress"]) == 0
    a, b = load_checkpoint(full, "phrase"), load_checkpoint(part, "phrase")
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k


def test_trainer_refuses_data_without_performances_and_overwrites(tmp_path, perf_data, capsys):
    rng = np.random.default_rng(0)
    vel = rng.integers(0, 127, (20, 16, 9)).astype(np.uint8)
    flat = DrumDataset(vel, np.zeros(20, np.int16), np.zeros(20, np.uint8), GENRES[:1])
    flat.save(tmp_path / "flat.npz")
    assert train_phrase.main(["--data", str(tmp_path / "flat.npz"), "--out", str(tmp_path / "a.pt")] + TINY) == 2
    assert "performances" in capsys.readouterr().err
    out = tmp_path / "b.pt"
    assert train_phrase.main(["--data", perf_data, "--out", str(out), "--epochs", "1"] + TINY) == 0
    assert train_phrase.main(["--data", perf_data, "--out", str(out), "--epochs", "1"] + TINY) == 2
    assert "exists" in capsys.readouterr().err
    assert train_phrase.main(["--out", str(tmp_path / "c.pt")] + TINY) == 2


# --- the engine -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine(tiny_phrase) -> phrase_engine.PhraseModel:
    return phrase_engine.load(tiny_phrase)


@pytest.mark.parametrize("bars", [1, 2, 4, 8, 13])
def test_sample_gives_the_bars_asked_for(engine, bars):
    p = engine.sample("rock", bars, "end", seed=3)
    assert len(p) == bars and all(isinstance(x, Pattern) for x in p)
    h, v, o = engine.sample_arrays("jazz", 3, bars, "none", seed=3)
    assert h.shape == (3, bars, 16, 9) and h.dtype == bool
    assert ((v >= 0) & (v <= 1)).all() and (np.abs(o) < 0.5).all()


def test_sampling_is_seeded(engine):
    assert engine.sample("jazz", 4, seed=1) == engine.sample("jazz", 4, seed=1)
    assert engine.sample("rock", 4, temperature=0, seed=1) == engine.sample("rock", 4, temperature=0, seed=9)
    # another seed, other draws (a 2-epoch model plays few hits: compare what the heads give)
    v1 = engine.sample_arrays("rock", 4, 4, seed=1)[1]
    assert np.array_equal(v1, engine.sample_arrays("rock", 4, 4, seed=1)[1])
    assert not np.array_equal(v1, engine.sample_arrays("rock", 4, 4, seed=2)[1])


def test_bad_arguments_are_one_line_errors(engine):
    with pytest.raises(DrumfontError, match="unknown genre"):
        engine.sample("polka", 4)
    with pytest.raises(DrumfontError, match="fill must be"):
        engine.sample("rock", 4, fill="start")
    with pytest.raises(DrumfontError, match="temperature"):
        engine.sample("rock", 4, temperature=-1)
    with pytest.raises(DrumfontError, match="1-512 bars"):
        engine.sample("rock", 0)
    with pytest.raises(DrumfontError, match="1-32 bars"):
        engine.continue_(engine.sample("rock", 2), 33)
    with pytest.raises(DrumfontError, match="at least one bar"):
        engine.continue_([], 4)
    with pytest.raises(DrumfontError, match="at least 2 bars"):
        engine.regenerate_fill(engine.sample("rock", 1))


def test_fill_condition_is_passed_bar_by_bar(engine, monkeypatch):
    seen = []
    real = engine._model.generate

    def spy(z_p, genre, cond, *args, **kw):
        seen.append(cond[0, :, 16].tolist())
        return real(z_p, genre, cond, *args, **kw)

    monkeypatch.setattr(engine._model, "generate", spy)
    engine.sample("rock", 4, "end", seed=0)
    engine.sample("rock", 4, "none", seed=0)
    engine.sample("rock", 12, "end", seed=0)
    assert seen == [[0, 0, 0, 1], [0, 0, 0, 0], [0] * 8, [0, 0, 0, 1]]


def test_continue_and_regenerate_fill_keep_what_they_are_given(engine):
    played = engine.sample("latin" if "latin" in engine.genres else "rock", 3, "none", seed=4)
    new = engine.continue_(played, 5, seed=1)
    assert len(new) == 5
    assert engine.continue_(played, 5, seed=1) == new
    assert len(engine.continue_(played, 2, genre="jazz", seed=1)) == 2
    assert engine.infer_genre(played) in engine.genres
    phrase = engine.sample("rock", 4, "end", seed=6)
    again = engine.regenerate_fill(phrase, seed=7)
    assert len(again) == 4 and again[:3] == phrase[:3]


def test_continue_plays_as_loose_as_the_player(engine):
    rng = np.random.default_rng(0)
    hits = np.stack([groove(1)] * 4)[None]
    vel = np.where(hits, 90, 0).astype(np.uint8)
    tight = np.zeros(hits.shape, np.float32)
    loose = np.where(hits, rng.uniform(-0.45, 0.45, hits.shape), 0).astype(np.float32)
    spread = []
    for off in (tight, loose):
        h, _, o = engine.continue_arrays(hits, vel, off, 8, "jazz", seed=3)
        spread.append(o[h].std())
    assert spread[1] > spread[0] + 0.05


def test_calibration_is_read_and_checked(tiny_phrase, tmp_path):
    from drumfont.checkpoint import save_checkpoint

    blob = load_checkpoint(tiny_phrase, "phrase")
    m = phrase_engine.PhraseModel(blob, "x")
    np.testing.assert_allclose(m._spread[:3], np.array(blob["extras"]["sampling"]["spread"], np.float32))
    blob["extras"]["sampling"] = {"spread": [1.0, float("nan"), 1.0], "threshold": [0.0] * 3}
    save_checkpoint(tmp_path / "bad.pt", "phrase", blob["config"], blob["state_dict"], blob["extras"])
    with pytest.raises(DrumfontError, match="extras.sampling"):
        phrase_engine.load(tmp_path / "bad.pt")
    del blob["extras"]["sampling"]  # an uncalibrated run samples at the prior's own spread
    assert phrase_engine.PhraseModel(blob, "x")._spread.tolist() == [1.0] * 4


def test_song_lays_out_the_form_with_fills_before_changes_and_crashes_after(engine):
    song = engine.song("rock", "intro:4,verse:13,chorus:8,verse:13,outro:2", seed=0)
    assert [(s.name, len(s.patterns)) for s in song] == [("intro", 4), ("verse", 13), ("chorus", 8), ("verse", 13),
                                                         ("outro", 2)]
    for k, s in enumerate(song):
        assert s.fills == tuple(i == len(s.patterns) - 1 and k < len(song) - 1 for i in range(len(s.patterns)))
        assert s.crash == (k > 0)
        if k > 0:
            assert s.patterns[0].hits[0, CRASH] and s.patterns[0].velocities[0, CRASH] >= phrase_engine.CRASH_VELOCITY
    assert engine.song("rock", [("a", 4), ("b", 4)], seed=1)[1].patterns[0].hits[0, CRASH]
    # a section that returns plays its own groove again, from the same latent and seed
    assert song[1].patterns[1] == song[3].patterns[1] or song[1].patterns[0] != song[0].patterns[0]


@pytest.mark.parametrize("form, message", [("verse:x", "not a whole number"), (":4", "NAME:BARS"), ("verse:0", "1-64"),
                                           ("verse:65", "1-64"), ("", "empty"), ("a:4,,b:4", "NAME:BARS"),
                                           ("a:4:4", "NAME:BARS"), (",".join(["v:64"] * 9), "at most 512"),
                                           ("verse:-1", "not a whole number")])
def test_bad_forms_are_one_line_errors(form, message):
    with pytest.raises(DrumfontError, match=message) as exc:
        phrase_engine.parse_form(form)
    assert "\n" not in str(exc.value)


def test_parse_form_keeps_free_names():
    assert phrase_engine.parse_form(" intro : 4, big chorus:8 ,Outro 2:1") == [("intro", 4), ("big chorus", 8),
                                                                               ("Outro 2", 1)]


def test_an_unfinished_run_or_another_kind_is_refused(perf_data, tmp_path, tiny_phrase):
    part = tmp_path / "part.pt"
    assert train_phrase.main(["--data", perf_data, "--out", str(part), "--epochs", "3", "--stop-after", "1"] + TINY) == 0
    with pytest.raises(DrumfontError, match="unfinished"):
        phrase_engine.load(part)
    with pytest.raises(DrumfontError, match="expected phrase"):
        phrase_engine.load("presets/drums_vae.safetensors")


# --- the report ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_bar(perf_data, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("bar_model") / "bar.pt"
    assert train_vae.main(["--data", perf_data, "--out", str(out), "--epochs", "2", "--model-channels", "8",
                           "--model-hidden", "8", "--batch-size", "16", "--no-progress"]) == 0
    return str(out)


def test_report_measures_every_target_and_draws(perf_data, tiny_phrase, tiny_bar, tmp_path):
    from drumfont import drums
    from drumfont.drums import phrase_report, plots

    model, bar_model = phrase_engine.load(tiny_phrase), drums.load(tiny_bar)
    data = DrumDataset.load(perf_data)
    m, arrays = phrase_report.compute_metrics(model, bar_model, data, None, samples=6, seed=0)
    assert set(m["summary"]) == set(phrase_report.TARGETS)
    rock = m["per_genre"]["rock"]
    assert rock["4"]["shape"]["repeat"] == [0, 0, 0, 0]
    assert rock["4"]["n_real"] == 6 and len(rock["4"]["shape"]["real"]) == 4
    # the fixture's drummer fills every 4th bar: the real last bar departs, a loop never does
    assert rock["4"]["fill_lift"]["real"] > 0.2 and rock["4"]["departures_on_last_bar"]["real"] == 1.0
    assert m["crash_after_fill_real"] == 1.0 and m["song_crash_after_fill"] == 1.0
    assert m["reconstruction"]["4"]["repeat"]["hit_f1"] < 1
    assert m["continue"]["n_windows"] == 6
    assert "real_beat_bars" in rock["few_hits"]
    figures = plots.draw_phrases(m, arrays, tmp_path / "rep")
    assert {p.name for p in figures} >= {"shape_4.png", "shape_8.png", "examples.png", "continue.png", "features.png"}
    assert all(p.stat().st_size > 1000 for p in figures)
    table = phrase_report.summary_table(m)
    assert "hit_f1" in table and ("hit" in table or "MISSED" in table)


def test_report_and_train_commands(perf_data, tiny_phrase, tiny_bar, tmp_path, capsys):
    from drumfont.cli import main

    out = tmp_path / "rep"
    rc = main(["report", "phrases", "--preset", tiny_phrase, "--bar-preset", tiny_bar, "--data", perf_data,
               "--out", str(out), "--samples", "4", "--json"])
    cap = capsys.readouterr()
    assert rc == 0
    printed = json.loads(cap.out)
    assert printed["summary"] == json.loads((out / "metrics.json").read_text())["summary"]
    assert "hit_f1" in cap.err  # the table goes to stderr beside --json
    # a second run does not overwrite without --force; bad inputs are one line and exit 2
    for argv, message in ((["--out", str(out)], "exists"),
                          (["--out", str(tmp_path / "r2"), "--preset", str(tmp_path / "none.pt")], "no such"),
                          (["--out", str(tmp_path / "r3"), "--samples", "0"], "samples")):
        base = ["report", "phrases", "--preset", tiny_phrase, "--bar-preset", tiny_bar, "--data", perf_data]
        rc = main(base + argv)
        err = capsys.readouterr().err
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert main(["report", "phrases", "--out", str(out)]) == 2  # --data is required
    assert "required: --data" in capsys.readouterr().err
    assert main(["train", "phrase", "--out", str(tmp_path / "p.pt"), "--no-progress"]) == 2
    assert "--data is required" in capsys.readouterr().err
    assert main(["train", "phrase", "--data", perf_data, "--out", str(tmp_path / "p.pt"), "--epochs", "1"] + TINY) == 0
    assert phrase_engine.load(tmp_path / "p.pt").sample("rock", 2, seed=0)


# --- the shipped preset --------------------------------------------------------------------------------

def test_the_shipped_phrase_preset_loads_and_plays():
    assert phrase_engine.preset_available()
    model = phrase_engine.load()
    assert set(model.genres) == {"rock", "jazz", "hiphop", "electronic", "latin", "funk", "afrobeat"}
    blob = presets.load(model.source, "phrase")  # no pickle, as every preset
    assert blob["extras"]["complete"] and len(blob["extras"]["sampling"]["spread"]) == 7
    for genre in model.genres:
        h, v, o = model.sample_arrays(genre, 8, 4, "end", seed=0)
        assert h.shape == (8, 4, 16, 9) and ((v >= 0) & (v <= 1)).all() and (np.abs(o) < 0.5).all()
        assert 4 <= h.sum((2, 3)).mean() <= 40  # grooves, not empty or saturated bars
    # bars of a sampled phrase belong together: far nearer bar 1 than independent bars are
    h, _, _ = model.sample_arrays("rock", 64, 4, "none", seed=1)
    assert pdm.jaccard_distance(h[:, :1], h[:, 1:3]).mean() < 0.65
    song = model.song("funk", "intro:4,verse:8,chorus:8,outro:4", seed=2)
    assert [len(s.patterns) for s in song] == [4, 8, 8, 4]
    assert all(s.patterns[0].hits[0, CRASH] for s in song[1:])


def test_the_shipped_model_names_the_genre_of_its_own_phrases():
    model = phrase_engine.load()
    named = [model.infer_genre(model.sample(g, 4, "none", 0.5, seed=s)) == g for g in model.genres for s in (1, 2)]
    assert sum(named) >= 12  # of 14 (measured: 14; 20 of 21 over seeds 0-2)
