"""`drumfont export | render | song | continue | interpolate | transfer | humanize | drumify` and
`report vae`."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from drumfont.atomic import check_writable, write_atomic
from drumfont.cli.common import (
    PHRASE_PRESET_HELP,
    PRESET_HELP,
    add_midi_out,
    add_timing,
    export_options,
    require_training,
    say,
    temperature_help,
)
from drumfont.drums.engine import FILLS, Engine, load_engine
from drumfont.errors import DrumfontError
from drumfont.score.genres import GENRES
from drumfont.score.midifile import (
    ExportOptions,
    file_bpm,
    import_bytes,
    kept_tempo,
    midi_tempo,
    read_midi_bytes,
    read_patterns,
    to_midi_bytes,
    write_midi,
)
from drumfont.score.notemap import load_notemap
from drumfont.score.pattern import Pattern
from drumfont.score.phrase import Phrase, song_bars
from drumfont.score.retime import read_taps, retime_drums
from drumfont.validate import MAX_MODEL_BARS, MIDI_OUT, RANGES, arg, form_arg, phrase_length, total_bars


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="sample bars or phrases of a genre and write them as .mid files")
    p.add_argument("--style", required=True, help=f"genre: {', '.join(GENRES)} (the rules: the first five)")
    p.add_argument("-n", type=arg("n"), default=16, help="number of bars, or of phrases with --phrase (1-10000)")
    p.add_argument("--phrase", type=phrase_length, default=1,
                   help="bars in a phrase: 1 (default: single bars, as always), 2, 4 or 8; each file one phrase")
    p.add_argument("--fill", choices=FILLS, default=None,
                   help="end: a fill in each phrase's last bar (the default for --phrase 2-8); none: no fill")
    p.add_argument("--phrase-preset", default=None, help=PHRASE_PRESET_HELP)
    p.add_argument("--out", default="drumfont-export", help="output folder (default ./drumfont-export)")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output (0-2**32-1)")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the VAE"))
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    p.add_argument("--rules", action="store_true", help="draw from the genre rules, not the VAE")
    p.add_argument("--single-file", action="store_true", help="chain all bars into one file")
    p.add_argument("--audio", nargs="?", const="wav", choices=("wav", "flac"), default=None,
                   help="also write each file as audio on the built-in kit, beside the .mid (default wav)")
    p.add_argument("--soundfont", default=None, help="with --audio: a SoundFont .sf2 (default: the GM kit)")
    add_midi_out(p)
    p.set_defaults(run=_run_export)


def _engine(args: argparse.Namespace) -> Engine:
    """The drum engine the options ask for; a missing shipped model falls back to the rules, said once."""
    eng = load_engine(args.preset, args.rules, phrase_preset=getattr(args, "phrase_preset", None))
    if eng.name == "rules" and not args.rules:
        say(f"drumfont: note: {eng.reason}")
    return eng


def _phrase_note(eng: Engine, args: argparse.Namespace) -> None:
    """Say once, after the phrases were drawn, when no phrase model played them (and what did)."""
    if eng.phrase_reason and not getattr(args, "rules", False):
        say(f"drumfont: note: {eng.phrase_reason}")


def _run_export(args: argparse.Namespace) -> int:
    from drumfont.drums import export  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    opts = export_options(args, f"drumfont {args.style}")
    if args.audio:
        from drumfont.audio import render  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

        ropts = render.RenderOptions(soundfont=args.soundfont)
        render.check_render(ropts)  # the synth and SoundFont before any .mid is written
    if args.phrase == 1 and args.fill is None:  # single bars: today's command, byte for byte
        targets = export.export_targets(args.style, args.n, Path(args.out), opts, args.single_file)
        sounds = tuple(t.with_suffix(f".{args.audio}") for t in targets) if args.audio else ()
        written = export.export_genre(_engine(args), args.style, args.n, Path(args.out), opts, seed=args.seed,
                                      temperature=args.temperature, single_file=args.single_file,
                                      force=args.force, also=sounds)
    else:
        targets = export.phrase_targets(args.style, args.n, args.phrase, Path(args.out), opts, args.single_file)
        sounds = tuple(t.with_suffix(f".{args.audio}") for t in targets) if args.audio else ()
        eng = _engine(args)
        written = export.export_phrases(eng, args.style, args.n, args.phrase, args.fill or "end", Path(args.out),
                                        opts, seed=args.seed, temperature=args.temperature,
                                        single_file=args.single_file, force=args.force, also=sounds)
        _phrase_note(eng, args)
        opts = replace(opts, bars_per_pattern=1)  # the chains hold each phrase's repeats
    for path, _ in written:
        print(path)
    if args.audio:
        for sound, (_, chain) in zip(sounds, written):
            print(render.write_audio(sound, chain, opts, ropts, force=args.force))
    return 0


def _add_render(sub) -> None:
    p = sub.add_parser("render", help="render bars to a .wav/.flac with the built-in drum kit")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("input", nargs="?", default=None, help="a .mid file: render its drum bars")
    src.add_argument("--style", default=None, help=f"sample bars of a genre: {', '.join(GENRES)}")
    src.add_argument("--pattern", default=None, help="a pattern in the text form (KK x...x...) from a file")
    p.add_argument("-o", "--out", required=True, help="audio file to write: .wav or .flac")
    p.add_argument("-n", type=arg("n"), default=4, help="bars to sample with --style")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for --style")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the VAE"))
    p.add_argument("--preset", default=None, help="a VAE checkpoint of your own")
    p.add_argument("--rules", action="store_true", help="with --style: draw from the genre rules, not the VAE")
    p.add_argument("--bpm", type=arg("bpm"), default=None,
                   help="tempo (20-300; default: the input .mid's, else 120)")
    p.add_argument("--swing", type=arg("swing"), default=50.0, help="MPC swing %% (50 straight .. 75)")
    p.add_argument("--bars", type=arg("bars"), default=1, help="bars to repeat each pattern")
    p.add_argument("--soundfont", default=None, help="a SoundFont .sf2 (default: $DRUMFONT_SOUNDFONT, "
                   "else the GM kit TimGM6mb that pretty_midi installs)")
    p.add_argument("--rate", type=int, default=48000, choices=(44100, 48000), help="sample rate")
    p.add_argument("--one-shot", action="store_true",
                   help="let the last notes ring out after the end (default: a seamless loop)")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    p.set_defaults(run=_run_render)


def _run_render(args: argparse.Namespace) -> int:
    from drumfont.audio import render  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)
    from drumfont.live.play import patterns_from_text_file  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    render.audio_format(args.out)
    check_writable(args.out, args.force)  # before any sampling
    bpm = kept_tempo(args.bpm, midi_tempo(args.input) if args.input else None, args.input)
    opts = ExportOptions(bpm=bpm, swing=args.swing, bars_per_pattern=args.bars)
    ropts = render.RenderOptions(rate=args.rate, soundfont=args.soundfont, loop=not args.one_shot)
    render.check_render(ropts)  # before any sampling
    if args.input:
        patterns = read_patterns(args.input)
    elif args.pattern:
        patterns = patterns_from_text_file(args.pattern)
    else:
        # the engine checks the genre against the rules or the model it samples from
        patterns = _engine(args).bars(args.style.lower(), args.n, args.temperature, args.seed)
    print(render.write_audio(args.out, patterns, opts, ropts, force=args.force))
    return 0


def _add_interpolate(sub) -> None:
    p = sub.add_parser("interpolate", help="morph between two genres or .mid bars (or phrases), written as MIDI")
    p.add_argument("--from", dest="src", required=True, help="a genre name or a .mid file (its first bar, or phrase)")
    p.add_argument("--to", dest="dst", required=True, help="a genre name or a .mid file (its first bar, or phrase)")
    p.add_argument("--steps", type=arg("steps"), default=8, help="bars (phrases) in the morph, endpoints included (2-1000)")
    p.add_argument("--level", choices=("high", "low", "both"), default="both",
                   help="move the style (high), the variation (low) or both")
    p.add_argument("--phrase", type=phrase_length, default=1,
                   help="morph phrases of 1 (single bars, the default), 2, 4 or 8 bars, bar by bar: a genre "
                   "endpoint is a phrase drawn from it (--seed; a fill in its last bar), a .mid one its first bars")
    p.add_argument("--seed", type=arg("seed"), default=None, help="with --phrase: seed of the genre endpoints' phrases")
    p.add_argument("--phrase-preset", default=None, help=PHRASE_PRESET_HELP)
    p.add_argument("-o", "--out", required=True, help=".mid file (with --split: a folder)")
    p.add_argument("--split", action="store_true", help="one file per step instead of one chain")
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    add_midi_out(p, tempo_of="the first .mid endpoint")
    p.set_defaults(run=_run_interpolate)


def _phrase_endpoint(eng: Engine, spec: str, bars: int, seed: int | None) -> Phrase:
    """A morph endpoint of `bars` bars: a .mid file's first bars (its fills found as they are
    played), or a phrase drawn from a genre (seeded, at the default temperature: at 0 the phrase
    model's most typical jazz phrase opened on a bar of one hit), a fill in the last bar."""
    if spec.lower().endswith((".mid", ".midi")) or Path(spec).is_file():
        found = read_patterns(spec)
        if len(found) < bars:
            raise DrumfontError(f"{spec}: has {len(found)} drum bar(s); --phrase {bars} needs {bars}")
        return eng.phrase_of(found[:bars])
    eng.endpoint(spec)  # an unknown genre (or no morph at all) is refused by name first
    return eng.phrase(spec.lower(), bars, "end", 1.0, seed)


def _run_interpolate(args: argparse.Namespace) -> int:
    if args.steps < 2:
        raise DrumfontError(f"--steps must be at least 2 (the two endpoints), got {args.steps}")
    out = Path(args.out)
    targets = ([out / f"morph-{i:03d}.mid" for i in range(1, args.steps + 1)] if args.split else [out])
    total_bars(args.steps * args.phrase, args.bars, f"--steps {args.steps} of --phrase {args.phrase}")
    for t in targets:  # refuse before any work, so nothing is half-written
        check_writable(t, args.force, MIDI_OUT, "interpolate")
    eng = load_engine(args.preset, phrase_preset=args.phrase_preset)
    ends = [eng.endpoint(args.src), eng.endpoint(args.dst)]
    files = [spec for spec, end in zip((args.src, args.dst), ends) if isinstance(end, Pattern)]  # .mid endpoints
    opts = export_options(args, "drumfont morph", kept_tempo(args.bpm, midi_tempo(files[0]) if files else None,
                                                             files[0] if files else ""))
    if args.phrase == 1:
        steps = [[b] for b in eng.interpolate(*ends, args.steps, args.level)]
    else:
        a, b = (_phrase_endpoint(eng, spec, args.phrase, args.seed) for spec in (args.src, args.dst))
        steps = [list(ph.bars) for ph in eng.interpolate_phrases(a, b, args.steps, args.level)]
    written = ([write_midi(t, s, opts, force=args.force) for t, s in zip(targets, steps)] if args.split
               else [write_midi(out, [b for s in steps for b in s], opts, force=args.force)])
    for path in written:
        print(path)
    return 0


def _add_transfer(sub) -> None:
    p = sub.add_parser("transfer", help="carry every bar of a .mid file into another genre (its fills stay fills)")
    p.add_argument("input", help="a .mid file with drums")
    p.add_argument("--to", dest="genre", required=True, help=f"target genre: {', '.join(GENRES)}")
    p.add_argument("-o", "--out", required=True, help=".mid file to write")
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    add_midi_out(p, tempo_of="the input")
    p.set_defaults(run=_run_transfer)


def _run_transfer(args: argparse.Namespace) -> int:
    check_writable(args.out, args.force, MIDI_OUT, "transfer")
    opts = export_options(args, f"drumfont {args.genre}", kept_tempo(args.bpm, midi_tempo(args.input), args.input))
    eng = load_engine(args.preset)
    played = eng.phrase_of(read_patterns(args.input, max_bars=MAX_MODEL_BARS))  # where the player's fills are
    out = eng.transfer_phrase(played, args.genre)
    print(write_midi(args.out, list(out.bars), opts, force=args.force))
    fills = sum(out.fills)
    say(f"transferred {len(out)} bar(s) to {args.genre.lower()}"
        + (f"; {fills} fill(s) kept as fills" if fills else ""))
    return 0


def _add_humanize(sub) -> None:
    p = sub.add_parser("humanize", help="give a drum file a drummer's dynamics and timing (same notes)")
    p.add_argument("input", help="a .mid file; its drum channel (10) is humanised, everything else kept")
    p.add_argument("-o", "--out", required=True, help=".mid file to write")
    p.add_argument("--style", default=None, help="genre to play it in (default: none in particular)")
    p.add_argument("--amount", type=arg("amount"), default=1.0, help="0 = unchanged .. 1 = fully humanised")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("how far from the model's typical playing"))
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output")
    p.add_argument("--all-channels", action="store_true", help="treat drum notes on every channel as drums")
    p.add_argument("--preset", default=None, help="a humanize checkpoint (default: the shipped one)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.set_defaults(run=_run_humanize)


def _run_humanize(args: argparse.Namespace) -> int:
    from drumfont.drums import groove  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    check_writable(args.out, args.force, MIDI_OUT, "humanize")
    data = read_midi_bytes(args.input)
    model = groove.load("humanize", args.preset)
    model.genre_index(args.style)  # an unknown genre fails before any work
    bpm = file_bpm(data, args.input)

    def transform(bars):
        return groove.humanize(bars, args.style, args.amount, args.temperature, args.seed, model, bpm)
    out, n = retime_drums(data, transform, args.input, args.all_channels, MAX_MODEL_BARS)
    print(write_atomic(args.out, out, force=args.force))
    say(f"humanised {n} bar(s)")
    return 0


def _add_drumify(sub) -> None:
    p = sub.add_parser("drumify", help="turn a tapped rhythm (any notes) into a full kit pattern")
    p.add_argument("input", help="a .mid file whose notes are the taps (any channel, any note)")
    p.add_argument("-o", "--out", required=True, help=".mid file to write (-n > 1: NAME-1.mid ...)")
    p.add_argument("--style", default=None, help="genre of the kit pattern (default: none in particular)")
    p.add_argument("-n", type=arg("n"), default=1, help="variations to write")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("how far the variations stray"))
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--channel", type=int, default=None, help="only notes on this channel (1-16) are taps")
    which.add_argument("--note", type=int, default=None, help="only this note number (0-127) is a tap")
    p.add_argument("--preset", default=None, help="a drumify checkpoint (default: the shipped one)")
    p.add_argument("--bpm", type=arg("bpm"), default=None, help="tempo written (default: the input's, else 120)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(run=_run_drumify)


def _run_drumify(args: argparse.Namespace) -> int:
    from drumfont.drums import groove  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    if args.channel is not None and not 1 <= args.channel <= 16:
        raise DrumfontError(f"--channel must be 1..16, got {args.channel}")
    if args.note is not None and not 0 <= args.note <= 127:
        raise DrumfontError(f"--note must be 0..127, got {args.note}")
    if args.n < 1:
        raise DrumfontError(f"-n must be at least 1, got {args.n}")
    out = Path(args.out)
    targets = [out] if args.n == 1 else [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, args.n + 1)]
    for t in targets:
        check_writable(t, args.force, MIDI_OUT, "drumify")
    opts = ExportOptions(bpm=kept_tempo(args.bpm, midi_tempo(args.input), args.input),
                         name=f"drumfont drumify {args.style or ''}".strip())
    model = groove.load("drumify", args.preset)
    model.genre_index(args.style)
    bars = read_taps(args.input, None if args.channel is None else args.channel - 1, args.note, MAX_MODEL_BARS)
    taps = [groove.taps_of(b) for b in bars]
    variations = groove.drumify(taps, args.style, args.n, args.temperature, args.seed, model)
    data = [to_midi_bytes(v, opts) for v in variations]  # every file made before any is written
    for t, d in zip(targets, data):
        print(write_atomic(t, d, force=args.force))
    say(f"drumified {len(bars)} bar(s), {args.n} variation(s)")
    return 0


