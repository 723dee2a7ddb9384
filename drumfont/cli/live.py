"""`drumfont play | ports | tui`: the live player and the studio."""

from __future__ import annotations

import argparse
from pathlib import Path

from drumfont.audio.engine import AudioSpec
from drumfont.cli.common import PHRASE_PRESET_HELP, PRESET_HELP, add_timing, say, temperature_help
from drumfont.drums.engine import load_engine
from drumfont.errors import DrumfontError
from drumfont.live import link as lk
from drumfont.live import play
from drumfont.live.ports import BACKENDS, PortSpec
from drumfont.score.genres import GENRES
from drumfont.score.midifile import kept_tempo, midi_tempo
from drumfont.score.phrase import song_bars
from drumfont.validate import arg, form_arg, phrase_length, total_bars


def _add_play(sub) -> None:
    p = sub.add_parser("play", help="stream patterns live into a DAW over MIDI (clock out, follow, Ableton Link)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--style", default=None, help=f"genre to sample (default rock): {', '.join(GENRES)}")
    src.add_argument("--file", default=None, help="play the drum bars of a .mid file")
    src.add_argument("--pattern", default=None, help="play a pattern in the text form (KK x...x...) from a file")
    p.add_argument("--count", type=arg("count"), default=4, help="bars (with --phrase: phrases) to sample with --style")
    p.add_argument("--phrase", type=phrase_length, default=1,
                   help="with --style: play phrases of 1 (single bars, the default), 2, 4 or 8 bars, a fill in the last")
    p.add_argument("--song", type=form_arg, default=None, metavar="FORM",
                   help='with --style: play a song laid out as "intro:4,verse:8,..." once through (--forever loops it)')
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for --style")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the VAE"))
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    p.add_argument("--rules", action="store_true", help="with --style: draw from the genre rules, not the VAE")
    p.add_argument("--phrase-preset", default=None, help=PHRASE_PRESET_HELP)
    p.add_argument("--repeat", type=arg("bars"), default=1,
                   help="times each pattern (with --phrase: each phrase) plays before the next")
    dest = p.add_mutually_exclusive_group()
    dest.add_argument("--virtual", default=None, metavar="NAME", help="create a virtual output (default 'drumfont')")
    dest.add_argument("--port", default=None, metavar="NAME", help="open an existing output (substring of its name)")
    _add_backend(p)
    add_timing(p, "tempo 20-300 (default: the --file's, else 120); with --follow or --link the leader's or the "
               "session's tempo leads", None)
    p.add_argument("--notemap", default="gm", help="output note map: gm, a preset name or a .json file")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--bars", type=arg("play_bars"), default=None, help="stop after N bars")
    length.add_argument("--forever", action="store_true", help="play until Ctrl-C (the default)")
    p.add_argument("--clock-out", action="store_true", help="send MIDI clock and Start/Stop as leader "
                   "(with --link: at the session's tempo)")
    lead = p.add_mutually_exclusive_group()
    lead.add_argument("--follow", default=None, metavar="PORT", help="lock to the MIDI clock arriving on an input")
    lead.add_argument("--link", action="store_true", help="join an Ableton Link session: its tempo, bar lines "
                      "and start/stop (needs drumfont[link])")
    p.add_argument("--quantum", type=arg("quantum"), default=None,
                   help=f"with --link: beats between the bar lines drumfont starts on (default {lk.DEFAULT_QUANTUM})")
    p.add_argument("--audio", action="store_true", help="play the built-in drum kit (with --port/--virtual: "
                   "beside MIDI; alone: no MIDI port is opened)")
    p.add_argument("--audio-device", default=None, metavar="NAME",
                   help="with --audio: an audio output (part of its name, or of its host API's: 'JACK')")
    p.add_argument("--soundfont", default=None, help="with --audio: a SoundFont .sf2 (default: the GM kit)")
    p.set_defaults(run=_run_play)


