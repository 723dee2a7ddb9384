"""A file's tempo is kept by every command that reads one and writes or plays bars (transfer,
interpolate, render, drumify, play --file), unless --bpm says otherwise (issue 21.6)."""

from __future__ import annotations

import pytest

from drumfont.cli import main
from drumfont.score.midifile import ExportOptions, file_bpm, read_midi_bytes, write_midi
from drumfont.score.pattern import from_text

GROOVE = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


@pytest.fixture
def slow(tmp_path):
    """Two bars at 96 BPM."""
    return write_midi(tmp_path / "slow.mid", [GROOVE, GROOVE], ExportOptions(bpm=96))


def tempo(path) -> float | None:
    return file_bpm(read_midi_bytes(path))


def test_transfer_keeps_the_input_tempo_unless_bpm_says_otherwise(slow, tmp_path):
    assert main(["transfer", str(slow), "--to", "jazz", "-o", str(tmp_path / "t.mid")]) == 0
    assert tempo(tmp_path / "t.mid") == 96                          # was 120
    assert main(["transfer", str(slow), "--to", "jazz", "-o", str(tmp_path / "u.mid"), "--bpm", "140"]) == 0
    assert tempo(tmp_path / "u.mid") == 140


def test_interpolate_takes_the_tempo_of_its_first_file_endpoint(slow, tmp_path):
    for i, (a, b, want) in enumerate(((str(slow), "latin", 96), ("latin", str(slow), 96), ("rock", "jazz", 120))):
        out = tmp_path / f"m{i}.mid"
        assert main(["interpolate", "--from", a, "--to", b, "--steps", "2", "-o", str(out)]) == 0
        assert tempo(out) == want, (a, b)


def test_drumify_and_play_file_keep_it_too(slow, tmp_path, monkeypatch):
    assert main(["drumify", str(slow), "-o", str(tmp_path / "d.mid")]) == 0
    assert tempo(tmp_path / "d.mid") == 96
    from drumfont.cli import live

    played = {}
    monkeypatch.setattr(live.play, "play", lambda patterns, spec, **kw: played.update(kw))
    assert main(["play", "--file", str(slow), "--bars", "1"]) == 0
    assert played["bpm"] == 96


def test_a_file_tempo_outside_the_range_is_named_not_changed(tmp_path, capsys):
    import mido

    fast = tmp_path / "fast.mid"
    mid = mido.MidiFile(str(write_midi(tmp_path / "x.mid", [GROOVE])))
    for track in mid.tracks:
        for msg in track:
            if msg.type == "set_tempo":
                msg.tempo = mido.bpm2tempo(400)
    mid.save(str(fast))
    assert tempo(fast) == 400
    assert main(["transfer", str(fast), "--to", "jazz", "-o", str(tmp_path / "t.mid")]) == 2
    err = capsys.readouterr().err
    assert "400 BPM" in err and "--bpm" in err and err.count("\n") == 1 and not (tmp_path / "t.mid").exists()
    assert main(["transfer", str(fast), "--to", "jazz", "-o", str(tmp_path / "t.mid"), "--bpm", "180"]) == 0


def test_render_plays_a_file_at_its_own_tempo(slow, tmp_path):
    pytest.importorskip("fluidsynth", reason="pyfluidsynth or libfluidsynth3 is not installed")
    import soundfile as sf

    out = tmp_path / "slow.wav"
    assert main(["render", str(slow), "-o", str(out)]) == 0
    info = sf.info(str(out))
    assert info.frames / info.samplerate == pytest.approx(5.0, abs=0.01)    # 2 bars of 4 beats at 96; was 4.0
