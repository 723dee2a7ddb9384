"""The `drumfont` command: argparse subcommands, each a few lines of calls into the library.

Heavy modules (torch, mido, textual, matplotlib) are imported inside the subcommand that needs
them, so `drumfont --help` and the file commands start fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from drumfont.doors import OneLineParser, arg
from drumfont.errors import DrumfontError

# The study's five genres: every shipped model has them; the rules know only these, the model
# learned from real drumming knows a few more (its own list is in every "unknown genre" error).
GENRES = ("rock", "jazz", "hiphop", "electronic", "latin")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


# --- shared option groups --------------------------------------------------------------------

def _add_midi_out(p: argparse.ArgumentParser, bars_default: int = 1) -> None:
    p.add_argument("--bpm", type=arg("bpm"), default=120.0, help="tempo written to the file (20-300)")
    p.add_argument("--swing", type=arg("swing"), default=50.0,
                   help="MPC swing %% (50 straight .. 75); applies to bars on the grid only, unless --swing-timed")
    p.add_argument("--swing-timed", action="store_true",
                   help="add swing to bars that carry a drummer's own timing too (default: leave their timing)")
    p.add_argument("--gate", type=arg("gate"), default=0.5, help="note length as a share of a sixteenth (0-1]")
    p.add_argument("--bars", type=arg("bars"), default=bars_default, help="bars to repeat each pattern (1-1024)")
    p.add_argument("--notemap", default="gm", help="output note map: gm, tr8s, drumrack or a .json file")
    p.add_argument("--force", action="store_true", help="overwrite existing files")


def _export_options(args: argparse.Namespace, name: str = "drumfont"):
    from drumfont.drums.midifile import ExportOptions
    from drumfont.drums.notemap import load_notemap

    return ExportOptions(bpm=args.bpm, swing=args.swing, gate=args.gate, bars_per_pattern=args.bars,
                         notemap=load_notemap(args.notemap), name=name, swing_timed=args.swing_timed)


def check_genre(genre: str, known: Sequence[str] = GENRES) -> str:
    """The genre, lower-cased, or a DrumfontError listing the known ones."""
    g = genre.lower()
    if g not in known:
        raise DrumfontError(f"unknown genre {genre!r}; choose from {', '.join(known)}")
    return g


# --- export ----------------------------------------------------------------------------------

def _add_export(sub) -> None:
    p = sub.add_parser("export", help="sample bars of a genre and write them as .mid files")
    p.add_argument("--style", required=True, help=f"genre: {', '.join(GENRES)}, funk, afrobeat (the rules: the first five)")
    p.add_argument("-n", type=arg("n"), default=16, help="number of bars (1-10000)")
    p.add_argument("--out", default="drumfont-export", help="output folder (default ./drumfont-export)")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output (0-2**32-1)")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0, help="sampling temperature (VAE, 0-5)")
    p.add_argument("--preset", default=None, help="drum model: real (default, learned from real drummers), rules (the rule corpus) or a VAE checkpoint of your own")
    p.add_argument("--rules", action="store_true", help="draw from the genre rules, not the VAE")
    p.add_argument("--single-file", action="store_true", help="chain all bars into one file")
    p.add_argument("--audio", nargs="?", const="wav", choices=("wav", "flac"), default=None,
                   help="also write each file as audio on the built-in kit, beside the .mid (default wav)")
    p.add_argument("--soundfont", default=None, help="with --audio: a SoundFont .sf2 (default: the GM kit)")
    _add_midi_out(p)
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from drumfont.drums import export

    written = export.export_genre(
        style=args.style, n=args.n, out=Path(args.out), opts=_export_options(args, f"drumfont {args.style}"),
        seed=args.seed, temperature=args.temperature, preset=args.preset, rules=args.rules,
        single_file=args.single_file, force=args.force, audio=args.audio, soundfont=args.soundfont)
    for path in written:
        print(path)
    return 0


# --- render ----------------------------------------------------------------------------------

def _add_render(sub) -> None:
    p = sub.add_parser("render", help="render bars to a .wav/.flac with the built-in drum kit")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("input", nargs="?", default=None, help="a .mid file: render its drum bars")
    src.add_argument("--style", default=None, help=f"sample bars of a genre: {', '.join(GENRES)}, funk, afrobeat")
    src.add_argument("--pattern", default=None, help="a pattern in the text form (KK x...x...) from a file")
    p.add_argument("-o", "--out", required=True, help="audio file to write: .wav or .flac")
    p.add_argument("-n", type=arg("n"), default=4, help="bars to sample with --style")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for --style")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0, help="sampling temperature (VAE)")
    p.add_argument("--preset", default=None, help="a VAE checkpoint of your own")
    p.add_argument("--rules", action="store_true", help="with --style: draw from the genre rules, not the VAE")
    p.add_argument("--bpm", type=arg("bpm"), default=120.0, help="tempo (20-300)")
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
    from drumfont.audio import render
    from drumfont.drums.midifile import ExportOptions
    from drumfont.writes import check_writable

    render.audio_format(args.out)
    check_writable(args.out, args.force)  # before any sampling
    opts = ExportOptions(bpm=args.bpm, swing=args.swing, bars_per_pattern=args.bars)
    ropts = render.RenderOptions(rate=args.rate, soundfont=args.soundfont, loop=not args.one_shot)
    if args.input:
        from drumfont.drums.midifile import read_patterns

        patterns = read_patterns(args.input)
    elif args.pattern:
        from drumfont.live.play import patterns_from_text_file

        patterns = patterns_from_text_file(args.pattern)
    else:
        from drumfont.drums.export import sample_patterns

        # sample_patterns checks the genre against the rules or the model it samples from
        patterns = sample_patterns(args.style.lower(), args.n, args.seed, args.temperature,
                                   args.preset, args.rules)
    print(render.write_audio(args.out, patterns, opts, ropts, force=args.force))
    return 0


# --- data ------------------------------------------------------------------------------------

def _add_data(sub) -> None:
    p = sub.add_parser("data", help="build or import datasets")
    dsub = p.add_subparsers(dest="data_cmd", required=True, metavar="{drums,import,gmd,fonts}")

    d = dsub.add_parser("drums", help="build the built-in genre corpus (rules -> MIDI -> patterns)")
    d.add_argument("--out", required=True, help="dataset file to write (.npz)")
    d.add_argument("--seed", type=arg("seed"), default=0)
    d.add_argument("--per-genre", type=arg("per_genre"), default=200, help="patterns per genre")
    d.add_argument("--force", action="store_true")
    d.set_defaults(run=_run_data_drums)

    i = dsub.add_parser("import", help="import drum bars from .mid files and folders")
    i.add_argument("paths", nargs="*", help=".mid/.midi files or folders (walked recursively)")
    i.add_argument("--out", required=True, help="dataset file to write (.npz)")
    i.add_argument("--manifest", default=None, metavar="FILE.csv",
                   help="CSV with columns path, style, split (paths relative to it) instead of PATHS")
    g = i.add_mutually_exclusive_group()
    g.add_argument("--style", default=None, help="genre label for every bar")
    g.add_argument("--style-from-folder", action="store_true", help="label by each file's parent folder")
    i.add_argument("--all-channels", action="store_true", help="take drum notes from every channel")
    i.add_argument("--val-share", type=arg("val_share"), default=0.2,
                   help="validation share of bars, split by file and stratified by genre")
    i.add_argument("--seed", type=arg("seed"), default=0)
    i.add_argument("--workers", type=arg("workers"), default=None, help="processes (default: all cores)")
    i.add_argument("--skip-log", default=None, help="also write every skipped file and its cause here (TSV)")
    i.add_argument("--force", action="store_true")
    i.set_defaults(run=_run_data_import)

    m = dsub.add_parser("gmd", help="import the Groove MIDI Dataset (or a folder like it) through its info.csv")
    m.add_argument("folder", nargs="?", default=None, help="the folder holding info.csv")
    m.add_argument("--download", action="store_true",
                   help="fetch the official archive into the user data folder first (resumes, verifies)")
    m.add_argument("--out", required=True, help="dataset file to write (.npz)")
    m.add_argument("--val-share", type=arg("val_share"), default=0.2, help="validation share for rows without a split")
    m.add_argument("--seed", type=arg("seed"), default=0)
    m.add_argument("--workers", type=arg("workers"), default=None, help="processes (default: all cores)")
    m.add_argument("--rule-claps", action="store_true",
                   help="add the rule corpus's hand-clap bars to the training split (the recordings have no clap)")
    m.add_argument("--force", action="store_true")
    m.set_defaults(run=_run_data_gmd)

    f = dsub.add_parser("fonts", help="render the A-Z letter set from TTF/OTF fonts (28x28)")
    f.add_argument("--out", required=True, help="dataset file to write (.npz)")
    f.add_argument("--fonts", default=None, help="folder of TTF/OTF fonts (default: matplotlib's)")
    f.add_argument("--seed", type=arg("seed"), default=0)
    f.add_argument("--train-per-letter", type=arg("per_letter"), default=200)
    f.add_argument("--val-per-letter", type=arg("per_letter"), default=60)
    f.add_argument("--force", action="store_true")
    f.set_defaults(run=_run_data_fonts)


def _run_data_drums(args: argparse.Namespace) -> int:
    from drumfont.corpus import grooves
    from drumfont.writes import check_writable

    check_writable(args.out, args.force)  # refuse before the work, not after it
    data = grooves.build_corpus(seed=args.seed, per_genre=args.per_genre)
    data.save(args.out, force=args.force)
    _say(f"wrote {len(data)} bars ({args.per_genre} per genre) to {args.out}")
    print(grooves.density_table(data))
    return 0


def _run_data_import(args: argparse.Namespace) -> int:
    from drumfont.corpus import library
    from drumfont.writes import check_writable, write_atomic

    if args.skip_log:
        check_writable(args.skip_log, args.force)  # before the work, not after it
    report = library.import_library(
        [Path(p) for p in args.paths], out=Path(args.out), style=args.style,
        style_from_folder=args.style_from_folder, all_channels=args.all_channels,
        val_share=args.val_share, seed=args.seed, workers=args.workers, force=args.force,
        progress=sys.stderr.isatty(), manifest=args.manifest)
    print(report.summary())
    if args.skip_log:
        write_atomic(args.skip_log, report.skip_log(), force=args.force)
        _say(f"wrote {len(report.bad)} skipped files with their causes to {args.skip_log}")
    return 0


def _run_data_gmd(args: argparse.Namespace) -> int:
    from drumfont.corpus import gmd
    from drumfont.writes import check_writable

    if (args.folder is None) == (not args.download):
        raise DrumfontError("give the dataset FOLDER or --download, one of them")
    check_writable(args.out, args.force)  # before the download, not after it
    folder = gmd.download(progress=sys.stderr.isatty()) if args.download else Path(args.folder)
    report = gmd.import_gmd(folder, args.out, force=args.force, workers=args.workers,
                            progress=sys.stderr.isatty(), val_share=args.val_share, seed=args.seed,
                            rule_claps=args.rule_claps)
    print(report.summary())
    return 0


def _run_data_fonts(args: argparse.Namespace) -> int:
    from drumfont.corpus import fonts
    from drumfont.writes import check_writable

    check_writable(args.out, args.force)
    if args.train_per_letter < 1 or args.val_per_letter < 1:
        raise DrumfontError("--train-per-letter and --val-per-letter must be at least 1")
    files = fonts.find_fonts(args.fonts) if args.fonts else None
    data = fonts.build_fonts(files, seed=args.seed, train_per_letter=args.train_per_letter,
                             val_per_letter=args.val_per_letter)
    data.save(args.out, force=args.force)
    _say(f"wrote {len(data)} letters from {len(data.fonts)} fonts to {args.out}")
    return 0


# --- train / report groups -------------------------------------------------------------------
# `drumfont train X` runs trainers/ scripts (table below); `drumfont report X`: each model part
# appends its `_add_report_x(rsub)` to REPORT_SUBCOMMANDS.

# train subcommand -> (trainer module, help). Their flags are handed over unparsed, so torch is
# imported only when a trainer runs, and the trainer's own parser does --help and errors.
TRAINERS: dict[str, tuple[str, str]] = {
    "vae": ("trainers.train_vae", "train the hierarchical drum VAE (--help lists the flags)"),
    "style-classifier": ("trainers.train_style_classifier",
                         "train the drum genre classifier that judges the VAE"),
    "gan": ("trainers.train_gan", "train the letter GAN (stabilisers as flags; --help lists them)"),
    "letter-classifier": ("trainers.train_letter_classifier",
                          "train the letter classifier that judges the GAN"),
    "humanize": ("trainers.train_groove:main_humanize",
                 "train the Groove model: quantised hits -> a drummer's velocities and timing"),
    "drumify": ("trainers.train_groove:main_drumify",
                "train the Drumify model: a tapped rhythm -> a full kit bar"),
}


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model")
    tsub = p.add_subparsers(dest="train_cmd", required=True, metavar="MODEL")
    for name, (_, help_) in TRAINERS.items():
        t = tsub.add_parser(name, help=help_, add_help=False, prefix_chars="+")
        t.add_argument("options", nargs=argparse.REMAINDER, help="the trainer's flags; see --help")
        t.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    import importlib

    module, _, entry = TRAINERS[args.train_cmd][0].partition(":")
    trainer = importlib.import_module(module)
    return getattr(trainer, entry or "main")(args.options, prog=f"drumfont train {args.train_cmd}")


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="diagnostics of a trained model: figures and metrics JSON")
    rsub = p.add_subparsers(dest="report_cmd", required=True, metavar="MODEL")
    for add in REPORT_SUBCOMMANDS:
        add(rsub)


def _add_report_gan(rsub) -> None:
    p = rsub.add_parser("gan", help="mode-collapse and quality report of a letter GAN")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default=None, help="a generator checkpoint (default: the shipped ones)")
    src.add_argument("--run", dest="run_dir", default=None, help="a run folder of `drumfont train gan`")
    p.add_argument("--data", default=None, help="fonts .npz (from `drumfont data fonts`) for the real side")
    p.add_argument("--classifier", default=None, help="letter classifier checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for the figures and metrics.json")
    p.add_argument("--samples", type=arg("samples"), default=26000, help="generated samples to measure")
    p.add_argument("--seed", type=arg("seed"), default=0)
    p.add_argument("--json", action="store_true", help="print exactly the metrics JSON on stdout")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_gan)


def _run_report_gan(args: argparse.Namespace) -> int:
    import json

    from drumfont.letters import report as gan_report

    metrics = gan_report.report(preset=args.preset, run=args.run_dir, data=args.data, classifier=args.classifier,
                                out=Path(args.out), samples=args.samples, seed=args.seed, force=args.force,
                                log=_say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2))
    return 0


def _add_letters(sub) -> None:
    p = sub.add_parser("letters", help="set text in the GAN's typeface as a PNG or SVG")
    p.add_argument("text", nargs="?", default=None,
                   help="A-Z, 0-9, . , ! ? - ' & : ( ), spaces and line breaks (\\n); lower case is upper-cased")
    p.add_argument("-o", "--out", required=True, help="PNG (or .svg) file to write")
    _add_style(p)
    p.add_argument("--size", type=int, default=96, help="font size in pixels per em (4-1024)")
    p.add_argument("--fg", default="white", help="text colour: a name, #rrggbb or #rrggbbaa")
    p.add_argument("--bg", default="black", help="background colour, or 'transparent'")
    p.add_argument("--svg", action="store_true", help="write SVG (vector paths); also chosen by a .svg suffix")
    p.add_argument("--scale", type=arg("scale"), default=None,
                   help="the GAN's raw 28-pixel cells instead, upscaled this many times (1-64), no outlines")
    p.add_argument("--grid", action="store_true", help="a sample sheet of the unconditional model instead")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    p.set_defaults(run=_run_letters)


def _add_style(p: argparse.ArgumentParser) -> None:
    style = p.add_mutually_exclusive_group()
    style.add_argument("--seed", type=arg("seed"), default=0, help="style seed: one z for every glyph (default 0)")
    style.add_argument("--style-from", default=None, metavar="PNG",
                       help="take the style of the glyphs in this image (fitted z)")
    p.add_argument("--truncation", type=float, default=None,
                   help="pull the seed's z towards the mean, in (0, 2] (default 0.7, which read best; "
                        "1 = the raw sample)")
    p.add_argument("--preset", default=None, help="a generator checkpoint of your own")


def _run_letters(args: argparse.Namespace) -> int:
    from drumfont import letters

    if args.grid:
        if args.text:
            raise DrumfontError("--grid draws a sample sheet; give no text with it")
        from drumfont.writes import check_writable

        check_writable(args.out, args.force)
        path = letters.write_png(letters.render_grid(seed=args.seed, scale=args.scale or 2, preset=args.preset),
                                 args.out, force=args.force)
    elif args.text is None:
        raise DrumfontError("give the TEXT to draw, or --grid for a sample sheet")
    elif args.scale is not None:
        path = letters.write_text_png(args.text, args.out, seed=args.seed, scale=args.scale,
                                      force=args.force, preset=args.preset)
    else:
        from drumfont.letters import font, typeset

        text = args.text.replace("\\n", "\n")
        # everything the user typed is checked before the minute of tracing
        letters.check_text(text, letters.drawable(args.preset), newlines=True)
        typeset.parse_colour(args.fg), typeset.parse_colour(args.bg, allow_transparent=True)
        font.check_target(args.out, args.force)
        face = font.build_typeface(args.seed, args.style_from, preset=args.preset, truncation=_truncation(args))
        path = typeset.write_text(face, text, args.out, size=args.size, fg=args.fg, bg=args.bg,
                                  svg=args.svg or None, force=args.force)
    print(path)
    return 0


def _truncation(args: argparse.Namespace) -> float:
    from drumfont.letters.font import TRUNCATION

    if args.truncation is not None and args.style_from:
        raise DrumfontError("--truncation applies to --seed; a --style-from style is fitted as it is")
    return TRUNCATION if args.truncation is None else args.truncation


def _add_font(sub) -> None:
    p = sub.add_parser("font", help="build an installable OpenType font from the GAN's glyphs")
    p.add_argument("-o", "--out", required=True, help="font file to write (.otf, or .ttf with --ttf)")
    _add_style(p)
    p.add_argument("--name", default="Drumfont GAN", help="family name (1-31 ASCII letters, digits, spaces)")
    p.add_argument("--ttf", action="store_true", help="TrueType outlines (default: CFF, or by a .ttf suffix)")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    p.set_defaults(run=_run_font)


def _run_font(args: argparse.Namespace) -> int:
    from drumfont.letters import font

    path, face = font.write_font(args.out, seed=args.seed, style_from=args.style_from, name=args.name,
                                 ttf=args.ttf or None, force=args.force, preset=args.preset,
                                 truncation=_truncation(args))
    _say(f"{face.name} ({face.source}): {len(face.glyphs)} glyphs, {len(face.kerning)} kerning pairs")
    print(path)
    return 0


# --- drum VAE: train vae, report vae, interpolate, transfer ------------------------------------

def _add_report_vae(rsub) -> None:
    p = rsub.add_parser("vae", help="posterior-collapse and quality report of a drum VAE")
    p.add_argument("--preset", default=None, help="drum model: real (default), rules, or a VAE checkpoint")
    p.add_argument("--data", default=None, help="dataset .npz (default: the built-in genre corpus)")
    p.add_argument("--classifier", default=None, help="style classifier checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for the figures and metrics.json")
    p.add_argument("--samples", type=arg("samples"), default=1000, help="generated bars per genre")
    p.add_argument("--temperature", type=arg("temperature"), default=1.0, help="sampling temperature")
    p.add_argument("--seed", type=arg("seed"), default=0)
    p.add_argument("--json", action="store_true", help="print exactly the metrics JSON on stdout")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_vae)


def _run_report_vae(args: argparse.Namespace) -> int:
    import json

    from drumfont.drums import report as vae_report

    metrics = vae_report.report(preset=args.preset, data=args.data, classifier=args.classifier,
                                out=Path(args.out), samples=args.samples, temperature=args.temperature,
                                seed=args.seed, force=args.force, log=_say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2))
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
    p.add_argument("--preset", default=None, help="drum model: real (default, learned from real drummers), rules (the rule corpus) or a VAE checkpoint of your own")
    _add_midi_out(p)
    p.set_defaults(run=_run_interpolate)


def _run_interpolate(args: argparse.Namespace) -> int:
    from drumfont import drums
    from drumfont.drums.midifile import write_midi
    from drumfont.writes import check_writable

    if args.steps < 2:
        raise DrumfontError(f"--steps must be at least 2 (the two endpoints), got {args.steps}")
    out = Path(args.out)
    targets = ([out / f"morph-{i:03d}.mid" for i in range(1, args.steps + 1)] if args.split else [out])
    for t in targets:  # refuse before any work, so nothing is half-written
        check_writable(t, args.force)
    opts = _export_options(args, "drumfont morph")
    model = drums.load(args.preset)
    bars = model.interpolate(drums.endpoint(model, args.src), drums.endpoint(model, args.dst),
                             args.steps, args.level)
    written = ([write_midi(t, [b], opts, force=args.force) for t, b in zip(targets, bars)] if args.split
               else [write_midi(out, bars, opts, force=args.force)])
    for path in written:
        print(path)
    return 0


def _add_transfer(sub) -> None:
    p = sub.add_parser("transfer", help="carry every bar of a .mid file into another genre")
    p.add_argument("input", help="a .mid file with drums")
    p.add_argument("--to", dest="genre", required=True, help=f"target genre: {', '.join(GENRES)}, funk, afrobeat")
    p.add_argument("-o", "--out", required=True, help=".mid file to write")
    p.add_argument("--preset", default=None, help="drum model: real (default, learned from real drummers), rules (the rule corpus) or a VAE checkpoint of your own")
    _add_midi_out(p)
    p.set_defaults(run=_run_transfer)


def _run_transfer(args: argparse.Namespace) -> int:
    from drumfont import drums
    from drumfont.drums.midifile import read_patterns, write_midi
    from drumfont.writes import check_writable

    check_writable(args.out, args.force)
    opts = _export_options(args, f"drumfont {args.genre}")
    model = drums.load(args.preset)
    bars = read_patterns(args.input)
    out = model.transfer_many(bars, args.genre)
    print(write_midi(args.out, out, opts, force=args.force))
    _say(f"transferred {len(out)} bar(s) to {args.genre.lower()}")
    return 0


# --- humanize / drumify ------------------------------------------------------------------------

def _add_humanize(sub) -> None:
    p = sub.add_parser("humanize", help="give a drum file a drummer's dynamics and timing (same notes)")
    p.add_argument("input", help="a .mid file; its drum channel (10) is humanised, everything else kept")
    p.add_argument("-o", "--out", required=True, help=".mid file to write")
    p.add_argument("--style", default=None, help="genre to play it in (default: none in particular)")
    p.add_argument("--amount", type=arg("amount"), default=1.0, help="0 = unchanged .. 1 = fully humanised")
    p.add_argument("--temperature", type=arg("groove_temperature"), default=1.0,
                   help="how far from the model's typical playing (0 = typical; 0..10)")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output")
    p.add_argument("--all-channels", action="store_true", help="treat drum notes on every channel as drums")
    p.add_argument("--preset", default=None, help="a humanize checkpoint (default: the shipped one)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out")
    p.set_defaults(run=_run_humanize)


def _run_humanize(args: argparse.Namespace) -> int:
    from drumfont.drums import groove
    from drumfont.drums.midifile import file_bpm, read_midi_bytes, retime_drums
    from drumfont.writes import check_writable, write_atomic

    check_writable(args.out, args.force)
    data = read_midi_bytes(args.input)
    model = groove.load("humanize", args.preset)
    model.genre_index(args.style)  # an unknown genre fails before any work
    bpm = file_bpm(data)

    def transform(bars):
        return groove.humanize(bars, args.style, args.amount, args.temperature, args.seed, model, bpm)
    out, n = retime_drums(data, transform, args.input, args.all_channels)
    print(write_atomic(args.out, out, force=args.force))
    _say(f"humanised {n} bar(s)")
    return 0


def _add_drumify(sub) -> None:
    p = sub.add_parser("drumify", help="turn a tapped rhythm (any notes) into a full kit pattern")
    p.add_argument("input", help="a .mid file whose notes are the taps (any channel, any note)")
    p.add_argument("-o", "--out", required=True, help=".mid file to write (-n > 1: NAME-1.mid ...)")
    p.add_argument("--style", default=None, help="genre of the kit pattern (default: none in particular)")
    p.add_argument("-n", type=arg("n"), default=1, help="variations to write")
    p.add_argument("--temperature", type=arg("groove_temperature"), default=1.0, help="how far variations stray (0..10)")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for reproducible output")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--channel", type=int, default=None, help="only notes on this channel (1-16) are taps")
    which.add_argument("--note", type=int, default=None, help="only this note number (0-127) is a tap")
    p.add_argument("--preset", default=None, help="a drumify checkpoint (default: the shipped one)")
    p.add_argument("--bpm", type=arg("bpm"), default=None, help="tempo written (default: the input's, else 120)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(run=_run_drumify)


def _run_drumify(args: argparse.Namespace) -> int:
    from drumfont.drums import groove
    from drumfont.drums.midifile import ExportOptions, file_bpm, read_midi_bytes, read_taps, to_midi_bytes
    from drumfont.writes import check_writable, write_atomic

    if args.channel is not None and not 1 <= args.channel <= 16:
        raise DrumfontError(f"--channel must be 1..16, got {args.channel}")
    if args.note is not None and not 0 <= args.note <= 127:
        raise DrumfontError(f"--note must be 0..127, got {args.note}")
    if args.n < 1:
        raise DrumfontError(f"-n must be at least 1, got {args.n}")
    out = Path(args.out)
    targets = [out] if args.n == 1 else [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, args.n + 1)]
    for t in targets:
        check_writable(t, args.force)
    bpm = args.bpm or file_bpm(read_midi_bytes(args.input)) or 120.0
    opts = ExportOptions(bpm=bpm, name=f"drumfont drumify {args.style or ''}".strip())
    model = groove.load("drumify", args.preset)
    model.genre_index(args.style)
    bars = read_taps(args.input, None if args.channel is None else args.channel - 1, args.note)
    taps = [groove.taps_of(b) for b in bars]
    variations = groove.drumify(taps, args.style, args.n, args.temperature, args.seed, model)
    data = [to_midi_bytes(v, opts) for v in variations]  # every file made before any is written
    for t, d in zip(targets, data):
        print(write_atomic(t, d, force=args.force))
    _say(f"drumified {len(bars)} bar(s), {args.n} variation(s)")
    return 0


# --- tui -------------------------------------------------------------------------------------

def _add_tui(sub) -> None:
    p = sub.add_parser("tui", help="the studio: sample, edit, morph, play and export in the terminal")
    p.add_argument("--data-dir", default=None,
                   help="where the session autosaves (default: $DRUMFONT_DATA_DIR, else the user data folder)")
    p.add_argument("--export-dir", default=None, help="folder the export prompt starts in (default: here)")
    p.add_argument("--preset", default=None, help="drum model: real (default, learned from real drummers), rules (the rule corpus) or a VAE checkpoint of your own")
    p.add_argument("--rules", action="store_true", help="draw from the genre rules, not the VAE")
    p.add_argument("--no-midi", action="store_true", help="do not open a MIDI port")
    p.add_argument("--no-audio", action="store_true", help="do not play the built-in kit on an audio output")
    p.add_argument("--audio-device", default=None, metavar="NAME",
                   help="audio output for the kit: part of its name or of its host API's ('JACK')")
    p.add_argument("--notemap", default=None, help="output note map: gm, tr8s, drumrack or a .json file "
                   "(default: the session's, gm at first)")
    p.set_defaults(run=_run_tui)


def _run_tui(args: argparse.Namespace) -> int:
    from drumfont.tui.app import make_app

    app = make_app(args.data_dir, export_dir=Path(args.export_dir) if args.export_dir else None,
                   preset=args.preset, rules=args.rules, midi=not args.no_midi, notemap=args.notemap,
                   audio=not args.no_audio, audio_device=args.audio_device)
    app.run()
    return 0


def _add_report_font(rsub) -> None:
    p = rsub.add_parser("font", help="does a GAN font work: FreeType read-back, OTS, FontBakery, counters, specimen")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="one font per seed")
    p.add_argument("--preset", default=None, help="a conditional generator checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for specimen.png, report.md and metrics.json")
    p.add_argument("--no-fontbakery", action="store_true", help="skip FontBakery (about 10 s per font)")
    p.add_argument("--truncation", type=float, default=None, help="as `drumfont font --truncation` (default 0.7)")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_font)


def _run_report_font(args: argparse.Namespace) -> int:
    from drumfont.letters.font_report import report_font

    m = report_font(args.seeds, Path(args.out), args.preset, args.force, not args.no_fontbakery, args.truncation)
    _say(f"read back @28 px >= {m['read_28px_min']:.3f}, @64 px >= {m['read_64px_min']:.3f}; OTS passed "
         f"{m['ots_pass']}/{len(args.seeds)}; FontBakery {m['fontbakery'].get('counts')}; "
         f"counters all match: {m['holes_all_match']}")
    print(Path(args.out) / "report.md")
    return 0


REPORT_SUBCOMMANDS: list[Callable] = [_add_report_gan, _add_report_vae, _add_report_font]


# --- live MIDI -------------------------------------------------------------------------------

def _add_play(sub) -> None:
    p = sub.add_parser("play", help="stream patterns live into a DAW over MIDI (clock out, follow)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--style", default=None, help=f"genre to sample (default rock): {', '.join(GENRES)}, funk, afrobeat")
    src.add_argument("--file", default=None, help="play the drum bars of a .mid file")
    src.add_argument("--pattern", default=None, help="play a pattern in the text form (KK x...x...) from a file")
    p.add_argument("--count", type=arg("count"), default=4, help="bars to sample with --style")
    p.add_argument("--seed", type=arg("seed"), default=None, help="seed for --style")
    p.add_argument("--rules", action="store_true", help="with --style: draw from the genre rules, not the VAE")
    p.add_argument("--repeat", type=arg("bars"), default=1, help="bars each pattern plays before the next")
    dest = p.add_mutually_exclusive_group()
    dest.add_argument("--virtual", default=None, metavar="NAME", help="create a virtual output (default 'drumfont')")
    dest.add_argument("--port", default=None, metavar="NAME", help="open an existing output (substring of its name)")
    p.add_argument("--backend", default=None, choices=("alsa", "jack", "coremidi", "windows"),
                   help="MIDI system (default: MIDO_BACKEND, else the first that starts)")
    p.add_argument("--bpm", type=arg("bpm"), default=120.0, help="tempo 20-300, changeable by --follow's leader")
    p.add_argument("--swing", type=arg("swing"), default=50.0,
                   help="MPC swing %% (50 straight .. 75); applies to bars on the grid only, unless --swing-timed")
    p.add_argument("--swing-timed", action="store_true",
                   help="add swing to bars that carry a drummer's own timing too (default: leave their timing)")
    p.add_argument("--gate", type=arg("gate"), default=0.5, help="note length as a share of a sixteenth (0-1]")
    p.add_argument("--notemap", default="gm", help="output note map: gm, a preset name or a .json file")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--bars", type=arg("play_bars"), default=None, help="stop after N bars")
    length.add_argument("--forever", action="store_true", help="play until Ctrl-C (the default)")
    p.add_argument("--clock-out", action="store_true", help="send MIDI clock and Start/Stop as leader")
    p.add_argument("--follow", default=None, metavar="PORT", help="lock to the MIDI clock arriving on an input")
    p.add_argument("--audio", action="store_true", help="play the built-in drum kit (with --port/--virtual: "
                   "beside MIDI; alone: no MIDI port is opened)")
    p.add_argument("--audio-device", default=None, metavar="NAME",
                   help="with --audio: an audio output (part of its name, or of its host API's: 'JACK')")
    p.add_argument("--soundfont", default=None, help="with --audio: a SoundFont .sf2 (default: the GM kit)")
    p.set_defaults(run=_run_play)


def _run_play(args: argparse.Namespace) -> int:
    from drumfont.live import play
    from drumfont.live.ports import PortSpec

    if args.file:
        patterns = play.patterns_from_midi(args.file)
    elif args.pattern:
        patterns = play.patterns_from_text_file(args.pattern)
    else:
        style = (args.style or "rock").lower()
        if args.rules:  # the model checks its own genres (the real one knows more than the rules)
            check_genre(style)
        patterns = play.patterns_from_style(style, args.count, args.seed, args.rules)
    if args.bars is not None and args.bars < 1:
        raise DrumfontError("--bars must be at least 1")
    spec = PortSpec(name=args.port, virtual=args.virtual or "drumfont", backend=args.backend)
    audio = None
    if args.audio:
        from drumfont.audio.engine import AudioSpec

        audio = AudioSpec(device=args.audio_device, soundfont=args.soundfont)
    play.play(patterns, spec, bpm=args.bpm, swing=args.swing, gate=args.gate, notemap=args.notemap,
              bars=args.bars, repeat=args.repeat, clock_out=args.clock_out, follow=args.follow,
              swing_timed=args.swing_timed, audio=audio,
              midi=not args.audio or bool(args.port or args.virtual))
    return 0


def _add_ports(sub) -> None:
    p = sub.add_parser("ports", help="list MIDI outputs and inputs per backend")
    p.add_argument("--backend", default=None, choices=("alsa", "jack", "coremidi", "windows"))
    p.set_defaults(run=_run_ports)


def _run_ports(args: argparse.Namespace) -> int:
    from drumfont.live import play

    print(play.show_ports(args.backend))
    return 0


# --- main ------------------------------------------------------------------------------------

# Each entry adds one subcommand. Parts of drumfont that live elsewhere (models, live, tui)
# register here too, always importing their heavy modules inside `run`.
SUBCOMMANDS: list[Callable] = [_add_export, _add_render, _add_data, _add_train, _add_report, _add_letters,
                               _add_font, _add_interpolate, _add_transfer, _add_humanize, _add_drumify,
                               _add_tui, _add_play, _add_ports]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    from drumfont import __version__

    parser = OneLineParser(
        prog="drumfont", description="Drum patterns from a hierarchical VAE, live MIDI into your DAW, "
        "and text in GAN-drawn letters.")
    parser.add_argument("--version", action="version", version=f"drumfont {__version__}")
    sub = parser.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand; user errors become one line on stderr and exit code 2."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a value refused by its range: argparse has spoken
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.run(args) or 0)
    except DrumfontError as exc:
        _say("drumfont: error: " + " ".join(str(exc).split("\n")))  # one line, whatever a file name holds
        return 2
    except KeyboardInterrupt:
        _say("drumfont: interrupted")
        return 130
    except BrokenPipeError:  # `drumfont ... | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
