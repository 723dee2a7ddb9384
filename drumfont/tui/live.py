"""Opening the live player from the studio (any thread)."""

from __future__ import annotations

from typing import Any

from drumfont import studio as st


def open_live_player(transport: st.Transport, port: Any = None, **player_kwargs: Any) -> Any:
    """The live player on the transport's port (a virtual 'drumfont' port by default), opened;
    `port` may be any object with send(msg), e.g. a RecordingPort. LiveMidiError without MIDI."""
    from drumfont.live import Player, PortSpec

    target = port if port is not None else PortSpec(name=transport.port, virtual="drumfont")
    player = Player(port=target, notemap=transport.notemap, bpm=transport.bpm, swing=transport.swing,
                    gate=transport.gate, clock_out=transport.clock_out, **player_kwargs)
    return player.open()
