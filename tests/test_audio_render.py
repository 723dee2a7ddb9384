"""Rendering with the built-in kit, judged from the audio itself: onsets found by the detector
against the notes of the .mid, loudness per voice, silence of muted voices, the loop point, the
file written and read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drumfont.audio import onsets as ons
from drumfont.audio import render as r
from drumfont.errors import AudioError, FileExistsNoForce
from drumfont.score.midifile import ExportOptions
from drumfont.score.pattern import KICK, N_VOICES, VOICES, Pattern, from_text

pytest.importorskip("fluidsynth", reason="pyfluidsynth or libfluidsynth3 is not installed")
soundfile = pytest.importorskip("soundfile")

ROOT = Path(__file__).resolve().parents[1]
GROOVE = from_text("""
KK X.....x.X...o...
SN ....X..o....X..o
CH x.x.x.x.x.x.x.x.
OH ..............x.
RD ................
CR X...............
""")


def _every_voice_once() -> Pattern:
    p = Pattern.empty()
    for v in range(N_VOICES):
        p = p.with_velocity(v, v, 100)   # voice v on step v: each alone in its sixteenth
    return p


def _db(x: np.ndarray) -> float:
    return 20 * np.log10(max(float(np.abs(x).max()), 1e-12))


def test_every_voice_sounds_and_a_muted_voice_is_silent():
    opts = ExportOptions(bpm=120)
    for v in range(N_VOICES):
        alone = Pattern.empty().with_velocity(0, v, 100)
        audio = r.render_patterns([alone], opts, r.RenderOptions(loop=False, peak_db=-1))
        assert _db(audio) > -2, VOICES[v]   # normalised: it made sound
        muted = r.render_patterns([alone], opts, r.RenderOptions(loop=False, muted=(v,)))
        assert not np.any(muted), f"muted {VOICES[v]} made sound"


def test_onsets_in_the_audio_match_the_midi_notes_within_5_ms():
    """Each voice alone (its stem: the mix is their sum), swung, on the detector's word."""
    opts = ExportOptions(bpm=120, swing=62)  # swing moves every other sixteenth late
    bar = _every_voice_once()
    for v in range(N_VOICES):
        others = tuple(u for u in range(N_VOICES) if u != v)
        events, _ = r.timed_notes([bar], opts, muted=others)
        expected = np.array([t for t, _, vel in events if vel > 0])
        stem = r.render_patterns([bar], opts, r.RenderOptions(loop=False, muted=others))
        err, missed, _ = ons.match_onsets(expected, ons.detect_onsets(stem, 48000))
        assert len(expected) == 1 and missed == 0, VOICES[v]
        assert abs(err[0]) <= 0.005, (VOICES[v], err[0])


def test_velocities_are_heard_as_played():
    soft = Pattern.empty().with_velocity(0, KICK, 30).with_velocity(8, KICK, 127)
    audio = r.render_patterns([soft], ExportOptions(bpm=120), r.RenderOptions(loop=False))
    half = len(audio) // 2
    assert _db(audio[half:]) - _db(audio[:half]) > 6   # the accent is clearly louder


def test_peak_is_normalised_to_minus_1_dbfs():
    audio = r.render_patterns([GROOVE], ExportOptions(bpm=100))
    assert -1.01 <= _db(audio) <= -1.0 + 1e-6
    assert audio.dtype == np.float32 and audio.shape[1] == 2
    assert len(audio) == round(4 * 60 / 100 * 48000)


def test_a_rendered_loop_continues_into_itself_as_the_repeated_chain_does():
    """The loop is the steady state: bar 6 of the chain played seven times (a crash rings for
    seconds, longer than a bar) equals the loop, so the loop point is as smooth as the music."""
    opts = ExportOptions(bpm=120)
    loop = r.render_patterns([GROOVE], opts, r.RenderOptions(loop=True))
    n = len(loop)
    long = r.render_patterns([GROOVE] * 7, opts, r.RenderOptions(loop=False, peak_db=-1))[5 * n:6 * n]
    loop_u = loop / np.abs(loop).max()
    long_u = long / np.abs(long).max()
    # (a residue of -49 dB of the peak remains on the downbeat's attack: FluidSynth's voices carry
    # state across more bars than a loop can hold; it is not a click, see the next assertion)
    assert np.abs(loop_u - long_u).max() < 0.01
    jump = np.abs(loop[0] - loop[-1]).max()
    assert jump <= np.abs(np.diff(loop[1:1000], axis=0)).max()   # no step at the seam
    # and the crash of bar 1 is still ringing at the loop's start, carried in from the pass before
    assert _db(loop[:200]) > -60


def test_early_micro_timed_note_wraps_to_the_loop_end():
    events = [(-0.010, 36, 100)]   # 10 ms before the downbeat of a 2 s loop
    audio = r.render_notes(events, 2.0, r.RenderOptions(loop=True))
    found = ons.detect_onsets(audio, 48000, loop=True)
    assert len(found) == 1 and abs(found[0] - 1.990) < 0.003


