"""The phrase commands end to end: `export --phrase/--fill`, `song`, `continue`, `play --phrase/--song`
and `interpolate --phrase` — the bars each writes (counts, fills, crashes after fills, the form's
lengths, the input's tempo), `--phrase 1` staying today's bytes, and every bad option one line and
exit 2 with nothing written."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import mido
import numpy as np
import pytest

from drumfont.cli import drums as cli_drums
from drumfont.cli import main
from drumfont.drums import engine as eng
from drumfont.score.midifile import ExportOptions, file_bpm, read_patterns, write_midi
from drumfont.score.pattern import CRASH, STEPS, Pattern, from_text
from drumfont.score.phrase import CRASH_VELOCITY

GROOVE = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")
# `drumfont export --style rock --rules -n 3 --seed 7 --single-file` as main wrote it before
# phrases (commit 5bdacf1): --phrase 1, the default, must keep writing these bytes.
BEFORE_PHRASES = "4380c64693b6c3085c7f3c24baa69eb3604f9b14eab5ef896e5b6feffc91b83b"


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def one_line_error(rc: int, err: str, *words: str) -> None:
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], lines[0]


def second_half_departs(bar: Pattern, groove: Pattern) -> bool:
    a, b = bar.hits[8:], groove.hits[8:]
    return bool((a ^ b).sum() / max(1, (a | b).sum()) > 0.3)


# --- export --phrase ----------------------------------------------------------------------------

def test_phrase_1_is_todays_export_byte_for_byte(tmp_path, capsys):
    for flags, out in (([], "a"), (["--phrase", "1"], "b")):
        rc, _, _ = run(capsys, "export", "--style", "rock", "--rules", "-n", 3, "--seed", 7, "--single-file",
                       "--out", tmp_path / out, *flags)
        assert rc == 0
        data = (tmp_path / out / "rock-3bars.mid").read_bytes()
        assert hashlib.sha256(data).hexdigest() == BEFORE_PHRASES


def test_phrase_1_with_the_drum_model_is_the_default_too(tmp_path, capsys):
    pytest.importorskip("torch")
    for flags, out in (([], "a"), (["--phrase", "1"], "b")):
        assert run(capsys, "export", "--style", "funk", "-n", 2, "--seed", 3, "--out", tmp_path / out, *flags)[0] == 0
    for name in ("funk-001.mid", "funk-002.mid"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_export_phrases_each_file_one_phrase_with_its_fill(tmp_path, capsys):
    rc, out, err = run(capsys, "export", "--style", "rock", "--rules", "--phrase", 4, "-n", 3, "--seed", 2,
                       "--out", tmp_path)
    assert rc == 0 and out.split() == [str(tmp_path / f"rock-4bar-00{i}.mid") for i in (1, 2, 3)]
    assert "rule fill" in err or err == ""   # --rules: the fallback needs no note
    for path in out.split():
        bars = read_patterns(path)
        assert len(bars) == 4 and bars[0] == bars[1] == bars[2]
        assert second_half_departs(bars[3], bars[0])
    rc, out, _ = run(capsys, "export", "--style", "jazz", "--rules", "--phrase", 2, "-n", 2, "--fill", "none",
                     "--single-file", "--bars", 2, "--out", tmp_path / "plain")
    bars = read_patterns(out.strip())
    assert rc == 0 and Path(out.strip()).name == "jazz-2x2bars.mid"
    assert len(bars) == 8 and bars[0] == bars[1] == bars[2] == bars[3] != bars[4]   # each phrase twice


def test_export_phrases_through_the_drum_model_say_what_played_them(tmp_path, capsys):
    pytest.importorskip("torch")
    rc, out, err = run(capsys, "export", "--style", "funk", "--phrase", 2, "-n", 1, "--seed", 4, "--out", tmp_path)
    assert rc == 0 and len(read_patterns(out.strip())) == 2
    e = eng.load_engine()
    e.phrase("funk", 2, seed=1)
    if e.phrase_reason:   # no phrase model behind the VAE: the note says what the phrase is
        assert "drumfont: note:" in err and "rule fill" in err


@pytest.mark.parametrize("argv, words", [
    (["--phrase", "3"], ["--phrase", "1, 2, 4, 8"]),
    (["--phrase", "16"], ["--phrase"]),
    (["--phrase", "x"], ["--phrase"]),
    (["--phrase", "4", "--fill", "middle"], ["--fill"]),
    (["--phrase", "8", "-n", "10000", "--bars", "1024"], ["bars"]),
])
def test_bad_phrase_options_are_one_line(tmp_path, capsys, argv, words):
    rc, _, err = run(capsys, "export", "--style", "rock", "--rules", "--out", tmp_path, *argv)
    one_line_error(rc, err, *words)
    assert not list(tmp_path.iterdir())


# --- song ---------------------------------------------------------------------------------------

def test_song_has_the_forms_lengths_fills_and_crashes(tmp_path, capsys):
    form = "intro:2,verse:4,chorus:4,outro:2"
    rc, out, err = run(capsys, "song", "--style", "rock", "--rules", "--form", form, "-o", tmp_path / "s.mid",
                       "--seed", 5)
    assert rc == 0 and out.strip() == str(tmp_path / "s.mid")
    assert "song: 12 bars, intro 2, verse 4, chorus 4, outro 2" in err
    bars = read_patterns(tmp_path / "s.mid")
    assert len(bars) == 12
    starts, ends = [0, 2, 6, 10], [1, 5, 9]
    for s in starts[1:]:   # a crash on the downbeat after every change of section
        assert bars[s].velocities[0, CRASH] >= CRASH_VELOCITY
    assert bars[0].velocities[0, CRASH] == 0
    for end, start in zip(ends, starts):   # the last bar of each section but the song's is a fill
        assert second_half_departs(bars[end], bars[start + 1 if end > start + 1 else start])
    assert not second_half_departs(bars[11], bars[10].with_velocity(0, CRASH, 0))   # no fill at the end
    again = tmp_path / "again.mid"
    run(capsys, "song", "--style", "rock", "--rules", "--form", form, "-o", again, "--seed", 5)
    assert again.read_bytes() == (tmp_path / "s.mid").read_bytes()


def test_song_reads_its_tempo_and_renders_audio_beside_it(tmp_path, capsys):
    pytest.importorskip("fluidsynth", reason="pyfluidsynth or libfluidsynth3 is not installed")
    soundfile = pytest.importorskip("soundfile")
    rc, out, _ = run(capsys, "song", "--style", "jazz", "--rules", "--form", "a:2,b:1", "-o", tmp_path / "s.mid",
                     "--audio", "--bpm", 150)
    wav = tmp_path / "s.wav"
    assert rc == 0 and out.split() == [str(tmp_path / "s.mid"), str(wav)]
    assert file_bpm((tmp_path / "s.mid").read_bytes()) == 150
    info = soundfile.info(str(wav))
    assert info.duration >= 3 * 4 * 60 / 150   # three bars at 150 BPM, and the last notes ringing out


@pytest.mark.parametrize("form, words", [
    ("verse:x", ["verse:x", "not a whole number"]), (":4", ["no section name"]), ("verse:0", ["1-64 bars"]),
    ("a:65", ["1-64"]), (",".join(["a:64"] * 9), ["576 bars", "512"]), ("", ["empty"]), ("a:4,", ["empty item"]),
])
def test_a_malformed_form_is_one_line_and_writes_nothing(tmp_path, capsys, form, words):
    rc, _, err = run(capsys, "song", "--style", "rock", "--rules", "--form", form, "-o", tmp_path / "s.mid")
    one_line_error(rc, err, *words)
    assert not list(tmp_path.iterdir())


def test_song_refuses_to_overwrite_before_any_work(tmp_path, capsys):
    (tmp_path / "s.wav").write_bytes(b"mine")
    rc, _, err = run(capsys, "song", "--style", "rock", "--rules", "--form", "a:4", "-o", tmp_path / "s.mid",
                     "--audio")
    one_line_error(rc, err, "s.wav exists", "--force")
    assert not (tmp_path / "s.mid").exists() and (tmp_path / "s.wav").read_bytes() == b"mine"
    rc, _, err = run(capsys, "song", "--style", "polka", "--rules", "--form", "a:4", "-o", tmp_path / "t.mid")
    one_line_error(rc, err, "unknown genre")


# --- continue -----------------------------------------------------------------------------------

class EchoPhrases:
    """A stand-in phrase model for the command's wiring (what it reads and writes): it continues a
    player's bars with their last bar, louder by one step per new bar, and says what it was asked."""

    def __init__(self) -> None:
        self.asked: list = []

    def continue_(self, patterns, bars, genre, temperature, seed, fill="none"):
        self.asked.append((len(patterns), bars, genre, temperature, seed, fill))
        last = patterns[-1]
        return [Pattern(np.where(last.hits, np.minimum(127, last.velocities + i + 1), 0).astype(np.uint8),
                        last.offsets) for i in range(bars)]


