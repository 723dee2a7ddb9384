"""`drumfont play` and `drumfont ports`: where the bars come from, and the loop that shows the
playhead until the bars run out, Ctrl-C or SIGTERM (the Player silences every note on the way
out: the note-offs of what sounds, then All Notes Off)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any, Callable, TextIO

from drumfont.errors import DrumfontError, PatternError
from drumfont.live import link as lk
from drumfont.live.player import Player
from drumfont.live.ports import PortSpec, list_ports
from drumfont.score.midifile import read_patterns
from drumfont.score.pattern import STEPS, Pattern, from_text
from drumfont.validate import read_text


def patterns_from_text_file(path: str) -> list[Pattern]:
    """One pattern in the text form (`KK x...x...`), from a file."""
    text = read_text(path, what="pattern text file")  # regular, capped, UTF-8
    try:
        return [from_text(text)]
    except PatternError as exc:
        raise PatternError(f"{path}: {exc}") from None


def patterns_from_midi(path: str, all_channels: bool = False) -> list[Pattern]:
    """The 4/4 drum bars of a .mid file."""
    return read_patterns(path, all_channels)


def format_ports(listing: dict) -> str:
    """The `drumfont ports` table."""
    lines = []
    for backend, found in listing.items():
        if "error" in found:
            lines.append(f"{backend}: unavailable - {found['error']}")
            continue
        lines.append(f"{backend}:")
        for kind in ("outputs", "inputs"):
            names = found[kind]
            lines.append(f"  {kind}: " + ("(none)" if not names else ""))
            lines.extend(f"    {n}" for n in names)
    return "\n".join(lines)


def show_ports(backend: str | None = None, link: bool = True) -> str:
    """List MIDI ports per backend, and (with `link`) the Ableton Link session on the network."""
    text = format_ports(list_ports(backend))
    return text + "\n" + lk.probe() if link else text


class _Terminated(Exception):
    """SIGTERM arrived while playing: leave as Ctrl-C does, through the Player's silencing."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def play(patterns: list[Pattern], spec: PortSpec, *, bpm: float = 120.0, swing: float = 50.0,
         gate: float = 0.5, notemap: str | None = None, bars: int | None = None, repeat: int = 1,
         clock_out: bool = False, follow: str | None = None, out: TextIO | None = None,
         interval: float = 0.05, should_stop: Callable[[], bool] = lambda: False,
         swing_timed: bool = False, audio: Any = None, midi: bool = True, link: int | None = None) -> int:
    """Play a chain (each pattern `repeat` bars, looping) until `bars` have played, Ctrl-C or
    SIGTERM; a leader's Stop (follow mode) or a Link session's stop pauses it until they start
    again. Shows the playhead on one line. Returns bars played. `audio` (an audio.engine.AudioSpec)
    also plays the built-in kit; `midi=False` opens no port; `link`: join an Ableton Link session
    with this quantum (its tempo and bar lines lead; `bpm` is the tempo only where drumfont is
    the first in the session)."""
    if not patterns:
        raise DrumfontError("nothing to play: no patterns")
    if repeat < 1:
        raise DrumfontError("--repeat must be at least 1")
    if link is not None and follow:
        raise DrumfontError("--link and --follow both lead the tempo: choose one")
    out = out if out is not None else sys.stdout  # looked up now: a redirected stdout is honoured
    tty = out.isatty()
    player = Player(port=spec, notemap=notemap, bpm=bpm, swing=swing, gate=gate, clock_out=clock_out,
                    bars=bars, swing_timed=swing_timed, audio=audio, midi=midi, link=link)
    last_bar = -1
    player.open()
    # SIGTERM (a service manager, `timeout`, kill) leaves like Ctrl-C, so that the notes sounding
    # are ended and the closing line is printed; only the main thread may set a handler. (Before
    # this point the default action ends the process, and the clock process, seeing its pipe
    # close, silences its port all the same.)
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        if player.priority == "normal":
            print("note: the MIDI clock runs at normal priority; on a busy machine allow real-time "
                  "scheduling (e.g. an rtprio limit for the 'audio' group) for tighter timing", file=out)
        for what, why in player.off.items():
            print(f"note: {what} is off: {why}", file=out)
        outputs = " and ".join(x for x in (player.port_name, player.audio_name) if x)
        player.set_chain([(p, repeat) for p in patterns], loop=True)
        if follow:
            player.follow(follow, spec.backend)
            print(f"playing to {outputs}; waiting for MIDI clock on {follow!r} (Ctrl-C to quit)",
                  file=out, flush=True)
        elif link is not None:
            player.start()
            peers, _ = player.link_state() or (0, False)
            who = f"with {peers} Link peer{'s' if peers != 1 else ''}" if peers else "alone in a new Link session"
            print(f"playing {len(patterns)} pattern{'s' if len(patterns) > 1 else ''} to {outputs} "
                  f"{who} at {player.bpm():g} BPM, from its next bar line (quantum {link}; Ctrl-C to stop)",
                  file=out, flush=True)
        else:
            player.start()
            print(f"playing {len(patterns)} pattern{'s' if len(patterns) > 1 else ''} to {outputs} "
                  f"at {bpm:g} BPM (Ctrl-C to stop)", file=out, flush=True)
        while not player.ended() and not should_stop():
            for kind, *rest in player.notices():
                if kind in ("error", "ok"):
                    print(("\r\033[K" if tty else "") + ("error: " if kind == "error" else "") + str(rest[0]),
                          file=out, flush=True)
                elif rest[-1:] == ["link"]:
                    what = ("started" if kind == "started" else
                            "stopped; waiting for it to start again (Ctrl-C to quit)")
                    print(("\r\033[K" if tty else "") + f"the Link session {what}", file=out, flush=True)
            if not player.alive():
                raise DrumfontError("the MIDI clock stopped unexpectedly")
            head = player.playhead()
            if head is not None:
                bar, step = head
                if tty:
                    out.write(f"\r\033[Kbar {bar + 1:4d}  step {step + 1:2d}/{STEPS}  "
                              f"{player.bpm():6.1f} BPM")
                    out.flush()
                elif bar != last_bar:
                    print(f"bar {bar + 1}", file=out, flush=True)
                last_bar = max(last_bar, bar)
            elif (follow or link is not None) and tty:
                out.write("\r\033[Kwaiting for " + ("clock" if follow else "the Link session to start"))
                out.flush()
            time.sleep(interval)
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, old_term)
        underruns, late = player.audio_counts()
        player.close()
        if tty:
            out.write("\r\033[K")
        tail = f"; audio: {underruns} underruns, {late} late notes" if player.audio_name else ""
        print(f"stopped after {last_bar + 1} bar{'s' if last_bar != 0 else ''}; all notes off{tail}",
              file=out, flush=True)
    return last_bar + 1