def _add_song(sub) -> None:
    p = sub.add_parser("song", help="a song laid out by a form: each section a phrase, a fill and a crash at "
                       "every change of section")
    p.add_argument("--style", required=True, help=f"genre: {', '.join(GENRES)} (the rules: the first five)")
    p.add_argument("--form", required=True, type=form_arg,
                   help='sections as NAME:BARS, e.g. "intro:4,verse:8,chorus:8,outro:4" (names free text, '
                   f"{RANGES['section_bars'].text()} bars each, at most {int(RANGES['song_bars'].hi)} in all)")
    p.add_argument("-o", "--out", required=True, help=".mid file to write")
    p.add_argument("--audio", nargs="?", const="wav", choices=("wav", "flac"), default=None,
                   help="also render the song on the built-in kit, beside the .mid (default wav)")
    p.add_argument("--soundfont", default=None, help="with --audio: a SoundFont .sf2 (default: the GM kit)")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for a reproducible song (0-2**32-1)")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the phrase model"))
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    p.add_argument("--rules", action="store_true", help="draw from the genre rules, not the models")
    p.add_argument("--phrase-preset", default=None, help=PHRASE_PRESET_HELP)
    add_timing(p, "tempo written to the file (20-300)")
    p.add_argument("--notemap", default="gm", help="output note map: gm, tr8s, drumrack or a .json file")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(run=_run_song, bars=1)


