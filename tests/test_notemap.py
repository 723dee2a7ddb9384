"""Note maps: the GM fold covers every percussion note; output maps load and validate."""

import json

import pytest

from drumfont.errors import DrumfontError
from drumfont.score.notemap import FOLD_TABLE, GM, available_notemaps, fold, load_notemap, parse_notemap
from drumfont.score.pattern import CLAP, KICK, OPEN_HAT, SNARE, TOM_HIGH, TOM_LOW, VOICES


def test_fold_covers_gm_and_roland_notes():
    for note in list(range(27, 88)) + [22, 26]:
        assert fold(note) is not None, note
    assert fold(0) is None and fold(127) is None and fold(200) is None


def test_fold_keeps_clap_and_two_toms():
    assert fold(39) == CLAP and fold(38) == SNARE and fold(36) == KICK and fold(35) == KICK
    assert {fold(n) for n in (47, 48, 50)} == {TOM_HIGH}
    assert {fold(n) for n in (41, 43, 45)} == {TOM_LOW}
    assert fold(26) == OPEN_HAT


def test_output_maps_round_trip_through_the_fold():
    # Every shipped map writes notes the importer folds back to the same voice.
    for name in available_notemaps():
        m = load_notemap(name)
        if name == "drumrack":  # pad layout, not GM pitches: a DAW maps it, the fold does not
            continue
        assert [fold(n) for n in m.notes] == list(range(len(VOICES))), name


def test_gm_is_default_and_shipped_maps_exist():
    assert load_notemap(None) is GM and load_notemap("GM") is GM
    assert GM.notes[:4] == (36, 38, 42, 46) and GM.notes[6:] == (49, 51, 39)
    assert {"gm", "tr8s", "drumrack"} <= set(available_notemaps())


def test_unknown_and_bad_maps_are_clear(tmp_path):
    with pytest.raises(DrumfontError, match="unknown note map"):
        load_notemap("nosuch")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"notes": {"kick": 36}}))
    with pytest.raises(DrumfontError, match="no note for snare"):
        load_notemap(str(bad))
    with pytest.raises(DrumfontError, match="0..127"):
        parse_notemap({"notes": {v: 300 for v in VOICES}}, "x")
    bad.write_text("{not json")
    with pytest.raises(DrumfontError, match="cannot read"):
        load_notemap(str(bad))


def test_table_documents_every_note():
    assert all(isinstance(name, str) and name for _, name in FOLD_TABLE.values())
