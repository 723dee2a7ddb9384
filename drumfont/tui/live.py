"""Opening the live player from the studio (any thread)."""

from __future__ import annotations

from typing import Any

from drumfont.audio.engine import AudioSpec
from drumfont.live import Player, PortSpec
from drumfont.tui import session as st


def open_live_player(transport: st.Transport, port: Any = None, audio_device: str | None = None,
                     backend: str | None = None, **player_kwargs: Any) -> Any:
    """The live player on the transport's outputs, opened: the MIDI port (a virtual 'drumfont'
    port by default, on `backend` or the first MIDI system that starts; `port` may be any object
    with send(msg), e.g. a RecordingPort) and/or the built-in kit on an audio output.
    LiveMidiError when nothing can play."""
    midi = transport.output in ("both", "midi")
    audio = None
    if transport.output in ("both", "audio"):
        audio = AudioSpec(device=audio_device)
    target = port if port is not None and midi else PortSpec(name=transport.port, virtual="drumfont", backend=backend)
    player = Player(port=target, notemap=transport.notemap, bpm=transport.bpm, swing=transport.swing,
                    gate=transport.gate, clock_out=transport.clock_out, midi=midi, audio=audio,
                    **player_kwargs)
    return player.open()