def _run_song(args: argparse.Namespace) -> int:
    from drumfont.audio import render  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    out = Path(args.out)
    sound = out.with_suffix(f".{args.audio}") if args.audio else None
    check_writable(out, args.force, MIDI_OUT, "song")   # both refused before any work
    if sound is not None:
        check_writable(sound, args.force)
    ropts = render.RenderOptions(soundfont=args.soundfont, loop=False)
    if sound is not None:
        render.check_render(ropts)  # the synth and SoundFont before the .mid is written
    opts = export_options(args, f"drumfont {args.style} song")
    eng = _engine(args)
    sections = eng.song(args.style.lower(), args.form, args.temperature, args.seed)
    bars, _ = song_bars(sections)
    print(write_midi(out, bars, opts, force=args.force))
    if sound is not None:
        print(render.write_audio(sound, bars, opts, ropts, force=args.force))
    _phrase_note(eng, args)
    say(f"song: {len(bars)} bars, " + ", ".join(f"{s.name} {len(s)}" for s in sections))
    return 0


def _add_continue(sub) -> None:
    p = sub.add_parser("continue", help="continue a player's groove from a .mid file, in their own feel")
    p.add_argument("input", help="a .mid file with drums: the bars to continue (its last "
                   f"{CONTINUE_CONTEXT} at most, from a bar on its {MAX_PHRASE}-bar grid)")
    p.add_argument("--bars", type=arg("continue_bars"), required=True,
                   help=f"bars to add ({RANGES['continue_bars'].text()})")
    p.add_argument("-o", "--out", required=True, help=".mid file to write")
    p.add_argument("--style", default=None, help="genre to continue in (default: the one the bars sound most like)")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the phrase model"))
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output (0-2**32-1)")
    p.add_argument("--with-input", action="store_true", help="write the input's bars before the new ones "
                   "(default: the new bars only)")
    p.add_argument("--fill", choices=FILLS, default="none", help="end: the last new bar a fill; none (default)")
    p.add_argument("--all-channels", action="store_true", help="treat drum notes on every channel as drums")
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    p.add_argument("--phrase-preset", default=None, help=PHRASE_PRESET_HELP)
    p.add_argument("--bpm", type=arg("bpm"), default=None, help="tempo written (default: the input's, else 120)")
    p.add_argument("--notemap", default="gm", help="output note map: gm, tr8s, drumrack or a .json file")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.set_defaults(run=_run_continue)


