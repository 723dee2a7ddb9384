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
