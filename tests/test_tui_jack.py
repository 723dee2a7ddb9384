"""The studio's default player end to end: its own clock process, the virtual 'drumfont' port on a
real JACK server (dummy driver, from conftest.py), a JACK MIDI monitor as the witness. Asserts what
arrives, never when."""

from __future__ import annotations

import time

import pytest

from drumfont.notemap import GM
from tui_helpers import build_app, settle, wait_until

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