class EchoEngine(eng.RulesEngine):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def phrase_model(self):
        return self.model


def _player_file(path: Path, bars: int, bpm: float) -> Path:
    played = [GROOVE.with_velocity(15, 0, 60 + i) for i in range(bars)]
    return write_midi(path, played, ExportOptions(bpm=bpm))


def test_continue_reads_the_players_tempo_and_writes_the_new_bars(tmp_path, capsys, monkeypatch):
    model = EchoPhrases()
    monkeypatch.setattr(cli_drums, "load_engine", lambda *a, **k: EchoEngine(model))
    src = _player_file(tmp_path / "in.mid", 3, 93)
    rc, out, err = run(capsys, "continue", src, "--bars", 5, "-o", tmp_path / "out.mid", "--seed", 4,
                       "--style", "Funk", "--temperature", 0.5)
    assert rc == 0 and out.strip() == str(tmp_path / "out.mid")
    assert model.asked == [(3, 5, "funk", 0.5, 4, "none")]
    new = read_patterns(tmp_path / "out.mid")
    assert len(new) == 5 and file_bpm((tmp_path / "out.mid").read_bytes()) == 93
    assert "continued 3 bar(s) with 5 at 93 BPM" in err
    rc, _, _ = run(capsys, "continue", src, "--bars", 2, "-o", tmp_path / "with.mid", "--with-input", "--bpm", 100,
                   "--fill", "end")
    both = read_patterns(tmp_path / "with.mid")
    assert rc == 0 and len(both) == 5 and both[:3] == read_patterns(src)
    assert file_bpm((tmp_path / "with.mid").read_bytes()) == 100
    assert model.asked[-1][2] is None and model.asked[-1][5] == "end"   # no --style: the model hears the genre


