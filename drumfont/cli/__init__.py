"""The `drumfont` command: argparse subcommands, one module per domain (drums, letters, live, data,
train), each subcommand a few lines of calls into the engines."""

from __future__ import annotations

import argparse
from typing import Sequence

from drumfont import __version__
from drumfont.cli import data, drums, letters, live, train
from drumfont.cli.common import say
from drumfont.errors import DrumfontError
from drumfont.validate import OneLineParser

REPORTS = drums.REPORTS + letters.REPORTS


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="diagnostics of a trained model: figures and metrics JSON")
    rsub = p.add_subparsers(dest="report_cmd", required=True, metavar="MODEL")
    for add in REPORTS:
        add(rsub)


# In the order `drumfont --help` lists them.
SUBCOMMANDS = (drums.SUBCOMMANDS[:4] + data.SUBCOMMANDS + train.SUBCOMMANDS + [_add_report] + letters.SUBCOMMANDS
               + drums.SUBCOMMANDS[4:] + live.SUBCOMMANDS[2:] + live.SUBCOMMANDS[:2])


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
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
        say("drumfont: error: " + " ".join(str(exc).split("\n")))  # one line, whatever a file name holds
        return 2
    except KeyboardInterrupt:
        say("drumfont: interrupted")
        return 130
    except BrokenPipeError:  # `drumfont ... | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
