"""What several subcommands share: the one-line stderr message and the .mid output options."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from drumfont.errors import DrumfontError
from drumfont.score.midifile import ExportOptions
from drumfont.score.notemap import load_notemap
from drumfont.validate import RANGES, arg

PRESET_HELP = ("drum model: real (default, learned from real drummers), rules (the rule corpus) or a VAE "
               "checkpoint of your own")
PHRASE_PRESET_HELP = ("phrase model: a checkpoint of your own (`drumfont train phrase`); default: the shipped one, "
                      "where it is installed")


def temperature_help(what: str) -> str:
    """--temperature's help, with the one range every command shares (validate.RANGES)."""
    return f"{what}: {RANGES['temperature'].text()}, 0 = the model's typical output, 1 = its full spread (default 1)"


# What `pip install 'drumfont[train]'` adds (import names): what training and the diagnostics
# reports run on. Everything that plays or writes runs without them.
TRAIN_EXTRA = ("torch", "matplotlib", "sklearn")


def require_training(what: str, needs: tuple[str, ...] = TRAIN_EXTRA) -> None:
    """A DrumfontError naming the install command where a package of the training extra is
    missing (found without importing it: torch alone takes seconds)."""
    missing = []
    for name in needs:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise DrumfontError(f"{what} needs the training extra ({', '.join(missing)} not installed): "
                            "pip install 'drumfont[train]'")


def say(msg: str) -> None:
    """A line on stderr (stdout stays for paths and JSON)."""
    print(msg, file=sys.stderr)


def add_timing(p: argparse.ArgumentParser, bpm_help: str, bpm_default: float | None = 120.0) -> None:
    """The timing a file and the live player share (score.midifile.Timing); `bpm_default` None
    where the tempo of an input file is kept (midifile.kept_tempo)."""
    p.add_argument("--bpm", type=arg("bpm"), default=bpm_default, help=bpm_help)
    p.add_argument("--swing", type=arg("swing"), default=50.0,
                   help="MPC swing %% (50 straight .. 75); applies to bars on the grid only, unless --swing-timed")
    p.add_argument("--swing-timed", action="store_true",
                   help="add swing to bars that carry a drummer's own timing too (default: leave their timing)")
    p.add_argument("--gate", type=arg("gate"), default=0.5, help="note length as a share of a sixteenth (0-1]")


def add_midi_out(p: argparse.ArgumentParser, bars_default: int = 1, tempo_of: str | None = None) -> None:
    """The .mid output options; `tempo_of` names the input whose tempo --bpm defaults to."""
    r = RANGES["bpm"]
    if tempo_of:
        add_timing(p, f"tempo written to the file ({r.text()}; default: {tempo_of}'s, else 120)", None)
    else:
        add_timing(p, f"tempo written to the file ({r.text()})")
    p.add_argument("--bars", type=arg("bars"), default=bars_default, help="bars to repeat each pattern (1-1024)")
    p.add_argument("--notemap", default="gm", help="output note map: gm, tr8s, drumrack or a .json file")
    p.add_argument("--force", action="store_true", help="overwrite existing files")


def export_options(args: argparse.Namespace, name: str = "drumfont", bpm: float | None = None):
    """ExportOptions from the add_midi_out flags (`bpm`: the tempo decided from the input)."""
    return ExportOptions(bpm=args.bpm if bpm is None else bpm, swing=args.swing, gate=args.gate,
                         bars_per_pattern=args.bars,
                         notemap=load_notemap(args.notemap), name=name, swing_timed=args.swing_timed)