def test_continue_reads_at_most_32_bars_from_the_8_bar_grid():
    bars = [GROOVE.with_velocity(15, 0, 1 + i) for i in range(40)]
    assert cli_drums.continue_context(bars[:32]) == bars[:32]
    assert cli_drums.continue_context(bars) == bars[8:]
    assert cli_drums.continue_context(bars[:33]) == bars[8:33]


def test_continue_without_the_phrase_model_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli_drums, "load_engine", lambda *a, **k: eng.RulesEngine())
    src = _player_file(tmp_path / "in.mid", 2, 120)
    rc, _, err = run(capsys, "continue", src, "--bars", 4, "-o", tmp_path / "out.mid")
    one_line_error(rc, err, "continue needs the phrase model")
    assert not (tmp_path / "out.mid").exists()


def _tempo_file(path: Path, bpm: float) -> Path:
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)),
                            mido.Message("note_on", channel=9, note=36, velocity=100),
                            mido.Message("note_off", channel=9, note=36, velocity=0, time=480 * 4)])
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("argv, words", [
    (["--bars", "0"], ["--bars", "1..32"]), (["--bars", "33"], ["--bars", "1..32"]),
    (["--bars", "4", "--temperature", "nan"], ["--temperature"]),
])
def test_bad_continue_options_are_one_line(tmp_path, capsys, argv, words):
    src = _player_file(tmp_path / "in.mid", 1, 120)
    rc, _, err = run(capsys, "continue", src, "-o", tmp_path / "out.mid", *argv)
    one_line_error(rc, err, *words)
    assert not (tmp_path / "out.mid").exists()


