"""The studio's session logic without a screen: edits, undo/redo, bank, A/B, saving, engines."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drumfont import paths
from drumfont.drums import engine as eng
from drumfont.errors import DrumfontError
from drumfont.score.midifile import read_patterns
from drumfont.score.pattern import KICK, SNARE, Pattern
from drumfont.tui import session as st


def _bar(seed: int = 0, genre: str = "rock") -> Pattern:
    return eng.RulesEngine().sample(genre, 1.0, seed)


def test_data_dir_env_override_and_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("DRUMFONT_DATA_DIR", str(tmp_path / "x"))
    assert paths.data_dir() == tmp_path / "x"
    monkeypatch.delenv("DRUMFONT_DATA_DIR")
    monkeypatch.setattr(paths.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.data_dir() == tmp_path / "xdg" / "drumfont"


def test_toggle_velocity_clear_and_undo_redo():
    s = st.Studio()
    s.cursor = (4, SNARE)
    s.toggle()
    assert s.current.velocities[4, SNARE] == st.DEFAULT_VELOCITY
    s.nudge_velocity(+st.VELOCITY_STEP)
    s.nudge_velocity(+st.VELOCITY_STEP)
    assert s.current.velocities[4, SNARE] == st.DEFAULT_VELOCITY + 2 * st.VELOCITY_STEP
    for _ in range(20):
        s.nudge_velocity(-st.VELOCITY_STEP)
    assert s.current.velocities[4, SNARE] == 1  # lowering never deletes the hit
    s.move(0, 1)
    s.nudge_velocity(+st.VELOCITY_STEP)  # a rest raised becomes a ghost note
    assert s.current.velocities[4, SNARE + 1] == 40
    s.clear_voice(SNARE)
    assert not s.current.velocities[:, SNARE].any()
    before_undo = s.current
    assert s.undo()
    assert s.current.velocities[4, SNARE] == 1
    assert s.redo()
    assert s.current == before_undo
    while s.undo():
        pass
    assert s.current == Pattern.empty()
    assert not s.undo()


def test_cursor_wraps():
    s = st.Studio()
    s.move(-1, -1)
    assert s.cursor == (15, 8)
    s.move(1, 1)
    assert s.cursor == (0, 0)


def test_mute_solo_audible():
    s = st.Studio()
    assert s.toggle_mute(KICK)
    assert not s.audible(KICK) and s.audible(SNARE)
    assert s.toggle_solo(SNARE)
    assert s.audible(SNARE) and not s.audible(KICK + 2)
    assert not s.toggle_solo(SNARE)
    assert not s.toggle_mute(KICK) and s.audible(KICK)


def test_bank_slots_duplicate_and_full():
    s = st.Studio()
    assert len(s.doc.bank) >= 8
    s.set_current(_bar(1))
    j = s.copy_to_next_empty()
    assert j == 1 and s.doc.bank[1] == s.doc.bank[0]
    s.select_slot(7)
    assert s.current == Pattern.empty()
    with pytest.raises(DrumfontError):
        s.select_slot(8)
    for _ in range(5):  # slots 3..7 from slot 8 (itself empty, so it copies an empty bar)
        s.copy_to_next_empty()
    s.set_current(_bar(9))
    with pytest.raises(DrumfontError, match="full"):
        s.copy_to_next_empty()
    assert len(s.bank_patterns()) == 8
    s.clear_slot()
    assert s.doc.bank[7] is None
    s.undo()
    assert s.doc.bank[7] is not None


def test_ab_and_morph_settings():
    s = st.Studio()
    s.set_current(_bar(2))
    s.set_ab("a")
    s.select_slot(1)
    s.set_current(_bar(3))
    s.set_ab("b")
    assert s.doc.a == s.phrase_in(0).bars[0] and s.doc.b == s.phrase_in(1).bars[0]
    assert [s.cycle_morph_level() for _ in range(3)] == ["high", "low", "both"]
    assert s.set_morph_steps(100) == 9 and s.set_morph_steps(0) == 3


def test_transport_limits():
    s = st.Studio()
    assert s.nudge_tempo(1000) == 300 and s.nudge_tempo(-1000) == 20
    assert s.nudge_swing(100) == 75 and s.nudge_swing(-100) == 50
    assert [s.cycle_bars() for _ in range(4)] == [2, 4, 8, 1]
    assert s.nudge_temperature(10) == st.MAX_TEMP and s.nudge_temperature(-10) == st.MIN_TEMP
    assert s.cycle_genre(("rock", "jazz")) == "jazz" and s.cycle_genre(("rock", "jazz")) == "rock"


def test_save_load_round_trip(tmp_path):
    s = st.Studio(genre="jazz", temperature=0.7, seed=5)
    s.set_current(_bar(4, "jazz"))
    s.set_ab("a")
    s.select_slot(3)
    s.set_current(_bar(5, "latin"))
    s.morph = [_bar(6), _bar(7)]
    s.transport.bpm, s.transport.port, s.transport.clock_out = 97.0, "Some Synth", True
    s.mutes, s.solos, s.cursor = {1}, {2, 3}, (7, 4)
    s.letters_text, s.letters_seed = "HELLO", 3
    path = s.save(tmp_path / "session.json")
    r = st.Studio.load(path)
    assert r.to_dict() == s.to_dict()
    assert r.doc.bank[3] == s.doc.bank[3] and r.doc.a == s.doc.a
    assert json.loads(path.read_text())["kind"] == "studio-session"
    # saving again replaces the file whole (atomic, no leftovers)
    s.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["session.json"]


def test_damaged_session_is_kept_aside(tmp_path):
    (tmp_path / st.SESSION_FILE).write_text("{not json")
    s, note = st.open_session(tmp_path)
    assert note and "kept it as" in note
    assert s.current == Pattern.empty()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("session.damaged")]
    assert len(kept) == 1 and kept[0].read_text() == "{not json"


def test_from_dict_rejects_other_files():
    with pytest.raises(DrumfontError):
        st.Studio.from_dict({"kind": "something"})
    d = st.Studio().to_dict()
    d["bank"] = ["KK what"]
    with pytest.raises(DrumfontError):
        st.Studio.from_dict(d)


def test_rules_engine_is_seeded_and_cannot_morph():
    e = eng.RulesEngine()
    assert e.sample("jazz", 1.0, 3) == e.sample("jazz", 1.0, 3)
    assert e.sample("jazz", 1.0, 3) != e.sample("jazz", 1.0, 4)
    assert not e.can_morph
    with pytest.raises(DrumfontError, match="morph"):
        e.interpolate(_bar(1), _bar(2), 5, "both")
    with pytest.raises(DrumfontError, match="transfer"):
        e.transfer(_bar(1), "jazz")


def test_load_engine_falls_back_to_rules_with_reason(tmp_path):
    e = eng.load_engine(preset=str(tmp_path / "missing.pt"), fallback=True)
    assert e.name == "rules" and e.reason
    assert eng.load_engine(rules=True).reason == "started with --rules"


def test_export_patterns_writes_and_refuses_overwrite(tmp_path):
    bars = [_bar(1), _bar(2)]
    tr = st.Transport(bpm=100, bars=2)
    out = st.export_patterns(tmp_path / "x.mid", bars, tr)
    back = read_patterns(out)
    assert len(back) == 4 and back[0].hits.tolist() == bars[0].hits.tolist()
    assert np.array_equal(back[2].hits, bars[1].hits)
    with pytest.raises(DrumfontError, match="exists"):
        st.export_patterns(out, bars, tr)
    st.export_patterns(out, bars[:1], tr, force=True)
    assert len(read_patterns(out)) == 2
    with pytest.raises(DrumfontError, match=".mid"):
        st.export_patterns(tmp_path / "x.txt", bars, tr)


# --- micro-timing ----------------------------------------------------------------------------

def _timed_bar(seed: int = 0) -> Pattern:
    bar = _bar(seed)
    rng = np.random.default_rng(seed)
    return bar.with_offsets(rng.uniform(-0.45, 0.45, bar.velocities.shape))


def test_edits_keep_the_other_hits_timing():
    s = st.Studio()
    s.set_current(_timed_bar(1))
    before = s.current
    s.cursor = (5, 7)                                # a cell the rock rules leave empty (ride)
    assert before.velocities[5, 7] == 0
    s.toggle()
    s.nudge_velocity(+st.VELOCITY_STEP)
    assert s.current.offsets[5, 7] == 0              # a new hit sits on the grid
    kept = before.hits.copy()
    assert np.array_equal(s.current.offsets[kept], before.offsets[kept])
    s.cursor = (0, SNARE)
    s.clear_voice()
    others = kept.copy()
    others[:, SNARE] = False
    assert np.array_equal(s.current.offsets[others], before.offsets[others]) and s.current.timed


def test_straighten_quantises_the_bar_and_undoes():
    s = st.Studio()
    timed = _timed_bar(2)
    s.set_current(timed)
    assert s.straighten()
    assert not s.current.timed and np.array_equal(s.current.velocities, timed.velocities)
    assert not s.straighten()                        # already straight: nothing to undo
    assert s.undo() and s.current == timed
    assert s.redo() and s.current == timed.straight()


def test_session_keeps_offsets_and_reads_old_sessions(tmp_path):
    s = st.Studio()
    s.set_current(_timed_bar(3))
    s.set_ab("a")
    s.morph = [_timed_bar(4)]
    r = st.Studio.load(s.save(tmp_path / "session.json"))
    assert r.current == s.current and r.current.timed and r.doc.a == s.doc.a and r.morph == s.morph
    # a session written before offsets existed: text form without '@', read as straight bars
    old = s.to_dict()
    old["bank"][0] = old["bank"][0].split("\n")[0].split(" @ ")[0] + "\n"
    old["morph"] = []
    r = st.Studio.from_dict(old)
    assert not r.current.timed and r.current.hits[:, KICK].tolist() == s.current.hits[:, KICK].tolist()


def test_export_keeps_offsets(tmp_path):
    timed = _timed_bar(5)
    out = st.export_patterns(tmp_path / "t.mid", [timed], st.Transport(bpm=100, swing=60))
    back = read_patterns(out)[0]
    assert np.array_equal(back.velocities, timed.velocities)
    hits = timed.hits
    # within one tick (480 per beat = 120 per sixteenth); swing leaves a timed bar alone; an
    # early downbeat of the file's first bar sits on it (a file cannot start before its start)
    want = timed.offsets.copy()
    want[0] = np.maximum(want[0], 0)
    assert np.abs(back.offsets[hits] - want[hits]).max() <= 1 / 120 + 1e-6


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.update(letters=5), "letters"),
    (lambda d: d["transport"].update(bpm="fast"), "transport.bpm"),
    (lambda d: d.update(seed=float("inf")), "seed"),
    (lambda d: d["transport"].update(bpm=0), "transport.bpm"),
    (lambda d: d.update(temperature=float("nan")), "temperature"),
    (lambda d: d.update(bank=[[["x"]]]), "bank[0]"),
    (lambda d: d.update(slot=-1), "slot"),
    (lambda d: d.update(mutes=[99]), "mutes[0]"),
    (lambda d: d.update(cursor="here"), "cursor"),
    (lambda d: d["transport"].update(volume=11), "transport.volume"),
])
def test_wrong_typed_session_values_are_set_aside_with_the_field_named(tmp_path, edit, field):
    d = st.Studio().to_dict()
    edit(d)
    (tmp_path / st.SESSION_FILE).write_text(json.dumps(d))  # Python writes NaN/Infinity as JSON allows
    s, note = st.open_session(tmp_path)
    assert note and field in note and "kept it as" in note
    assert s.transport.bpm == 120.0 and not (tmp_path / st.SESSION_FILE).exists()
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("session.damaged")]) == 1


def test_deeply_nested_and_oversized_sessions_are_set_aside(tmp_path):
    (tmp_path / st.SESSION_FILE).write_text("[" * 100_000 + "]" * 100_000)
    s, note = st.open_session(tmp_path)
    assert note and "JSON" in note
    (tmp_path / st.SESSION_FILE).write_bytes(b" " * (2 * 2**20))
    s, note = st.open_session(tmp_path)
    assert note and "too large" in note
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("session.damaged")]) == 2  # both kept