def _run_play(args: argparse.Namespace) -> int:
    if args.quantum is not None and not args.link:
        raise DrumfontError("--quantum sets the bar lines of a Link session: add --link")
    if args.link and lk.missing():   # before a model is loaded or a port opened
        raise DrumfontError(lk.missing())
    if (args.file or args.pattern) and (args.phrase > 1 or args.song):
        raise DrumfontError(f"{'--song' if args.song else '--phrase'} draws from a genre: use it with --style, "
                            "not --file or --pattern")
    if args.song and args.phrase > 1:
        raise DrumfontError("--song and --phrase both say what to play: give one")
    repeat, bars = args.repeat, args.bars
    if args.file:
        patterns = play.patterns_from_midi(args.file)
    elif args.pattern:
        patterns = play.patterns_from_text_file(args.pattern)
    else:
        style = (args.style or "rock").lower()
        eng = load_engine(args.preset, args.rules, phrase_preset=args.phrase_preset)
        if eng.name == "rules" and not args.rules:
            say(f"drumfont: note: {eng.reason}")
        # the engine checks the genre against the rules or the model it samples from
        if args.song:
            total_bars(sum(n for _, n in args.song), repeat, "--song with --repeat")
            sections = eng.song(style, args.song, args.temperature, args.seed)
            patterns = song_bars(sections)[0] * repeat
            repeat = 1
            if bars is None and not args.forever:  # a song plays once through
                bars = len(patterns)
            say("song: " + ", ".join(f"{s.name} {len(s)}" for s in sections) + f" ({len(patterns)} bars)")
        elif args.phrase > 1:
            total_bars(args.count * args.phrase, repeat, f"--count {args.count} phrases of {args.phrase} with --repeat")
            phrases = eng.phrases(style, args.count, args.phrase, "end", args.temperature, args.seed)
            patterns = [b for ph in phrases for b in list(ph.bars) * repeat]
            repeat = 1
        else:
            patterns = eng.bars(style, args.count, args.temperature, args.seed)
        if args.song or args.phrase > 1:
            if eng.phrase_reason and not args.rules:
                say(f"drumfont: note: {eng.phrase_reason}")
    if bars is not None and bars < 1:
        raise DrumfontError("--bars must be at least 1")
    spec = PortSpec(name=args.port, virtual=args.virtual or "drumfont", backend=args.backend)
    audio = None
    if args.audio:
        audio = AudioSpec(device=args.audio_device, soundfont=args.soundfont)
    bpm = kept_tempo(args.bpm, midi_tempo(args.file) if args.file else None, args.file)
    play.play(patterns, spec, bpm=bpm, swing=args.swing, gate=args.gate, notemap=args.notemap,
              bars=bars, repeat=repeat, clock_out=args.clock_out, follow=args.follow,
              swing_timed=args.swing_timed, audio=audio,
              midi=not args.audio or bool(args.port or args.virtual),
              link=(args.quantum or lk.DEFAULT_QUANTUM) if args.link else None)
    return 0


def _add_backend(p: argparse.ArgumentParser) -> None:
    """--backend, the same for play, ports and the studio (the MIDI error's advice names it)."""
    p.add_argument("--backend", default=None, choices=tuple(BACKENDS),
                   help="MIDI system (default: MIDO_BACKEND, else the first that starts)")


def _add_ports(sub) -> None:
    p = sub.add_parser("ports", help="list MIDI outputs and inputs per backend, and the Ableton Link session")
    _add_backend(p)
    p.add_argument("--no-link", action="store_true", help="do not look for a Link session (it takes up to "
                   f"{lk.ENABLE_DELAY_S + lk.PROBE_WAIT_S:g} s where aalink is installed)")
    p.set_defaults(run=_run_ports)


def _run_ports(args: argparse.Namespace) -> int:
    print(play.show_ports(args.backend, link=not args.no_link))
    return 0


def _add_tui(sub) -> None:
    p = sub.add_parser("tui", help="the studio: sample, edit, morph, play and export in the terminal")
    p.add_argument("--data-dir", default=None,
                   help="where the session autosaves (default: $DRUMFONT_DATA_DIR, else the user data folder)")
    p.add_argument("--export-dir", default=None, help="folder the export prompt starts in (default: here)")
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    p.add_argument("--rules", action="store_true", help="draw from the genre rules, not the VAE")
    p.add_argument("--phrase-preset", default=None, help=PHRASE_PRESET_HELP)
    p.add_argument("--no-midi", action="store_true", help="do not open a MIDI port")
    _add_backend(p)
    p.add_argument("--no-audio", action="store_true", help="do not play the built-in kit on an audio output")
    p.add_argument("--audio-device", default=None, metavar="NAME",
                   help="audio output for the kit: part of its name or of its host API's ('JACK')")
    p.add_argument("--notemap", default=None, help="output note map: gm, tr8s, drumrack or a .json file "
                   "(default: the session's, gm at first)")
    p.set_defaults(run=_run_tui)


def _run_tui(args: argparse.Namespace) -> int:
    from drumfont.tui.app import make_app  # noqa: PLC0415 (textual (0.4 s with the app), paid only by the studio)

    app = make_app(args.data_dir, export_dir=Path(args.export_dir) if args.export_dir else None,
                   preset=args.preset, rules=args.rules, midi=not args.no_midi, notemap=args.notemap,
                   phrase_preset=args.phrase_preset,
                   audio=not args.no_audio, audio_device=args.audio_device, midi_backend=args.backend)
    app.run()
    return 0


SUBCOMMANDS = [_add_play, _add_ports, _add_tui]
