"""The built-in genre corpus: validity, uniqueness, idioms, determinism, distinct genres."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.drums import rules as grooves
from drumfont.drums.dataset import TRAIN, VAL, DrumDataset
from drumfont.errors import DrumfontError
from drumfont.score.genres import RULE_GENRES as GENRES
from drumfont.score.pattern import CLAP, CLOSED_HAT, KICK, OPEN_HAT, RIDE, SNARE, TOM_HIGH, TOM_LOW, batch_validity


@pytest.fixture(scope="module")
def corpus() -> DrumDataset:
    return grooves.build_corpus(seed=0)


def _genre_hits(data: DrumDataset, name: str) -> np.ndarray:
    return data.velocities[data.genre == GENRES.index(name)] > 0  # (200, 16, 9)


def test_shape_labels_and_sources(corpus):
    assert corpus.velocities.shape == (1000, 16, 9)
    assert corpus.genres == GENRES
    assert np.bincount(corpus.genre).tolist() == [200] * 5
    assert len(corpus.sources) == 1000
    assert corpus.sources[0] == ("builtin:rock.mid", 1)
    assert corpus.sources[-1] == ("builtin:latin.mid", 200)


def test_every_bar_valid_and_unique(corpus):
    assert batch_validity(corpus.hits).min() == 1.0
    keys = {h.tobytes() for h in corpus.hits.astype(np.uint8)}
    assert len(keys) == len(corpus)  # unique as hit grids, so across genres too


def test_stratified_split(corpus):
    for g in range(5):
        m = corpus.genre == g
        assert (corpus.split[m] == VAL).sum() == 40
        assert (corpus.split[m] == TRAIN).sum() == 160


def test_split_is_grouped_by_pattern(corpus):
    # The rules draw each bar on its own; the group that must not straddle the split is the
    # pattern: no hit grid (and so no velocity grid) is on both sides.
    grids = corpus.hits.astype(np.uint8).reshape(len(corpus), -1)
    train = {g.tobytes() for g in grids[corpus.split == TRAIN]}
    assert not any(g.tobytes() in train for g in grids[corpus.split == VAL])


def test_same_seed_same_bytes_other_seed_other_bars():
    a = grooves.build_corpus(seed=3, per_genre=20).to_bytes()
    assert a == grooves.build_corpus(seed=3, per_genre=20).to_bytes()
    assert a != grooves.build_corpus(seed=4, per_genre=20).to_bytes()


def test_velocities_have_accents_and_ghosts(corpus):
    v = corpus.velocities[corpus.velocities > 0]
    assert v.min() >= 1 and v.max() <= 127
    assert (v < 46).mean() > 0.05 and (v > 105).mean() > 0.05
    # Rock: the backbeat is accented (beat 2; fills may take over beat 4), over softer hats.
    rock = corpus.velocities[corpus.genre == 0]
    assert (rock[:, 4, SNARE] >= 106).all()
    hats = rock[:, :, CLOSED_HAT]
    assert hats[hats > 0].mean() < rock[:, 4, SNARE].mean() - 20


def test_rock_idioms(corpus):
    h = _genre_hits(corpus, "rock")
    assert h[:, [4, 12], SNARE].all(axis=1).mean() > 0.6  # backbeat (fills may take beat 4)
    assert h[:, 0, KICK].all()
    eighths = h[:, 0::2, CLOSED_HAT].sum(axis=1) + h[:, 0::2, RIDE].sum(axis=1)
    assert np.median(eighths) >= 6
    assert (h[:, :, [TOM_HIGH, TOM_LOW]].any(axis=(1, 2))).mean() > 0.15  # fills


def test_jazz_idioms(corpus):
    h = _genre_hits(corpus, "jazz")
    # Ride's "ding ding-a ding": skip notes on the "a" of 2 and 4, beats 2 and 4 on the ride.
    assert h[:, [4, 12], RIDE].all(axis=1).mean() > 0.8
    assert h[:, [7, 15], RIDE].any(axis=1).mean() > 0.8
    assert h[:, [4, 12], CLOSED_HAT].all()  # hi-hat foot on 2 and 4
    assert h[:, :, OPEN_HAT].sum() == 0 and h[:, :, CLAP].sum() == 0
    quiet_kicks = corpus.velocities[corpus.genre == 1][:, :, KICK]
    assert ((quiet_kicks > 0) & (quiet_kicks < 40)).any(axis=1).mean() > 0.3  # feathered


def test_hiphop_idioms(corpus):
    h = _genre_hits(corpus, "hiphop")
    assert (h[:, [4, 12], SNARE] | h[:, [4, 12], CLAP]).all()
    kick_off_beat = h[:, :, KICK].copy()
    kick_off_beat[:, 0::4] = False
    assert kick_off_beat.any(axis=1).mean() > 0.95  # syncopated kick
    assert np.median(h[:, :, CLOSED_HAT].sum(axis=1)) >= 12  # sixteenth hats
    assert grooves.syncopation(h) > grooves.syncopation(_genre_hits(corpus, "rock"))


def test_electronic_idioms(corpus):
    h = _genre_hits(corpus, "electronic")
    assert h[:, [0, 4, 8, 12], KICK].all()  # four on the floor
    off = h[:, [2, 6, 10, 14], OPEN_HAT] | h[:, [2, 6, 10, 14], RIDE]
    assert (off.sum(axis=1) >= 2).all()
    assert (h[:, [4, 12], CLAP] | h[:, [4, 12], SNARE]).all()


def test_latin_idioms(corpus):
    h = _genre_hits(corpus, "latin")
    claves = [{0, 3, 6, 10, 12}, {2, 4, 8, 11, 14}, {0, 3, 7, 10, 12}, {2, 4, 8, 11, 15}, {0, 3, 6, 10, 13}]
    for bar in h:
        played = [set(np.flatnonzero(bar[:, v]).tolist()) for v in (SNARE, CLAP)]
        assert any(c <= p for c in claves for p in played)  # a clave figure on rim or clap
    tumbao = h[:, [6, 12], KICK].all(axis=1)
    assert tumbao.mean() > 0.4
    assert h[:, :, [TOM_HIGH, TOM_LOW]].any(axis=(1, 2)).mean() > 0.7  # congas


def test_genres_are_distinct(corpus):
    # A linear classifier on the binary hit grids, fitted on train, scored on validation: the
    # VAE's genre targets need a classifier to agree >= 90 % per genre.
    from sklearn.linear_model import RidgeClassifier

    x = corpus.hits.reshape(len(corpus), -1)
    train, val = corpus.split == TRAIN, corpus.split == VAL
    guess = RidgeClassifier().fit(x[train], corpus.genre[train]).predict(x[val])
    for g in range(5):
        assert (guess[corpus.genre[val] == g] == g).mean() >= 0.9, GENRES[g]


def test_generate_api():
    rng = np.random.default_rng(5)
    bars = grooves.generate("Rock", 16, rng)
    assert len(bars) == 16 and len(set(bars)) == 16
    assert all(grooves.validity(b) == 1.0 for b in bars)
    a = grooves.generate("latin", 8, np.random.default_rng(1))
    assert a == grooves.generate("latin", 8, np.random.default_rng(1))


def test_unknown_genre_lists_genres():
    with pytest.raises(DrumfontError, match="rock, jazz, hiphop, electronic, latin"):
        grooves.check_genre("polka")
    with pytest.raises(DrumfontError):
        grooves.generate("polka", 3, np.random.default_rng(0))


def test_density_table(corpus):
    table = grooves.density_table(corpus)
    lines = table.splitlines()
    assert len(lines) == 2 + 5
    assert lines[2].startswith("rock") and "200" in lines[2]
    electronic = lines[2 + 3].split()
    assert float(electronic[2]) >= 4.0  # kick hits per bar: four on the floor
    unlabelled = DrumDataset(corpus.velocities[:3], np.full(3, -1, np.int16), np.zeros(3, np.uint8), ())
    assert "unlabelled" in grooves.density_table(unlabelled)


def test_rule_claps_join_the_training_split_of_shared_genres():
    from drumfont.drums.dataset import DrumDataset
    from drumfont.score.pattern import CLAP

    rng = np.random.default_rng(0)
    vel = (rng.random((10, 16, 9)) < 0.2).astype(np.uint8) * 90
    vel[:, :, CLAP] = 0
    real = DrumDataset(vel, np.repeat([0, 1], 5).astype(np.int16), np.tile([0, 1], 5).astype(np.uint8),
                       ("hiphop", "funk"), [(f"f{i}.mid", 1) for i in range(10)],
                       np.full(vel.shape, 0.1, np.float16))
    mixed = grooves.with_rule_claps(real)
    added = mixed.take(np.arange(10, len(mixed)))
    assert len(added) > 0 and (added.split == 0).all() and (added.genre == 0).all()  # hiphop only
    assert (added.velocities[:, :, CLAP] > 0).any(1).all() and not added.timing.any()
    assert mixed.take(np.arange(10)).pattern(3) == real.pattern(3)
    assert all(f.startswith("rules:hiphop") for f, _ in added.sources)
