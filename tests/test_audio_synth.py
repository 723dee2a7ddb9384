"""The kit: SoundFont lookup and validation, rendering into buffers."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.audio import synth
from drumfont.errors import AudioError

pytest.importorskip("fluidsynth", reason="pyfluidsynth or libfluidsynth3 is not installed")


def test_default_soundfont_is_pretty_midis_gm_kit():
    path = synth.resolve_soundfont()
    assert path.name == "TimGM6mb.sf2" and "pretty_midi" in str(path)


def test_setting_and_flag_choose_the_soundfont(tmp_path, monkeypatch):
    fake = tmp_path / "fake.sf2"
    fake.write_bytes(b"not a soundfont")
    with pytest.raises(AudioError, match="not a SoundFont"):
        synth.resolve_soundfont(fake)
    monkeypatch.setenv(synth.SOUNDFONT_SETTING, str(tmp_path / "missing.sf2"))
    with pytest.raises(AudioError, match="cannot read"):
        synth.resolve_soundfont()
    assert synth.resolve_soundfont(synth.default_soundfont()).exists()   # the flag wins


def test_kit_strikes_a_note_at_the_frame_it_is_asked_to():
    kit = synth.Kit(rate=44100)
    try:
        buf = np.zeros((4410, 2), np.float32)
        kit.render_into(buf, 0, 640)           # ten of FluidSynth's 64-frame blocks of silence
        kit.note_on(38, 110)
        kit.render_into(buf, 640)
        loud = np.flatnonzero(np.abs(buf).max(axis=1) > 1e-4)
        assert not buf[:640].any() and 640 <= loud[0] < 640 + 64 + 32
        with pytest.raises(ValueError):
            kit.render_into(np.zeros((10, 2), np.float64))
    finally:
        kit.close()
        kit.close()


def test_a_damaged_soundfont_is_one_line_with_fluidsynths_reason(tmp_path, capfd):
    """Issue 21.18: a cut .sf2 passes the RIFF/sfbk check, then FluidSynth and libinstpatch printed
    four lines to fd 2 before drumfont's one; they are caught and the first reason quoted."""
    from drumfont.cli import main

    cut = tmp_path / "cut.sf2"
    cut.write_bytes(synth.default_soundfont().read_bytes()[:100_000])
    assert main(["render", "--style", "rock", "--rules", "-n", "1", "-o", str(tmp_path / "r.wav"),
                 "--soundfont", str(cut)]) == 2
    out, err = capfd.readouterr()
    assert err.count("\n") == 1 and "could not load this SoundFont (SoundFont file size mismatch)" in err, err
