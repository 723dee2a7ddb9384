"""The `drumfont` command: argparse subcommands, each a few lines of calls into the library.

Heavy modules (torch, mido, textual, matplotlib) are imported inside the subcommand that needs
them, so `drumfont --help` and the file commands start fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from drumfont.errors import DrumfontError

GENRES = ("rock", "jazz", "hiphop", "electronic", "latin")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


# --- shared option groups --------------------------------------------------------------------

def _add_midi_out(p: argparse.ArgumentParser, bars_default: int = 1) -> None:
    p.add_argument("--bpm", type=float, default=120.0, help="tempo written to the file (20-300)")
    p.add_argument("--swing", type=float, default=50.0, help="MPC swing %% (50 straight .. 75)")
    p.add_argument("--gate", type=float, default=0.5, help="note length as a share of a sixteenth (0-1]")
    p.add_argument("--bars", type=int, default=bars_default, help="bars to repeat each pattern")
    p.add_argument("--notemap", default="gm", help="output note map: gm, tr8s, drumrack or a .json file")
    p.add_argument("--force", action="store_true", help="overwrite existing files")


def _export_options(args: argparse.Namespace, name: str = "drumfont"):
    from drumfont.midifile import ExportOptions
    from drumfont.notemap import load_notemap

    return ExportOptions(bpm=args.bpm, swing=args.swing, gate=args.gate, bars_per_pattern=args.bars,
                         notemap=load_notemap(args.notemap), name=name)


def check_genre(genre: str, known: Sequence[str] = GENRES) -> str:
    """The genre, lower-cased, or a DrumfontError listing the known ones."""
    g = genre.lower()
    if g not in known:
        raise DrumfontError(f"unknown genre {genre!r}; choose from {', '.join(known)}")
    return g


# --- export ----------------------------------------------------------------------------------

def _add_export(sub) -> None:
    p = sub.add_parser("export", help="sample bars of a genre and write them as .mid files")
    p.add_argument("--style", required=True, help=f"genre: {', '.join(GENRES)}")
    p.add_argument("-n", type=int, default=16, help="number of bars")
    p.add_argument("--out", default="drumfont-export", help="output folder (default ./drumfont-export)")
    p.add_argument("--seed", type=int, default=None, help="seed for reproducible output")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (VAE)")
    p.add_argument("--preset", default=None, help="a VAE checkpoint of your own")
    p.add_argument("--rules", action="store_true", help="draw from the genre rules, not the VAE")
    p.add_argument("--single-file", action="store_true", help="chain all bars into one file")
    _add_midi_out(p)
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from drumfont import export

    written = export.export_genre(
        style=args.style, n=args.n, out=Path(args.out), opts=_export_options(args, f"drumfont {args.style}"),
        seed=args.seed, temperature=args.temperature, preset=args.preset, rules=args.rules,
        single_file=args.single_file, force=args.force)
    for path in written:
        print(path)
    return 0


# --- data ------------------------------------------------------------------------------------

def _add_data(sub) -> None:
    p = sub.add_parser("data", help="build or import datasets")
    dsub = p.add_subparsers(dest="data_cmd", required=True, metavar="{drums,import,fonts}")

    d = dsub.add_parser("drums", help="build the built-in genre corpus (rules -> MIDI -> patterns)")
    d.add_argument("--out", required=True, help="dataset file to write (.npz)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--per-genre", type=int, default=200, help="patterns per genre")
    d.add_argument("--force", action="store_true")
    d.set_defaults(run=_run_data_drums)

    i = dsub.add_parser("import", help="import drum bars from .mid files and folders")
    i.add_argument("paths", nargs="+", help=".mid/.midi files or folders (walked recursively)")
    i.add_argument("--out", required=True, help="dataset file to write (.npz)")
    g = i.add_mutually_exclusive_group()
    g.add_argument("--style", default=None, help="genre label for every bar")
    g.add_argument("--style-from-folder", action="store_true", help="label by each file's parent folder")
    i.add_argument("--all-channels", action="store_true", help="take drum notes from every channel")
    i.add_argument("--val-share", type=float, default=0.2, help="validation share (stratified)")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    i.add_argument("--force", action="store_true")
    i.set_defaults(run=_run_data_import)

    f = dsub.add_parser("fonts", help="render the A-Z letter set from TTF/OTF fonts (28x28)")
    f.add_argument("--out", required=True, help="dataset file to write (.npz)")
    f.add_argument("--fonts", default=None, help="folder of TTF/OTF fonts (default: matplotlib's)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--train-per-letter", type=int, default=200)
    f.add_argument("--val-per-letter", type=int, default=60)
    f.add_argument("--force", action="store_true")
    f.set_defaults(run=_run_data_fonts)


def _run_data_drums(args: argparse.Namespace) -> int:
    from drumfont.corpus import grooves

    data = grooves.build_corpus(seed=args.seed, per_genre=args.per_genre)
    data.save(args.out, force=args.force)
    _say(f"wrote {len(data)} bars ({args.per_genre} per genre) to {args.out}")
    print(grooves.density_table(data))
    return 0


def _run_data_import(args: argparse.Namespace) -> int:
    from drumfont.corpus import library

    report = library.import_library(
        [Path(p) for p in args.paths], out=Path(args.out), style=args.style,
        style_from_folder=args.style_from_folder, all_channels=args.all_channels,
        val_share=args.val_share, seed=args.seed, workers=args.workers, force=args.force,
        progress=sys.stderr.isatty())
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
# `drumfont train X` and `drumfont report X`: each model part appends its `_add_train_x(tsub)` /
# `_add_report_x(rsub)` to the lists below.

def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model")
    tsub = p.add_subparsers(dest="train_cmd", required=True, metavar="MODEL")
    for add in TRAIN_SUBCOMMANDS:
        add(tsub)


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="diagnostics of a trained model: figures and metrics JSON")
    rsub = p.add_subparsers(dest="report_cmd", required=True, metavar="MODEL")
    for add in REPORT_SUBCOMMANDS:
        add(rsub)


def _add_train_gan(tsub) -> None:
    p = tsub.add_parser("gan", help="train the letter GAN (stabilisers as flags)")
    from trainers import train_gan  # light: torch is imported by the trainer anyway only on run

    train_gan.add_arguments(p)
    p.set_defaults(run=_run_train_gan)


def _run_train_gan(args: argparse.Namespace) -> int:
    from trainers import train_gan

    return train_gan.run_from_args(args)


def _add_train_letter_classifier(tsub) -> None:
    p = tsub.add_parser("letter-classifier", help="train the letter classifier that judges the GAN")
    from trainers import train_letter_classifier as tlc

    tlc.add_arguments(p)
    p.set_defaults(run=_run_train_letter_classifier)


def _run_train_letter_classifier(args: argparse.Namespace) -> int:
    from trainers import train_letter_classifier as tlc

    return tlc.run_from_args(args)


def _add_report_gan(rsub) -> None:
    p = rsub.add_parser("gan", help="mode-collapse and quality report of a letter GAN")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default=None, help="a generator checkpoint (default: the shipped ones)")
    src.add_argument("--run", default=None, help="a run folder of `drumfont train gan`")
    p.add_argument("--data", default=None, help="fonts .npz (from `drumfont data fonts`) for the real side")
    p.add_argument("--classifier", default=None, help="letter classifier checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for the figures and metrics.json")
    p.add_argument("--samples", type=int, default=26000, help="generated samples to measure")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print exactly the metrics JSON on stdout")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_gan)


def _run_report_gan(args: argparse.Namespace) -> int:
    import json

    from drumfont import gan_report

    metrics = gan_report.report(preset=args.preset, run=args.run, data=args.data, classifier=args.classifier,
                                out=Path(args.out), samples=args.samples, seed=args.seed, force=args.force,
                                log=_say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2))
    return 0


def _add_letters(sub) -> None:
    p = sub.add_parser("letters", help="render text in GAN-drawn letters as a PNG")
    p.add_argument("text", nargs="?", default=None, help="letters A-Z and spaces (lower case is upper-cased)")
    p.add_argument("-o", "--out", required=True, help="PNG file to write")
    p.add_argument("--seed", type=int, default=0, help="style seed (one z for the whole text)")
    p.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscale factor (1-64)")
    p.add_argument("--grid", action="store_true", help="a sample sheet of the unconditional model instead")
    p.add_argument("--preset", default=None, help="a generator checkpoint of your own")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    p.set_defaults(run=_run_letters)


def _run_letters(args: argparse.Namespace) -> int:
    from drumfont import letters

    if args.grid:
        if args.text:
            raise DrumfontError("--grid draws a sample sheet; give no text with it")
        from drumfont.writes import check_writable

        check_writable(args.out, args.force)
        path = letters.write_png(letters.render_grid(seed=args.seed, scale=args.scale, preset=args.preset),
                                 args.out, force=args.force)
    else:
        if args.text is None:
            raise DrumfontError("give the TEXT to draw, or --grid for a sample sheet")
        path = letters.write_text_png(args.text, args.out, seed=args.seed, scale=args.scale,
                                      force=args.force, preset=args.preset)
    print(path)
    return 0


TRAIN_SUBCOMMANDS: list[Callable] = [_add_train_gan, _add_train_letter_classifier]
REPORT_SUBCOMMANDS: list[Callable] = [_add_report_gan]


# --- main ------------------------------------------------------------------------------------

# Each entry adds one subcommand. Parts of drumfont that live elsewhere (models, live, tui)
# register here too, always importing their heavy modules inside `run`.
SUBCOMMANDS: list[Callable] = [_add_export, _add_data, _add_train, _add_report, _add_letters]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    from drumfont import __version__

    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except DrumfontError as exc:
        _say(f"drumfont: error: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("drumfont: interrupted")
        return 130
    except BrokenPipeError:  # `drumfont ... | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
