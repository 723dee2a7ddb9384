"""Opening the live player from the studio (any thread), with the stderr that spawn needs."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

from drumfont import studio as st


def open_live_player(transport: st.Transport, port: Any = None, **player_kwargs: Any) -> Any:
    """The live player on the transport's port (a virtual 'drumfont' port by default), opened;
    `port` may be any object with send(msg), e.g. a RecordingPort. LiveMidiError without MIDI."""
    from drumfont.live import Player, PortSpec

    target = port if port is not None else PortSpec(name=transport.port, virtual="drumfont")
    player = Player(port=target, notemap=transport.notemap, bpm=transport.bpm, swing=transport.swing,
                    gate=transport.gate, clock_out=transport.clock_out, **player_kwargs)
    with _real_stderr():
        return player.open()


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """Textual swaps sys.stderr for an object whose fileno() is -1, and multiprocessing's spawn
    (the player's clock process, its resource tracker) passes that number on and fails: hand it
    the process's real stderr while the clock starts."""
    saved = sys.stderr
    try:
        ok = saved is not None and saved.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        ok = False
    if not ok and sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = saved