def test_write_audio_wav_and_flac_read_back(tmp_path):
    for name, fmt, rate in (("loop.wav", "WAV", 48000), ("loop.flac", "FLAC", 44100)):
        path = r.write_audio(tmp_path / name, [GROOVE], ExportOptions(bpm=120), r.RenderOptions(rate=rate))
        info = soundfile.info(str(path))
        assert (info.format, info.samplerate, info.channels, info.subtype) == (fmt, rate, 2, "PCM_24")
        data, _ = soundfile.read(str(path))
        assert -1.05 < _db(data) <= -0.99
    with pytest.raises(FileExistsNoForce):
        r.write_audio(tmp_path / "loop.wav", [GROOVE])
    r.write_audio(tmp_path / "loop.wav", [GROOVE], force=True)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_streamed_file_holds_the_samples_of_the_song_in_memory(tmp_path):
    """write_audio renders twice in blocks (the peak, then the file): the same samples as the whole
    song rendered at once, for a loop and for a one-shot with early notes and a ring-out."""
    offsets = np.where(GROOVE.hits, 0.3, 0.0).astype(np.float32)
    offsets[0] = np.where(GROOVE.hits[0], -0.45, 0.0)  # early downbeats: wrapped to the loop's end
    timed = Pattern(GROOVE.velocities, offsets)
    for name, ropts in (("loop.wav", r.RenderOptions()), ("one.flac", r.RenderOptions(loop=False, rate=44100))):
        whole = r.render_patterns([GROOVE, timed] * 3, ExportOptions(bpm=240, swing=60), ropts)
        path = r.write_audio(tmp_path / name, [GROOVE, timed] * 3, ExportOptions(bpm=240, swing=60), ropts)
        samples, _ = soundfile.read(str(path), dtype="int32")
        assert samples.shape == whole.shape
        expected = np.clip(np.round(whole.astype(np.float64) * 2**23), -2**23, 2**23 - 1)
        assert np.abs(samples // 256 - expected).max() <= 1  # 24-bit rounding


def _peak_rss_mb(argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "drumfont", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()
    return usage.ru_maxrss / 1024


def test_render_memory_does_not_grow_with_the_song(tmp_path):
    """Issue 21.13: render held the whole song (and a normalised copy, and the encoded file) in
    memory: 10,000 bars tried to allocate 7.2 GB. Streamed, 500 bars at 300 BPM (400 s, 147 MB
    as one float32 array) take no more than one bar does, give or take 40 MB."""
    from drumfont.score.pattern import to_text

    bar = tmp_path / "bar.txt"
    bar.write_text(to_text(GROOVE))
    sizes = {}
    for bars in (1, 500):
        sizes[bars] = _peak_rss_mb(["render", "--pattern", str(bar), "--bars", str(bars), "--bpm", "300",
                                    "-o", str(tmp_path / f"{bars}.wav")])
    assert sizes[500] - sizes[1] < 40, sizes
    assert soundfile.info(str(tmp_path / "500.wav")).frames == 500 * 4 * 60 // 300 * 48000


def test_a_wav_past_4_gb_is_refused_before_any_work(tmp_path):
    """A .wav's sizes are 32-bit: 5.8 GB of 10,000 bars at 120 BPM cannot be stated in one; .flac can."""
    with pytest.raises(AudioError, match="a .wav holds at most 4.3 GB"):
        r.write_audio(tmp_path / "long.wav", [GROOVE] * 10_000)
    assert not list(tmp_path.iterdir())


def test_bad_requests_are_clear_errors(tmp_path):
    with pytest.raises(AudioError, match=r"\.wav or \.flac"):
        r.write_audio(tmp_path / "x.mp3", [GROOVE])
    with pytest.raises(AudioError, match="44100 or 48000"):
        r.RenderOptions(rate=22050)
    with pytest.raises(AudioError, match="no patterns"):
        r.render_patterns([])
    assert not np.any(r.render_patterns([Pattern.empty()]))  # a silent bar is silence, not an error


def test_render_and_export_audio_commands(tmp_path, capsys):
    from drumfont.cli import main
    from drumfont.score.pattern import to_text

    bar = tmp_path / "bar.txt"
    bar.write_text(to_text(GROOVE))
    out = tmp_path / "bar.flac"
    assert main(["render", "--pattern", str(bar), "--bars", "2", "--bpm", "90", "-o", str(out)]) == 0
    info = soundfile.info(str(out))
    assert info.format == "FLAC" and abs(info.duration - 2 * 4 * 60 / 90) < 1e-3
    assert main(["render", "--pattern", str(bar), "-o", str(out)]) == 2          # no --force
    assert "exists" in capsys.readouterr().err
    assert main(["render", "--style", "rock", "--rules", "-n", "2", "-o", str(tmp_path / "x.ogg")]) == 2
    # a genre the real model knows and the rules do not: the model's list decides
    assert main(["render", "--style", "funk", "-n", "1", "--seed", "1", "-o", str(tmp_path / "f.wav")]) == 0
    assert main(["render", "--style", "funk", "--rules", "-n", "1", "-o", str(tmp_path / "r.wav")]) == 2
    assert "unknown genre 'funk'" in capsys.readouterr().err
    assert main(["export", "--style", "rock", "--rules", "-n", "2", "--out", str(tmp_path / "ex"),
                 "--audio", "--seed", "1"]) == 0
    names = sorted(p.name for p in (tmp_path / "ex").iterdir())
    assert names == ["rock-001.mid", "rock-001.wav", "rock-002.mid", "rock-002.wav"]
