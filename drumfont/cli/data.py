"""`drumfont data drums | import | gmd | fonts`: build or import datasets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drumfont.atomic import check_writable, write_atomic
from drumfont.cli.common import say
from drumfont.errors import DrumfontError
from drumfont.validate import DATASET_OUT, LOG_OUT, arg


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
    from drumfont.drums import rules  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    check_writable(args.out, args.force, DATASET_OUT, "data drums")  # refuse before the work, not after it
    data = rules.build_corpus(seed=args.seed, per_genre=args.per_genre)
    data.save(args.out, force=args.force)
    say(f"wrote {len(data)} bars ({args.per_genre} per genre) to {args.out}")
    print(rules.density_table(data))
    return 0


def _run_data_import(args: argparse.Namespace) -> int:
    from drumfont.drums import library  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    if args.skip_log:
        check_writable(args.skip_log, args.force, LOG_OUT, "--skip-log")  # before the work, not after it
    report = library.import_library(
        [Path(p) for p in args.paths], out=Path(args.out), style=args.style,
        style_from_folder=args.style_from_folder, all_channels=args.all_channels,
        val_share=args.val_share, seed=args.seed, workers=args.workers, force=args.force,
        progress=sys.stderr.isatty(), manifest=args.manifest)
    print(report.summary())
    if args.skip_log:
        write_atomic(args.skip_log, report.skip_log(), force=args.force)
        say(f"wrote {len(report.bad)} skipped files with their causes to {args.skip_log}")
    return 0


def _run_data_gmd(args: argparse.Namespace) -> int:
    from drumfont.drums import gmd  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    if (args.folder is None) == (not args.download):
        raise DrumfontError("give the dataset FOLDER or --download, one of them")
    check_writable(args.out, args.force, DATASET_OUT, "data gmd")  # before the download, not after it
    folder = gmd.download(progress=sys.stderr.isatty()) if args.download else Path(args.folder)
    report = gmd.import_gmd(folder, args.out, force=args.force, workers=args.workers,
                            progress=sys.stderr.isatty(), val_share=args.val_share, seed=args.seed,
                            rule_claps=args.rule_claps)
    print(report.summary())
    return 0


def _run_data_fonts(args: argparse.Namespace) -> int:
    from drumfont.letters import data as fonts  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    check_writable(args.out, args.force, DATASET_OUT, "data fonts")
    if args.train_per_letter < 1 or args.val_per_letter < 1:
        raise DrumfontError("--train-per-letter and --val-per-letter must be at least 1")
    files = fonts.find_fonts(args.fonts) if args.fonts else None
    data = fonts.build_fonts(files, seed=args.seed, train_per_letter=args.train_per_letter,
                             val_per_letter=args.val_per_letter)
    data.save(args.out, force=args.force)
    say(f"wrote {len(data)} letters from {len(data.fonts)} fonts to {args.out}")
    return 0


SUBCOMMANDS = [_add_data]
