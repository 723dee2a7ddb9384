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


# --- main ------------------------------------------------------------------------------------

# Each entry adds one subcommand. Parts of drumfont that live elsewhere (models, live, tui)
# register here too, always importing their heavy modules inside `run`.
SUBCOMMANDS: list[Callable] = [_add_export, _add_data]


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
