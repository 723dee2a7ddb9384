"""`drumfont letters | font` and `report gan | font`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from drumfont.cli.common import require_training, say
from drumfont.errors import DrumfontError
from drumfont.validate import arg

# The letter commands import Pillow, fontTools, Skia's path ops and scikit-image (0.3-0.5 s): each
# run function imports them, so that `drumfont export` does not pay for them.


def _add_letters(sub) -> None:
    p = sub.add_parser("letters", help="set text in the GAN's typeface as a PNG, JPEG or SVG")
    p.add_argument("text", nargs="?", default=None,
                   help="A-Z, 0-9, . , ! ? - ' & : ( ), spaces and line breaks (\\n); lower case is upper-cased")
    p.add_argument("-o", "--out", required=True,
                   help="file to write, as its suffix says: .png, .jpg (opaque --bg) or .svg (vector paths)")
    _add_style(p)
    p.add_argument("--size", type=arg("text_size"), default=96, help="font size in pixels per em (4-1024)")
    p.add_argument("--fg", default="white", help="text colour: a name, #rrggbb or #rrggbbaa")
    p.add_argument("--bg", default="black", help="background colour, or 'transparent'")
    p.add_argument("--svg", action="store_true", help="write SVG (vector paths): the file must be named .svg")
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
    from drumfont import letters  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)
    from drumfont.letters import font, typeset  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    if args.grid:
        if args.text:
            raise DrumfontError("--grid draws a sample sheet; give no text with it")

        letters.image_target(args.out, args.force, "the sample sheet (--grid)")
        path = letters.write_image(letters.render_grid(seed=args.seed, scale=args.scale or 2, preset=args.preset),
                                   args.out, force=args.force)
    elif args.text is None:
        raise DrumfontError("give the TEXT to draw, or --grid for a sample sheet")
    elif args.scale is not None:
        if args.svg:
            raise DrumfontError("--scale draws the raw pixel cells, which have no vector form; leave out --svg")
        path = letters.write_text_png(args.text, args.out, seed=args.seed, scale=args.scale,
                                      force=args.force, preset=args.preset)
    else:
        text = args.text.replace("\\n", "\n")
        # everything the user typed is checked before the minute of tracing
        letters.check_text(text, letters.drawable(args.preset), newlines=True)
        typeset.parse_colour(args.fg)
        typeset.text_target(args.out, args.force, args.svg, args.bg)
        font.check_target(args.out, args.force)
        face = font.build_typeface(args.seed, args.style_from, preset=args.preset, truncation=_truncation(args))
        path = typeset.write_text(face, text, args.out, size=args.size, fg=args.fg, bg=args.bg,
                                  svg=args.svg, force=args.force)
    print(path)
    return 0


def _truncation(args: argparse.Namespace) -> float:
    if args.truncation is not None and args.style_from:
        raise DrumfontError("--truncation applies to --seed; a --style-from style is fitted as it is")
    from drumfont.letters.font import TRUNCATION  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    return TRUNCATION if args.truncation is None else args.truncation


def _add_font(sub) -> None:
    p = sub.add_parser("font", help="build an installable OpenType font from the GAN's glyphs")
    p.add_argument("-o", "--out", required=True,
                   help="font file to write, as its suffix says: .otf (CFF), .ttf (TrueType), or the web fonts "
                        ".woff and .woff2")
    _add_style(p)
    p.add_argument("--name", default="Drumfont GAN", help="family name (1-31 ASCII letters, digits, spaces)")
    p.add_argument("--ttf", action="store_true",
                   help="TrueType outlines in a .woff or .woff2 (default CFF; a .ttf is always TrueType)")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    p.set_defaults(run=_run_font)


def _run_font(args: argparse.Namespace) -> int:
    from drumfont.letters import font  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    path, face = font.write_font(args.out, seed=args.seed, style_from=args.style_from, name=args.name,
                                 ttf=args.ttf or None, force=args.force, preset=args.preset,
                                 truncation=_truncation(args))
    say(f"{face.name} ({face.source}): {len(face.glyphs)} glyphs, {len(face.kerning)} kerning pairs")
    print(path)
    return 0


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
    require_training("drumfont report gan")
    from drumfont.letters import report as gan_report  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    metrics = gan_report.report(preset=args.preset, run=args.run_dir, data=args.data, classifier=args.classifier,
                                out=Path(args.out), samples=args.samples, seed=args.seed, force=args.force,
                                log=say if args.json else print)
    if args.json:
        print(json.dumps(metrics, indent=2))
    return 0


def _add_report_font(rsub) -> None:
    p = rsub.add_parser("font", help="does a GAN font work: FreeType read-back, OTS, FontBakery, counters, specimen")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="one font per seed")
    p.add_argument("--preset", default=None, help="a conditional generator checkpoint (default: shipped)")
    p.add_argument("--out", required=True, help="folder for specimen.png, report.md and metrics.json")
    p.add_argument("--no-fontbakery", action="store_true",
                   help="skip FontBakery (about 10 s per font); OTS and FontBakery are the test extras: "
                        "pip install 'drumfont[test]'")
    p.add_argument("--truncation", type=float, default=None, help="as `drumfont font --truncation` (default 0.7)")
    p.add_argument("--force", action="store_true", help="overwrite files in --out")
    p.set_defaults(run=_run_report_font)


def _run_report_font(args: argparse.Namespace) -> int:
    from drumfont.letters.font_report import report_font, summary_line  # noqa: PLC0415 (start-up: a command imports what it runs; docs/architecture.md)

    m = report_font(args.seeds, Path(args.out), args.preset, args.force, not args.no_fontbakery, args.truncation)
    say(summary_line(m))
    print(Path(args.out) / "report.md")
    return 0


SUBCOMMANDS = [_add_letters, _add_font]
REPORTS = [_add_report_gan, _add_report_font]
