"""The studio's default player end to end: its own clock process, the virtual 'drumfont' port on a
real JACK server (dummy driver, from conftest.py), a JACK MIDI monitor as the witness. Asserts what
arrives, never when."""

from __future__ import annotations

import time

import numpy as np
import pytest
from tui_helpers import build_app, settle, wait_until

from drumfont.score.notemap import GM

pytestmark = pytest.mark.usefixtures("jack_server")


async def test_space_plays_the_bar_into_the_virtual_port(tmp_path, jack_monitor, monkeypatch):
    from drumfont.tui.app import open_live_player

    monkeypatch.setenv("MIDO_BACKEND", "mido.backends.rtmidi/UNIX_JACK")
    app = build_app(tmp_path, player_factory=open_live_player)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.player is not None or "MIDI" in (app.player_reason or ""),
                                timeout=20)
        assert app.player is not None, app.player_reason
        assert app.player.port_name == "drumfont"
        mon = jack_monitor("drumfont:drumfont")
        await pilot.press(*["right_curly_bracket"] * 8)   # 200 BPM
        bar = app.studio.current
        await pilot.press("space")
        assert await wait_until(pilot, lambda: app.player.playhead() is not None and
                                app.player.playhead()[0] >= 1, timeout=15)
        await pilot.press("space")
        await pilot.pause(0.2)
        time.sleep(0.1)
        got = [m for _, m in mon.stop()]
    ons = [m for m in got if m[0] == 0x99 and m[2] > 0]
    expected = {(GM.note(v), int(bar.velocities[s, v])) for s, v in zip(*bar.hits.nonzero())}
    assert ons, "nothing reached the port"
    assert {(m[1], m[2]) for m in ons} == expected  # every hit of the bar, and nothing else
    assert len(ons) >= len(expected)                  # at least one whole bar
    assert (0xB9, 123, 0) in got                      # All Notes Off at stop


async def test_space_plays_the_built_in_kit_and_v_auditions(tmp_path, jack_audio):
    """The studio with no MIDI at all: the kit plays from the player's process into JACK."""
    from functools import partial

    from jack_audio import JackRecorder, kit_ports

    from drumfont.tui.app import open_live_player

    app = build_app(tmp_path, player_factory=partial(open_live_player, audio_device="JACK"),
                    midi=False, audio=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.player is not None or app.player_reason
                                not in (None, "opening the player"), timeout=20)
        assert app.player is not None, app.player_reason
        assert app.player.audio_name.startswith("JACK") and app.player.port_name == ""
        assert "audio: system" in str(app.query_one("#side").render())
        rec = JackRecorder(kit_ports(), 10)
        await pilot.press("v")                      # audition while stopped
        await pilot.pause(0.4)
        time.sleep(0.1)
        await pilot.press(*["right_curly_bracket"] * 8, "space")
        assert await wait_until(pilot, lambda: app.player.playhead() is not None and
                                app.player.playhead()[0] >= 1, timeout=15)
        await pilot.press("space")
        await pilot.pause(0.3)
        audio = rec.stop()
    from drumfont.audio.onsets import detect_onsets

    found = detect_onsets(audio, rec.rate)
    hits_per_bar = len(set(app.studio.current.hits.nonzero()[0].tolist()))
    assert np.abs(audio).max() > 0.05
    assert len(found) >= 1 + hits_per_bar // 2   # the audition, and the bar's onsets as it played
