"""Humanize and drumify: the models' contracts, the API calls, the trainer, the MIDI rewrite
that keeps everything but the drums, tap reading, and the two commands with their errors."""

from __future__ import annotations

import io

import mido
import numpy as np
import pytest
import torch

from drumfont.checkpoint import load_checkpoint
from drumfont.cli import main
from drumfont.drums import groove
from drumfont.drums.dataset import DrumDataset
from drumfont.drums.groove_model import GrooveConfig, GrooveModel, bar_channels, losses, taps_of
from drumfont.errors import DrumfontError, MidiFileError
from drumfont.score.midifile import import_bytes, read_patterns
from drumfont.score.pattern import CLOSED_HAT, KICK, SNARE, Pattern, from_text
from drumfont.score.retime import read_taps, retime_drums
from drumfont.trainers.train_groove import main as train_main

BEAT = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread (and do not fight a loaded machine for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_dataset(path, n=96, seed=0):
    """Played-looking bars of two genres, with timing; the last 8 are 'rules:' straight bars."""
    rng = np.random.default_rng(seed)
    hits = rng.random((n, 16, 9)) < 0.15
    hits[:, ::4, KICK] = True
    vel = np.where(hits, rng.integers(40, 127, hits.shape), 0).astype(np.uint8)
    off = np.where(hits, rng.uniform(-0.3, 0.3, hits.shape), 0).astype(np.float16)
    off[-8:] = 0
    split = np.where(np.arange(n) % 6 == 0, 1, 0).astype(np.uint8)
    sources = [(f"d/f{i // 4}.mid", i % 4) for i in range(n - 8)] + [("rules:rock", i) for i in range(8)]
    ds = DrumDataset(vel, (np.arange(n) % 2).astype(np.int16), split, ("rock", "funk"), sources, off)
    ds.save(path)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A humanize and a drumify checkpoint, each trained for two epochs on a tiny set."""
    d = tmp_path_factory.mktemp("groove")
    data = tiny_dataset(d / "tiny.npz")
    paths = {}
    for task in ("humanize", "drumify"):
        paths[task] = d / f"{task}.pt"
        rc = main(["train", task, "--data", str(data), "--out", str(paths[task]), "--epochs", "2",
                   "--model-channels", "8", "--model-z", "2", "--no-progress"])
        assert rc == 0
    return paths


# --- model --------------------------------------------------------------------------------------

def batch(b=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    hits = (torch.rand((b, 16, 9), generator=g) < 0.2).float()
    vel = torch.rand((b, 16, 9), generator=g) * hits
    off = (torch.rand((b, 16, 9), generator=g) - 0.5) * 0.6 * hits
    return hits, vel, off, torch.tensor([0, 1, -1, 2] * (b // 4))


@pytest.mark.parametrize("task", ["humanize", "drumify"])
def test_model_shapes_ranges_and_learning(task):
    torch.manual_seed(0)
    cfg = GrooveConfig(task=task, n_genres=3, channels=16, z=4)
    model = GrooveModel(cfg)
    hits, vel, off, g = batch()
    cond = hits if task == "humanize" else taps_of(hits, vel, off)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(30):
        out = model(bar_channels(hits, vel, off), cond, g, torch.Generator().manual_seed(0))
        loss = sum(losses(out, hits, vel, off, task).values()) + out["kl"].sum(1).mean() * 0.01
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first
    logits, v, o = model.generate(cond, g, 1.0, torch.Generator().manual_seed(3))
    assert logits.shape == v.shape == o.shape == (8, 16, 9)
    assert 0 <= v.min() and v.max() <= 1 and -0.5 <= o.min() and o.max() < 0.5
    again = model.generate(cond, g, 1.0, torch.Generator().manual_seed(3))[2]
    assert torch.equal(o, again)
    assert not torch.equal(o, model.generate(cond, g, 1.0, torch.Generator().manual_seed(4))[2])


def test_l1_loss_is_the_absolute_error_on_hit_cells_only():
    hits, vel, off, _ = batch()
    out = {"vel": torch.full_like(vel, 0.5), "off": torch.full_like(off, 0.1)}
    l1 = losses(out, hits, vel, off, "humanize", "l1")
    assert l1["off"].item() == pytest.approx(float(((0.1 - off).abs() * hits).sum() / 8), rel=1e-5)
    mse = losses(out, hits, vel, off, "humanize")
    assert mse["vel"].item() == pytest.approx(float(((0.5 - vel).pow(2) * hits).sum() / 8), rel=1e-5)
    rests_moved = {k: v + 0.3 * (1 - hits) for k, v in out.items()}
    assert losses(rests_moved, hits, vel, off, "humanize", "l1")["off"].item() == pytest.approx(l1["off"].item())
    with pytest.raises(ValueError, match="loss"):
        losses(out, hits, vel, off, "humanize", "huber")


def test_l1_loss_fits_the_median_where_mse_fits_the_mean():
    off = torch.tensor([0.0, 0.0, 0.0, 0.4]).view(4, 1, 1).expand(4, 16, 9).contiguous()
    hits, vel = torch.ones_like(off), torch.zeros_like(off)
    fitted = {}
    for kind in ("mse", "l1"):
        p = torch.zeros((), requires_grad=True)
        opt = torch.optim.SGD([p], lr=1e-4)
        for _ in range(300):
            out = {"vel": vel, "off": p.expand_as(off)}
            opt.zero_grad()
            losses(out, hits, vel, off, "humanize", kind)["off"].backward()
            opt.step()
        fitted[kind] = p.item()
    assert fitted["mse"] == pytest.approx(0.1, abs=0.01) and abs(fitted["l1"]) < 0.03


def test_drumify_at_temperature_0_plays_the_marginal_less_the_thresholds():
    torch.manual_seed(0)
    hits, vel, off, g = batch()
    cond = taps_of(hits, vel, off)
    plain = GrooveModel(GrooveConfig(task="drumify", n_genres=3, channels=16, z=4, hit_samples=0))
    marg = GrooveModel(GrooveConfig(task="drumify", n_genres=3, channels=16, z=4, hit_samples=16))
    marg.load_state_dict(plain.state_dict())
    z0 = plain.decode(cond, g, torch.zeros(8, 4))[0]
    assert torch.allclose(plain.generate(cond, g, 0.0)[0], z0)
    a = marg.generate(cond, g, 0.0, torch.Generator().manual_seed(1))[0]
    assert torch.equal(a, marg.generate(cond, g, 0.0, torch.Generator().manual_seed(2))[0])
    assert not torch.allclose(a, z0)
    mean_p = torch.stack([torch.sigmoid(marg.decode(cond, g, z.expand(8, 4))[0])
                          for z in torch.randn((16, 4), generator=torch.Generator().manual_seed(0))]).mean(0)
    assert torch.allclose(torch.sigmoid(a), mean_p, atol=1e-5)
    th = tuple(float(k) / 4 for k in range(9))
    marg.cfg.hit_thresholds = th
    assert torch.allclose(marg.generate(cond, g, 0.0)[0], a - torch.tensor(th), atol=1e-6)


class _FixedLogits:
    """A stand-in model whose temperature-0 logits are given."""

    def __init__(self, logits):
        self.logits = logits
        self.cfg = GrooveConfig(task="drumify")

    def generate(self, cond, genre, temperature):
        return self.logits, None, None

    def eval(self):
        pass

    def train(self):
        pass


class _FixedDecoder:
    """A stand-in model whose decoder gives fixed velocities and offsets whatever z is."""

    def __init__(self, vel, off):
        self.vel, self.off = vel, off
        self.cfg = GrooveConfig(task="humanize", z=2)

    def decode(self, cond, genre, z):
        return None, self.vel, self.off

    def eval(self):
        pass

    def train(self):
        pass


def test_residuals_make_up_the_spread_the_decoder_lacks_per_voice():
    from drumfont.trainers.train_groove import fit_residuals

    hits, vel, off, g = batch(16)
    data = (hits, vel, off, g, torch.zeros(16))
    flat = fit_residuals(_FixedDecoder(torch.full_like(vel, 0.5), torch.zeros_like(off)), data, "humanize")
    for k in range(9):
        m = hits[..., k] > 0
        assert flat.residual_off[k] == pytest.approx(float(off[..., k][m].var()) ** 0.5, rel=1e-4)
        assert flat.residual_vel[k] == pytest.approx(float(vel[..., k][m].var()) ** 0.5, rel=1e-4)
    exact = fit_residuals(_FixedDecoder(vel, off), data, "humanize")
    assert max(exact.residual_off) == pytest.approx(0.0, abs=1e-6)
    wider = fit_residuals(_FixedDecoder(vel, 2 * off), data, "humanize")
    assert wider.residual_off == (0.0,) * 9


def test_fit_thresholds_finds_each_voices_cut_for_hit_f1():
    from drumfont.trainers.train_groove import fit_thresholds

    hits = torch.zeros((4, 16, 9))
    hits[:, ::4, KICK] = 1
    hits[:, 2::4, SNARE] = 1
    hits[:, ::2, CLOSED_HAT] = 1
    logits = torch.full((4, 16, 9), -5.0)
    logits[..., KICK] = torch.where(hits[..., KICK] > 0, -1.2, -2.0)      # real kicks: -1.2, others -2
    logits[..., SNARE] = torch.where(hits[..., SNARE] > 0, 0.5, 0.2)      # real snares: 0.5, others 0.2
    logits[..., CLOSED_HAT] = torch.where(hits[..., CLOSED_HAT] > 0, 2.0, -3.0)
    th, f1 = fit_thresholds(_FixedLogits(logits), (hits, hits, hits * 0, torch.zeros(4), torch.zeros(4)),
                            "drumify")
    assert -2.0 <= th[KICK] < -1.2 and 0.2 <= th[SNARE] < 0.5 and f1 == 1.0


def test_tempo_comes_from_groove_midi_file_names_and_feeds_one_channel():
    from drumfont.trainers.train_groove import condition, file_tempo

    assert file_tempo("drummer1/session1/1_funk_80_beat_4-4.mid") == 80.0
    assert file_tempo("drummer7/eval_session/10_soul-groove10_102_beat_4-4.mid") == 102.0
    assert file_tempo("rules:rock") == 120.0
    hits, vel, off, _ = batch()
    c = condition("humanize", hits, vel, off, torch.full((8,), 0.5))
    assert c.shape == (8, 16, 10) and torch.equal(c[..., :9], hits) and (c[..., 9] == 0.5).all()
    model = GrooveModel(GrooveConfig(task="humanize", n_genres=3, channels=8, z=2, tempo=True))
    assert model.generate(c, torch.zeros(8, dtype=torch.long), 0.0)[2].shape == (8, 16, 9)


def test_holdout_keeps_whole_played_files_apart(tmp_path):
    from drumfont.trainers.train_groove import holdout_rows, split_rows

    ds = DrumDataset.load(tiny_dataset(tmp_path / "t.npz"))
    rows = split_rows(ds, 0, "drumify")
    kept, held = holdout_rows(ds, rows, 0.25, 0)
    files = lambda rs: {ds.sources[r][0] for r in rs}  # noqa: E731
    assert len(held) and not files(kept) & files(held) and sorted([*kept, *held]) == sorted(rows)
    assert not any(f.startswith("rules:") for f in files(held))
    assert holdout_rows(ds, rows, 0.0, 0)[0].tolist() == rows.tolist()


def test_taps_merge_voices_and_keep_the_loudest_hits_timing():
    p = Pattern.from_hits(BEAT.hits, np.where(BEAT.hits, 60, 0), offsets=np.full((16, 9), 0.1))
    v = p.velocities.copy()
    v[0, KICK] = 120
    p = Pattern(v, np.where(p.hits, 0.1, 0).astype(np.float32))
    t = groove.taps_of(p)
    assert t.shape == (16, 3)
    assert list(np.flatnonzero(t[:, 0])) == list(np.flatnonzero(p.hits.any(1)))
    assert t[0, 1] == 120 and t[1, 1] == 0
    torch_taps = taps_of(torch.tensor(p.hits[None], dtype=torch.float32),
                         torch.tensor(p.velocities[None] / 127.0, dtype=torch.float32),
                         torch.tensor(p.offsets[None]))[0].numpy()
    np.testing.assert_allclose(torch_taps[:, 2], 2 * t[:, 2], atol=1e-6)


# --- API ------------------------------------------------------------------------------------------

def test_humanize_keeps_hits_and_amount_scales(models):
    tool = groove.load("humanize", models["humanize"])
    bars = [BEAT, BEAT.with_velocity(3, SNARE, 100)]
    out = groove.humanize(bars, "funk", 1.0, 1.0, 5, tool)
    assert [o.hits.tolist() for o in out] == [b.hits.tolist() for b in bars]
    assert any(o.timed for o in out) and any((o.velocities != b.velocities).any() for o, b in zip(out, bars))
    assert groove.humanize(bars, "funk", 0.0, 1.0, 5, tool) == bars
    half = groove.humanize(bars, "funk", 0.5, 1.0, 5, tool)[0]
    np.testing.assert_allclose(half.offsets, out[0].offsets / 2, atol=1e-6)
    assert groove.humanize(bars, None, 1.0, 1.0, 5, tool) == groove.humanize(bars, None, 1.0, 1.0, 5, tool)
    assert groove.humanize(bars, None, 1.0, 1.0, 5, tool) != groove.humanize(bars, None, 1.0, 1.0, 6, tool)
    with pytest.raises(DrumfontError, match="unknown genre"):
        groove.humanize(bars, "polka", model=tool)
    with pytest.raises(DrumfontError, match="amount"):
        groove.humanize(bars, amount=1.5, model=tool)


def test_drumify_holds_a_hit_on_every_tap_and_varies(models):
    tool = groove.load("drumify", models["drumify"])
    taps = np.stack([groove.taps_of(BEAT)] * 2)
    out = groove.drumify(taps, "rock", n=3, temperature=1.0, seed=1, model=tool)
    assert len(out) == 3 and all(len(v) == 2 for v in out)
    on = taps[0, :, 0] > 0
    for v in out:
        for bar in v:
            assert bar.hits[on].any(1).all()
    assert out[0][0] != out[1][0] or out[0][0] != out[2][0]
    with pytest.raises(DrumfontError, match="taps"):
        groove.drumify(np.zeros((16, 2)), model=tool)
    with pytest.raises(DrumfontError, match="at least 1"):
        groove.drumify(taps, n=0, model=tool)


def test_rules_baseline_puts_snares_on_backbeats():
    taps = groove.taps_of(BEAT)
    bar = groove.rules_drumify(taps)[0]
    assert bar.hits[[4, 12], SNARE].all() and not bar.hits[[4, 12], KICK].any()
    assert bar.hits[0, KICK] and bar.hits.sum() == taps[:, 0].sum()
    assert groove.rules_drumify(taps, hats=True)[0].hits[:, CLOSED_HAT].sum() == taps[:, 0].sum()


def test_checkpoints_carry_their_config_and_genres(models):
    blob = load_checkpoint(models["drumify"], "drumify")
    assert blob["config"]["model"]["task"] == "drumify" and blob["extras"]["genres"] == ["rock", "funk"]
    assert len(blob["config"]["model"]["hit_thresholds"]) == 9
    assert load_checkpoint(models["humanize"], "humanize")["config"]["model"]["hit_thresholds"] == []
    with pytest.raises(DrumfontError, match="expected humanize"):
        groove.load("humanize", models["drumify"])


def test_humanize_trains_only_on_bars_with_real_timing(tmp_path):
    from drumfont.trainers.train_groove import split_rows

    ds = DrumDataset.load(tiny_dataset(tmp_path / "t.npz"))
    rows = split_rows(ds, 0, "humanize")
    assert not any(ds.sources[r][0].startswith("rules:") for r in rows)
    assert any(ds.sources[r][0].startswith("rules:") for r in split_rows(ds, 0, "drumify"))


def test_trainer_refuses_to_overwrite(models, capsys):
    rc = train_main(["--task", "humanize", "--data", "x.npz", "--out", str(models["humanize"])])
    assert rc == 2 and "exists" in capsys.readouterr().err
    rc = train_main(["--task", "drumify", "--data", "x.npz", "--out", "x.pt", "--threshold-holdout", "1"])
    assert rc == 2 and "threshold-holdout" in capsys.readouterr().err


# --- MIDI: rewrite the drums, keep the rest ---------------------------------------------------

def song(bars=4, drum_velocity=100, bpm=96) -> bytes:
    """A type-1 file: a conductor, a bass line on channel 1, flat drums on channel 10 (with an
    unknown percussion note), and a lyric event."""
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    cond = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    bass = mido.MidiTrack()
    for i in range(bars * 4):
        bass.append(mido.Message("note_on", channel=0, note=40 + i % 5, velocity=70, time=0 if i == 0 else 24))
        bass.append(mido.Message("note_off", channel=0, note=40 + i % 5, velocity=0, time=72))
    drums = mido.MidiTrack([mido.MetaMessage("lyrics", text="go", time=0)])
    events = []
    for b in range(bars):
        for s in range(16):
            t = (b * 16 + s) * 24
            for v in np.flatnonzero(BEAT.hits[s]):
                note = {KICK: 36, SNARE: 38, CLOSED_HAT: 42}[v]
                events += [(t, 1, note, drum_velocity), (t + 12, 0, note, 0)]
            if s == 6:
                events += [(t, 1, 81, 90), (t + 12, 0, 81, 0)]  # triangle: not one of the 9 voices
    now = 0
    for t, on, note, vel in sorted(events):
        drums.append(mido.Message("note_on" if on else "note_off", channel=9, note=note, velocity=vel,
                                  time=t - now))
        now = t
    mid.tracks += [cond, bass, drums]
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def test_retime_drums_changes_only_drum_velocity_and_timing():
    data = song()

    def push(patterns):
        return [Pattern(np.where(p.hits, 77, 0).astype(np.uint8), np.where(p.hits, -0.45, 0).astype(np.float32))
                for p in patterns]
    out, n = retime_drums(data, push)
    assert n == 4
    a, b = mido.MidiFile(file=io.BytesIO(data)), mido.MidiFile(file=io.BytesIO(out))
    assert list(a.tracks[0]) == list(b.tracks[0]) and list(a.tracks[1]) == list(b.tracks[1])
    before, after = import_bytes(data).patterns, import_bytes(out).patterns
    assert [p.hits.tolist() for p in before] == [p.hits.tolist() for p in after]
    assert all((p.velocities[p.hits] == 77).all() for p in after)
    assert all(p.offsets[p.hits].max() < -0.3 for p in after[1:])  # bar 1's downbeat cannot move before 0
    notes = [m for m in b.tracks[2] if m.type in ("note_on", "note_off")]
    assert sum(m.note == 81 for m in notes) == 8 and any(m.type == "lyrics" for m in b.tracks[2])
    # every note-on comes before its own note-off
    open_: dict[int, int] = {}
    for m in notes:
        if m.type == "note_on" and m.velocity:
            assert m.note not in open_
            open_[m.note] = 1
        else:
            open_.pop(m.note)


def test_a_type_0_file_with_several_tracks_comes_back_as_type_1(models, tmp_path, capsys):
    """Issue 21.16: a malformed type-0 file holding several tracks was read (as parallel tracks),
    then mido refused to write it: ValueError "type 0 file must have exactly 1 track"."""
    data = bytearray(song())
    data[8:10] = b"\x00\x00"  # the header's format field: type 0, three tracks
    out, n = retime_drums(bytes(data), lambda bars: bars)
    written = mido.MidiFile(file=io.BytesIO(out))
    assert n == 4 and written.type == 1 and len(written.tracks) == 3
    assert [p.hits.tolist() for p in import_bytes(out).patterns] == [p.hits.tolist() for p in import_bytes(bytes(data)).patterns]
    src = tmp_path / "type0.mid"
    src.write_bytes(bytes(data))
    rc, _, err = run(capsys, "humanize", src, "-o", tmp_path / "h.mid", "--preset", models["humanize"])
    assert rc == 0 and "4 bar" in err, err
    assert mido.MidiFile(tmp_path / "h.mid").type == 1


def test_read_taps_any_channel_or_filtered(tmp_path):
    path = tmp_path / "song.mid"
    path.write_bytes(song(2))
    bass = read_taps(path, channel=0)
    assert len(bass) == 2 and bass[0].hits[:, 0].sum() == 4 and bass[0].hits[:, 1:].sum() == 0
    every = read_taps(path)
    assert every[0].hits[:, 0].sum() == len(np.flatnonzero(BEAT.hits.any(1)) )
    only_kick = read_taps(path, note=36)
    assert only_kick[0].hits[:, 0].sum() == BEAT.hits[:, KICK].sum()
    with pytest.raises(MidiFileError, match="no notes on channel 6; the file has notes on channels 1, 10"):
        read_taps(path, channel=5)


def test_a_tap_filter_that_finds_nothing_is_named(models, tmp_path, capsys):
    """Issue 21.9: `drumify --note 61` on a file of note 60 said "no notes to read on any channel"."""
    path = tmp_path / "taps60.mid"
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=24 * i and 24)
                                      for i in range(8)]))
    mid.save(path)
    with pytest.raises(MidiFileError, match="no note 61 on any channel; the notes there are 60"):
        read_taps(path, note=61)
    rc, _, err = run(capsys, "drumify", path, "--note", "61", "-o", tmp_path / "k.mid", "--preset", models["drumify"])
    assert rc == 2 and len(err.splitlines()) == 1 and "no note 61" in err, err


# --- commands -------------------------------------------------------------------------------------

def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_humanize_command(models, tmp_path, capsys):
    src = tmp_path / "song.mid"
    src.write_bytes(song())
    out = tmp_path / "out.mid"
    rc, _, err = run(capsys, "humanize", src, "-o", out, "--style", "funk", "--seed", "2",
                     "--preset", models["humanize"])
    assert rc == 0 and "4 bar" in err
    assert [p.hits.tolist() for p in read_patterns(out)] == [p.hits.tolist() for p in read_patterns(src)]
    assert any(p.timed for p in read_patterns(out))
    rc, _, err = run(capsys, "humanize", src, "-o", out, "--preset", models["humanize"])
    assert rc == 2 and "exists" in err


def test_a_tempo_of_zero_is_one_line(models, tmp_path, capsys):
    """Issue 21.12: a set_tempo of 0 µs per beat was a ZeroDivisionError in mido.tempo2bpm."""
    mid = mido.MidiFile(file=io.BytesIO(song(2)))
    mid.tracks[0][0] = mido.MetaMessage("set_tempo", tempo=0, time=0)
    src = tmp_path / "tempo0.mid"
    mid.save(src)
    for argv, says in ((["humanize", src, "-o", tmp_path / "h.mid", "--preset", models["humanize"]],
                        "tempo0.mid: its tempo at tick 0 is 0 µs per beat, which is no tempo"),
                       (["drumify", src, "-o", tmp_path / "d.mid", "--preset", models["drumify"]],
                        "tempo0.mid sets a tempo of 0 µs per beat, which is no tempo; pass --bpm")):
        rc, _, err = run(capsys, *argv)
        assert rc == 2 and len(err.splitlines()) == 1 and says in err, err
    rc, _, err = run(capsys, "drumify", src, "-o", tmp_path / "d.mid", "--bpm", "90", "--preset", models["drumify"])
    assert rc == 0, err  # a tempo given on the command line needs none from the file


@pytest.fixture(scope="module")
def tempo_model(tmp_path_factory):
    """An untrained humanize checkpoint that reads the tempo (its offsets depend on it)."""
    from drumfont.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = GrooveModel(GrooveConfig(task="humanize", n_genres=2, channels=8, z=2, tempo=True))
    path = tmp_path_factory.mktemp("tempo") / "humanize_tempo.pt"
    save_checkpoint(path, "humanize", {"model": model.cfg.to_dict()}, model.state_dict(),
                    extras={"genres": ["rock", "funk"]})
    return path


def test_humanize_plays_at_the_tempo_it_is_given(models, tempo_model):
    tool, plain = groove.load("humanize", tempo_model), groove.load("humanize", models["humanize"])
    at = lambda t, bpm: groove.humanize([BEAT], None, 1.0, t, 1, tool, bpm)[0].offsets  # noqa: E731
    assert not np.allclose(at(0.0, 60), at(0.0, 180))
    np.testing.assert_array_equal(at(0.0, None), at(0.0, 120))
    assert groove.humanize([BEAT], None, 1.0, 1.0, 1, plain, 60) == groove.humanize([BEAT], None, 1.0, 1.0, 1, plain)
    with pytest.raises(DrumfontError, match="tempo"):
        at(0.0, 0)


def test_humanize_command_reads_the_files_tempo(models, tempo_model, tmp_path, capsys):
    offsets = {}
    for preset in (tempo_model, models["humanize"]):
        for bpm in (80, 160):
            src, out = tmp_path / f"in{bpm}.mid", tmp_path / f"out{bpm}.mid"
            src.write_bytes(song(bpm=bpm))
            rc, _, _ = run(capsys, "humanize", src, "-o", out, "--temperature", "0", "--seed", "1",
                           "--preset", preset, "--force")
            assert rc == 0
            offsets[preset, bpm] = np.stack([p.offsets for p in read_patterns(out)])
    assert not np.allclose(offsets[tempo_model, 80], offsets[tempo_model, 160])
    np.testing.assert_allclose(offsets[models["humanize"], 80], offsets[models["humanize"], 160], atol=0.05)


def test_drumify_command_writes_variations(models, tmp_path, capsys):
    src = tmp_path / "taps.mid"
    src.write_bytes(song(2))
    rc, stdout, err = run(capsys, "drumify", src, "-o", tmp_path / "kit.mid", "--style", "rock", "-n", "2",
                          "--channel", "1", "--seed", "0", "--preset", models["drumify"])
    assert rc == 0 and len(stdout.split()) == 2 and "2 bar" in err
    bars = read_patterns(tmp_path / "kit-1.mid")
    assert len(bars) == 2 and bars[0].hits[::4].any(1).all()  # the bass line's quarter notes


@pytest.mark.parametrize("argv, message", [
    (["humanize", "{t}/none.mid", "-o", "{t}/x.mid"], "cannot read"),
    (["humanize", "{t}/junk.mid", "-o", "{t}/x.mid"], "not a MIDI file"),
    (["humanize", "{t}/bass.mid", "-o", "{t}/x.mid"], "no drum notes"),
    (["humanize", "{t}/song.mid", "-o", "{t}/x.mid", "--style", "polka"], "unknown genre"),
    (["humanize", "{t}/song.mid", "-o", "{t}/x.mid", "--amount", "2"], "amount"),
    (["humanize", "{t}/song.mid", "-o", "{t}/x.mid", "--temperature", "-1"], "temperature"),
    (["drumify", "{t}/junk.mid", "-o", "{t}/x.mid"], "not a MIDI file"),
    (["drumify", "{t}/song.mid", "-o", "{t}/x.mid", "--channel", "7"], "no notes"),
    (["drumify", "{t}/song.mid", "-o", "{t}/x.mid", "--channel", "17"], "1..16"),
    (["drumify", "{t}/song.mid", "-o", "{t}/x.mid", "-n", "0"], "at least 1"),
])
def test_bad_input_is_one_line_and_writes_nothing(models, tmp_path, capsys, argv, message):
    (tmp_path / "song.mid").write_bytes(song(1))
    (tmp_path / "junk.mid").write_bytes(b"not midi at all")
    bass = mido.MidiFile(type=0)
    bass.tracks.append(mido.MidiTrack([mido.Message("note_on", channel=0, note=40, velocity=9, time=0)]))
    bass.save(tmp_path / "bass.mid")
    task = argv[0]
    argv = [a.format(t=tmp_path) for a in argv] + ["--preset", str(models[task])]
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.mid").exists()


@pytest.mark.parametrize("argv", [
    ["humanize", "x.mid", "-o", "y.mid", "--seed", str(2 ** 70)],
    ["humanize", "x.mid", "-o", "y.mid", "--amount", "nan"],
    ["humanize", "x.mid", "-o", "y.mid", "--temperature", "inf"],
    ["drumify", "x.mid", "-o", "y.mid", "-n", "100000000"],
    ["drumify", "x.mid", "-o", "y.mid", "--bpm", "0"],
])
def test_groove_commands_refuse_out_of_range_values_up_front(argv, capsys):
    from drumfont.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and ("outside" in err or "finite" in err)


# --- sizes (issue 21.15) --------------------------------------------------------------------------

def smf(events: bytes) -> bytes:
    """A type-0 file at 480 ticks per beat holding one track of raw events."""
    import struct

    events += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + events


def kick_bars(bars: int) -> bytes:
    """A kick on every beat of `bars` bars (written as bytes: 10,001 bars in a few ms)."""
    beat = b"\x00\x99\x24\x64" + b"\x83\x60\x89\x24\x00"  # on, then off a beat (480 ticks) later
    return smf(beat * (4 * bars))


@pytest.mark.parametrize("command", ["humanize", "drumify"])
def test_a_model_reads_at_most_10000_bars_of_one_file(models, tmp_path, capsys, command):
    """A 100,000-bar file grew humanize and drumify past 4 GB (the model and mido hold every bar):
    10,000 bars (5.5 hours at 120 BPM) are taken, one more is refused in one line before any model runs."""
    big = tmp_path / "long.mid"
    big.write_bytes(kick_bars(10_001))
    rc, _, err = run(capsys, command, big, "-o", tmp_path / "o.mid", "--preset", models[command])
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "long.mid: 10,001 bars; a model reads at most 10,000 bars of one file" in err
    assert not (tmp_path / "o.mid").exists()
    if command == "drumify":  # 10,000 bars of drumify take 15 s; the boundary is the same door's
        return
    ok = tmp_path / "ok.mid"
    ok.write_bytes(kick_bars(10_000))
    rc, _, err = run(capsys, command, ok, "-o", tmp_path / "o.mid", "--preset", models[command])
    assert rc == 0 and "10000 bar(s)" in err, err


def test_humanize_rewrites_at_most_500000_events(models, tmp_path, capsys):
    """1,000,000 notes on one tick: every event goes through mido (0.75 KB each), past 4 GB."""
    crowd = tmp_path / "crowd.mid"
    crowd.write_bytes(smf(b"\x00\x99\x24\x64" * 500_001))
    rc, _, err = run(capsys, "humanize", crowd, "-o", tmp_path / "o.mid", "--preset", models["humanize"])
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "crowd.mid: 500,002 MIDI events; humanize rewrites files of at most 500,000 events" in err
