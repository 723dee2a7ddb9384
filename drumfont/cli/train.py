"""`drumfont train MODEL ...`: hands the flags to the trainer's own parser."""

from __future__ import annotations

import argparse
import importlib

TRAINERS: dict[str, tuple[str, str]] = {
    "vae": ("drumfont.trainers.train_vae", "train the hierarchical drum VAE (--help lists the flags)"),
    "style-classifier": ("drumfont.trainers.train_style_classifier",
                         "train the drum genre classifier that judges the VAE"),
    "gan": ("drumfont.trainers.train_gan", "train the letter GAN (stabilisers as flags; --help lists them)"),
    "letter-classifier": ("drumfont.trainers.train_letter_classifier",
                          "train the letter classifier that judges the GAN"),
    "humanize": ("drumfont.trainers.train_groove:main_humanize",
                 "train the Groove model: quantised hits -> a drummer's velocities and timing"),
    "drumify": ("drumfont.trainers.train_groove:main_drumify",
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

    module, _, entry = TRAINERS[args.train_cmd][0].partition(":")
    trainer = importlib.import_module(module)
    return getattr(trainer, entry or "main")(args.options, prog=f"drumfont train {args.train_cmd}")


SUBCOMMANDS = [_add_train]