def test_continue_refuses_a_tempo_it_cannot_write_and_a_file_it_cannot_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli_drums, "load_engine", lambda *a, **k: EchoEngine(EchoPhrases()))
    slow = _tempo_file(tmp_path / "slow.mid", 10)
    rc, _, err = run(capsys, "continue", slow, "--bars", 2, "-o", tmp_path / "out.mid")
    one_line_error(rc, err, "10 BPM", "--bpm")
    assert run(capsys, "continue", slow, "--bars", 2, "-o", tmp_path / "out.mid", "--bpm", 80)[0] == 0
    rc, _, err = run(capsys, "continue", tmp_path / "none.mid", "--bars", 2, "-o", tmp_path / "x.mid")
    one_line_error(rc, err, "none.mid")
    (tmp_path / "taken.mid").write_bytes(b"mine")
    rc, _, err = run(capsys, "continue", slow, "--bars", 2, "-o", tmp_path / "taken.mid")
    one_line_error(rc, err, "exists")


# --- play --phrase / --song ---------------------------------------------------------------------

@pytest.fixture()
def played(monkeypatch):
    from drumfont.live import play

    calls = []
    monkeypatch.setattr(play, "play", lambda patterns, spec, **kw: calls.append((list(patterns), kw)) or 0)
    return calls


def test_play_a_song_once_through_and_phrases_looped(capsys, played):
    rc, _, err = run(capsys, "play", "--style", "rock", "--rules", "--song", "intro:2,verse:4", "--seed", 1)
    patterns, kw = played[-1]
    assert rc == 0 and len(patterns) == 6 and kw["bars"] == 6 and kw["repeat"] == 1
    assert patterns[2].velocities[0, CRASH] >= CRASH_VELOCITY and "song: intro 2, verse 4" in err
    run(capsys, "play", "--style", "rock", "--rules", "--song", "intro:2,verse:4", "--forever")
    assert played[-1][1]["bars"] is None
    run(capsys, "play", "--style", "jazz", "--rules", "--phrase", 4, "--count", 2, "--repeat", 2, "--seed", 3)
    patterns, kw = played[-1]
    assert len(patterns) == 16 and kw["repeat"] == 1 and kw["bars"] is None
    assert patterns[:4] == patterns[4:8] != patterns[8:12]   # each phrase twice, then the next


@pytest.mark.parametrize("argv, words", [
    (["--file", "x.mid", "--phrase", "2"], ["--phrase", "--style"]),
    (["--pattern", "x.txt", "--song", "a:4"], ["--song", "--style"]),
    (["--song", "a:4", "--phrase", "2"], ["give one"]),
    (["--song", "a:x"], ["--song", "not a whole number"]),
    (["--phrase", "5"], ["--phrase"]),
    (["--song", "a:64,b:64", "--repeat", "1024"], ["131,072 bars", "100,000"]),
])
def test_bad_play_options_are_one_line(capsys, played, argv, words):
    rc, _, err = run(capsys, "play", "--rules", *argv)
    one_line_error(rc, err, *words)
    assert not played


# --- interpolate --phrase ---------------------------------------------------------------------