CONTINUE_CONTEXT = 32   # bars of the input the model reads at most
MAX_PHRASE = 8          # ... starting on this grid from the input's first bar (the phrase model's windows)


def continue_context(bars: list) -> list:
    """The input bars a continuation reads: all of them up to CONTINUE_CONTEXT, else the last ones
    from a bar on the MAX_PHRASE-bar grid counted from the first bar (where phrases begin)."""
    if len(bars) <= CONTINUE_CONTEXT:
        return bars
    start = -(-(len(bars) - CONTINUE_CONTEXT) // MAX_PHRASE) * MAX_PHRASE
    return bars[start:]


def _run_continue(args: argparse.Namespace) -> int:
    check_writable(args.out, args.force, MIDI_OUT, "continue")
    data = read_midi_bytes(args.input)
    bars = import_bytes(data, args.input, args.all_channels, max_bars=MAX_MODEL_BARS).patterns
    bpm = kept_tempo(args.bpm, file_bpm(data), args.input)   # the player's own tempo, unless --bpm
    opts = ExportOptions(bpm=bpm, notemap=load_notemap(args.notemap), name="drumfont continue")
    eng = load_engine(args.preset, phrase_preset=args.phrase_preset)
    new = eng.continue_phrase(continue_context(bars), args.bars, args.style and args.style.lower(),
                              args.temperature, args.seed, args.fill)
    print(write_midi(args.out, (bars if args.with_input else []) + new, opts, force=args.force))
    say(f"continued {len(bars)} bar(s) with {len(new)} at {bpm:g} BPM"
        + (" (the input's bars first)" if args.with_input else ""))
    return 0


def _add_report_vae(rsub) -> None:
    p = rsub.add_parser("vae", help="posterior-collapse and quality report of a drum VAE")
    p.add_argument("--preset", default=None, help="drum model: real (default), rules, or a VAE checkpoint")
    p.add_argument("--data", default=None, help="dataset .npz (default: the built-in genre corpus)")
    p.add_argument("--classifier", default=None, help="style classifier checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for the figures and metrics.json")
    p.add_argument("--samples", type=arg("samples"), default=1000, help="generated bars per genre")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the VAE"))
    p.add_argument("--seed", type=arg("seed"), default=0)
    p.add_argument("--json", action="store_true", help="print exactly the metrics JSON on stdout")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_vae)


