"""`drumfont export | render | interpolate | transfer | humanize | drumify` and `report vae`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from drumfont.atomic import check_writable, write_atomic
from drumfont.audio import render
from drumfont.cli.common import PRESET_HELP, add_midi_out, export_options, say, temperature_help
from drumfont.drums import export, groove, phrase_report
from drumfont.drums import report as vae_report
from drumfont.drums.engine import Engine, load_engine
from drumfont.errors import DrumfontError
from drumfont.live.play import patterns_from_text_file
from drumfont.score.genres import GENRES
from drumfont.score.midifile import (
    ExportOptions,
    file_bpm,
    kept_tempo,
    midi_tempo,
    read_midi_bytes,
    read_patterns,
    read_taps,
    retime_drums,
    to_midi_bytes,
    write_midi,
)
from drumfont.score.pattern import Pattern
from drumfont.validate import MAX_MODEL_BARS, MIDI_OUT, arg


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="sample bars of a genre and write them as .mid files")
    p.add_argument("--style", required=True, help=f"genre: {', '.join(GENRES)} (the rules: the first five)")
    p.add_argument("-n", type=arg("n"), default=16, help="number of bars (1-10000)")
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
    eng = load_engine(args.preset, args.rules)
    if eng.name == "rules" and not args.rules:
        say(f"drumfont: note: {eng.reason}")
    return eng


def _run_export(args: argparse.Namespace) -> int:
    opts = export_options(args, f"drumfont {args.style}")
    targets = export.export_targets(args.style, args.n, Path(args.out), opts, args.single_file)
    sounds = tuple(t.with_suffix(f".{args.audio}") for t in targets) if args.audio else ()
    ropts = render.RenderOptions(soundfont=args.soundfont)
    if args.audio:
        render.check_render(ropts)  # the synth and SoundFont before any .mid is written
    written = export.export_genre(_engine(args), args.style, args.n, Path(args.out), opts, seed=args.seed,
                                  temperature=args.temperature, single_file=args.single_file, force=args.force,
                                  also=sounds)
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
    p = sub.add_parser("interpolate", help="morph between two genres or .mid bars, written as MIDI")
    p.add_argument("--from", dest="src", required=True, help="a genre name or a .mid file (its first bar)")
    p.add_argument("--to", dest="dst", required=True, help="a genre name or a .mid file (its first bar)")
    p.add_argument("--steps", type=arg("steps"), default=8, help="bars in the morph, endpoints included (2-1000)")
    p.add_argument("--level", choices=("high", "low", "both"), default="both",
                   help="move the style (high), the variation (low) or both")
    p.add_argument("-o", "--out", required=True, help=".mid file (with --split: a folder)")
    p.add_argument("--split", action="store_true", help="one file per step instead of one chain")
    p.add_argument("--preset", default=None, help=PRESET_HELP)
    add_midi_out(p, tempo_of="the first .mid endpoint")
    p.set_defaults(run=_run_interpolate)


def _run_interpolate(args: argparse.Namespace) -> int:
    if args.steps < 2:
        raise DrumfontError(f"--steps must be at least 2 (the two endpoints), got {args.steps}")
    out = Path(args.out)
    targets = ([out / f"morph-{i:03d}.mid" for i in range(1, args.steps + 1)] if args.split else [out])
    for t in targets:  # refuse before any work, so nothing is half-written
        check_writable(t, args.force, MIDI_OUT, "interpolate")
    eng = load_engine(args.preset)
    ends = [eng.endpoint(args.src), eng.endpoint(args.dst)]
    files = [spec for spec, end in zip((args.src, args.dst), ends) if isinstance(end, Pattern)]  # .mid endpoints
    opts = export_options(args, "drumfont morph", kept_tempo(args.bpm, midi_tempo(files[0]) if files else None,
                                                             files[0] if files else ""))
    bars = eng.interpolate(*ends, args.steps, args.level)
    written = ([write_midi(t, [b], opts, force=args.force) for t, b in zip(targets, bars)] if args.split
               else [write_midi(out, bars, opts, force=args.force)])
    for path in written:
        print(path)
    return 0


def _add_transfer(sub) -> None:
    p = sub.add_parser("transfer", help="carry every bar of a .mid file into another genre")
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
    bars = read_patterns(args.input, max_bars=MAX_MODEL_BARS)
    out = eng.transfer_many(bars, args.genre)
    print(write_midi(args.out, out, opts, force=args.force))
    say(f"transferred {len(out)} bar(s) to {args.genre.lower()}")
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

    metrics = vae_report.report(preset=args.preset, data=args.data, classifier=args.classifier,
                                out=Path(args.out), samples=args.samples, temperature=args.temperature,
                                seed=args.seed, force=args.force, log=say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2))
    return 0


SUBCOMMANDS = [_add_export, _add_render, _add_interpolate, _add_transfer, _add_humanize, _add_drumify]
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
    metrics = phrase_report.report(preset=args.preset, data=args.data, out=Path(args.out), samples=args.samples,
                                   temperature=args.temperature, seed=args.seed, force=args.force,
                                   bar_preset=args.bar_preset, classifier=args.classifier,
                                   log=say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2, default=phrase_report.jsonable))
    return 0


REPORTS = [_add_report_vae, _add_report_phrases]