def test_interpolate_phrases_bar_by_bar(tmp_path, capsys):
    pytest.importorskip("torch")
    rc, _, _ = run(capsys, "interpolate", "--from", "rock", "--to", "jazz", "--phrase", 2, "--steps", 3,
                   "-o", tmp_path / "m.mid", "--seed", 1)
    assert rc == 0 and len(read_patterns(tmp_path / "m.mid")) == 6
    rc, out, _ = run(capsys, "interpolate", "--from", "rock", "--to", "jazz", "--phrase", 4, "--steps", 2,
                     "-o", tmp_path / "split", "--split", "--seed", 1)
    assert rc == 0 and [len(read_patterns(p)) for p in out.split()] == [4, 4]
    short = write_midi(tmp_path / "one.mid", [GROOVE])
    rc, _, err = run(capsys, "interpolate", "--from", short, "--to", "jazz", "--phrase", 2, "-o", tmp_path / "x.mid")
    one_line_error(rc, err, "one.mid", "1 drum bar", "--phrase 2")


def test_the_engine_holds_a_steps_long_morph_of_phrases(tmp_path):
    pytest.importorskip("torch")
    e = eng.load_engine()
    a, b = e.phrase("rock", 2, "end", 0.0, 1), e.phrase("jazz", 2, "end", 0.0, 1)
    morph = e.interpolate_phrases(a, b, 4, "both")
    assert [len(p) for p in morph] == [2, 2, 2, 2] and all(p.fills == (False, True) for p in morph)
    assert list(morph[0].bars) == [e.interpolate(x, y, 4, "both")[0] for x, y in zip(a.bars, b.bars)]
    assert STEPS == 16


# --- through a phrase model ---------------------------------------------------------------------

@pytest.fixture()
def with_phrases(monkeypatch):
    pytest.importorskip("torch")
    from tui_helpers import tiny_engine_with_phrases

    from drumfont.cli import live as cli_live

    e = tiny_engine_with_phrases()
    monkeypatch.setattr(cli_drums, "load_engine", lambda *a, **k: e)
    monkeypatch.setattr(cli_live, "load_engine", lambda *a, **k: e)
    return e


def test_the_commands_play_what_the_phrase_model_draws(tmp_path, capsys, with_phrases, played):
    e = with_phrases
    rc, out, err = run(capsys, "export", "--style", "rock", "--phrase", 4, "-n", 2, "--seed", 3, "--out", tmp_path)
    assert rc == 0 and "note:" not in err          # the phrase model played them: nothing to own up to
    got = [read_patterns(p) for p in out.split()]
    want = e.phrases("rock", 2, 4, "end", 1.0, 3)
    assert [len(g) for g in got] == [4, 4] and got[1][3].hits.tolist() == want[1].bars[3].hits.tolist()
    rc, _, err = run(capsys, "song", "--style", "funk", "--form", "in:2,verse:3,out:1", "-o", tmp_path / "s.mid",
                     "--seed", 1)
    bars = read_patterns(tmp_path / "s.mid")
    assert rc == 0 and len(bars) == 6 and "note:" not in err
    assert [bars[i].velocities[0, CRASH] >= CRASH_VELOCITY for i in (2, 5)] == [True, True]
    src = _player_file(tmp_path / "in.mid", 3, 87)
    rc, _, _ = run(capsys, "continue", src, "--bars", 6, "-o", tmp_path / "c.mid", "--seed", 2)
    assert rc == 0 and len(read_patterns(tmp_path / "c.mid")) == 6
    assert file_bpm((tmp_path / "c.mid").read_bytes()) == 87
    rc, _, err = run(capsys, "play", "--style", "jazz", "--song", "a:2,b:2", "--seed", 1)
    assert rc == 0 and len(played[-1][0]) == 4 and "note:" not in err


