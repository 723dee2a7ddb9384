"""Quieting the C libraries (ALSA, JACK, PortAudio, FluidSynth) that print to fd 2: the live
player and the audio kit both use it, so it sits on the ground floor. `caught_stderr` keeps what
they said, for a one-line error that quotes their reason."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Iterator


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the C libraries (ALSA, JACK, PortAudio) that print to fd 2 while we probe for a
    system: our own message says what went wrong instead, and in the studio they would scribble
    over the screen. The fd comes from sys.__stderr__, because Textual swaps sys.stderr for an
    object without one while the C libraries still write to the real fd 2."""
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved = os.dup(fd)
    except (AttributeError, OSError, ValueError):
        yield
        return
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@contextlib.contextmanager
def caught_stderr() -> Iterator[list[str]]:
    """quiet_stderr that keeps what was said: the list yielded holds the lines the C libraries
    wrote to fd 2, once the block has ended (a temp file catches them, not a pipe that a chatty
    library could fill and block on)."""
    lines: list[str] = []
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved = os.dup(fd)
    except (AttributeError, OSError, ValueError):
        yield lines
        return
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()
    with tempfile.TemporaryFile() as caught:
        try:
            os.dup2(caught.fileno(), fd)
            yield lines
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            caught.seek(0)
            text = caught.read(64 * 1024).decode("utf-8", "replace")
            lines += [line.strip() for line in text.splitlines() if line.strip()]