def _run_report_vae(args: argparse.Namespace) -> int:
    require_training("drumfont report vae")
    from drumfont.drums import report as vae_report  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    metrics = vae_report.report(preset=args.preset, data=args.data, classifier=args.classifier,
                                out=Path(args.out), samples=args.samples, temperature=args.temperature,
                                seed=args.seed, force=args.force, log=say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2))
    return 0


def _add_report_phrases(rsub) -> None:
    p = rsub.add_parser("phrases", help="phrase shape, fills, Continue and features of the phrase model")
    p.add_argument("--preset", default=None, help="phrase model checkpoint (default: the shipped one)")
    p.add_argument("--bar-preset", default=None, help="the 1-bar model of the baselines: real (default), rules or a path")
    p.add_argument("--data", required=True, help="dataset .npz of performances (e.g. from `drumfont data gmd`)")
    p.add_argument("--classifier", default=None, help="style classifier checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for the figures and metrics.json")
    p.add_argument("--samples", type=arg("samples"), default=200, help="generated phrases per genre")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0,
                   help=temperature_help("sampling temperature of the phrase model (1 = each genre's calibrated spread)"))
    p.add_argument("--seed", type=arg("seed"), default=0)
    p.add_argument("--json", action="store_true", help="print exactly the metrics JSON on stdout")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_phrases)


def _run_report_phrases(args: argparse.Namespace) -> int:
    require_training("drumfont report phrases")
    from drumfont.drums import phrase_report  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    metrics = phrase_report.report(preset=args.preset, data=args.data, out=Path(args.out), samples=args.samples,
                                   temperature=args.temperature, seed=args.seed, force=args.force,
                                   bar_preset=args.bar_preset, classifier=args.classifier,
                                   log=say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2, default=phrase_report.jsonable))
    return 0


SUBCOMMANDS = [_add_export, _add_render, _add_song, _add_continue, _add_interpolate, _add_transfer, _add_humanize,
               _add_drumify]
REPORTS = [_add_report_vae, _add_report_phrases]