def test_a_transferred_fill_stays_a_fill(tmp_path, capsys, with_phrases):
    fill = GROOVE.velocities.copy()
    fill[8:] = 0
    fill[8:, [1, 4, 5]] = 100   # the groove's first half, then snare and toms
    bars = [GROOVE, GROOVE, GROOVE, Pattern(fill), GROOVE]
    src = write_midi(tmp_path / "in.mid", bars)
    assert eng.Engine.phrase_of(read_patterns(src)).fills == (False, False, False, True, False)
    rc, _, err = run(capsys, "transfer", src, "--to", "jazz", "-o", tmp_path / "t.mid")
    out = read_patterns(tmp_path / "t.mid")
    assert rc == 0 and len(out) == 5 and "1 fill(s) kept as fills" in err
    assert out[3].velocities[8:].tolist() == fill[8:].tolist()       # the fill as played


def test_the_command_line_and_the_phrase_model_read_a_form_alike():
    from drumfont.drums import phrase_engine
    from drumfont.errors import DrumfontError
    from drumfont.validate import RANGES, parse_form

    assert (RANGES["section_bars"].hi, RANGES["song_bars"].hi, RANGES["continue_bars"].hi) == (
        phrase_engine.MAX_SECTION_BARS, phrase_engine.MAX_SONG_BARS, phrase_engine.MAX_CONTINUE_BARS)
    for form in ("intro:4,verse:8", " a b : 2 , c:64", "x:1"):
        assert parse_form(form) == phrase_engine.parse_form(form)
    for form in ("verse:x", ":4", "verse:0", "a:65", "", ",".join(["a:64"] * 9), "a"):
        for parse in (parse_form, phrase_engine.parse_form):
            with pytest.raises(DrumfontError):
                parse(form)


def test_a_phrase_model_of_your_own(tmp_path, capsys):
    """--phrase-preset loads a checkpoint the user trained; one that does not load is one line."""
    pytest.importorskip("torch")
    from tui_helpers import tiny_phrase_blob

    from drumfont.checkpoint import save_checkpoint
    from drumfont.drums import phrase_engine

    blob = tiny_phrase_blob()
    mine = save_checkpoint(tmp_path / "mine.pt", phrase_engine.KIND, blob["config"], blob["state_dict"],
                           blob["extras"])
    rc, _, err = run(capsys, "song", "--style", "jazz", "--form", "a:2,b:2", "-o", tmp_path / "s.mid", "--seed", 1,
                     "--phrase-preset", mine)
    assert rc == 0 and "note:" not in err and len(read_patterns(tmp_path / "s.mid")) == 4
    src = _player_file(tmp_path / "in.mid", 2, 120)
    rc, _, _ = run(capsys, "continue", src, "--bars", 3, "-o", tmp_path / "c.mid", "--phrase-preset", mine)
    assert rc == 0 and len(read_patterns(tmp_path / "c.mid")) == 3
    rc, _, err = run(capsys, "song", "--style", "jazz", "--form", "a:2", "-o", tmp_path / "t.mid",
                     "--phrase-preset", tmp_path / "none.pt")
    one_line_error(rc, err, "--phrase-preset", "none.pt")
    rc, _, err = run(capsys, "song", "--style", "jazz", "--form", "a:2", "-o", tmp_path / "t.mid", "--rules",
                     "--phrase-preset", mine)
    one_line_error(rc, err, "--phrase-preset", "--rules")
    assert not (tmp_path / "t.mid").exists()


def test_song_and_phrase_export_check_the_synth_before_writing_any_mid(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fluidsynth", None)     # pyfluidsynth or its library missing
    rc, _, err = run(capsys, "song", "--style", "rock", "--rules", "--form", "a:2", "-o", tmp_path / "s.mid",
                     "--audio")
    one_line_error(rc, err)
    assert "FluidSynth" in err or "pyfluidsynth" in err
    rc, _, err = run(capsys, "export", "--style", "rock", "--rules", "--phrase", 2, "--audio", "--out", tmp_path / "x")
    one_line_error(rc, err)
    assert not list(tmp_path.rglob("*.mid"))
