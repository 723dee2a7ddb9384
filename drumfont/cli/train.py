"""`drumfont train MODEL ...`: hands the flags to the trainer's own parser (its --help, its errors)."""

from __future__ import annotations

import argparse
from typing import Callable

from drumfont.cli.common import require_training

Main = Callable[..., int]


# Each trainer imports torch (about 2 s), so only the one that runs is imported, when it runs.
def _vae() -> Main:
    from drumfont.trainers import train_vae  # noqa: PLC0415 (torch: paid only by the trainer that runs)

    return train_vae.main


def _style_classifier() -> Main:
    from drumfont.trainers import train_style_classifier  # noqa: PLC0415 (torch, as above)

    return train_style_classifier.main


def _gan() -> Main:
    from drumfont.trainers import train_gan  # noqa: PLC0415 (torch, as above)

    return train_gan.main


def _letter_classifier() -> Main:
    from drumfont.trainers import train_letter_classifier  # noqa: PLC0415 (torch, as above)

    return train_letter_classifier.main


def _phrase() -> Main:
    from drumfont.trainers import train_phrase  # noqa: PLC0415 (torch, as above)

    return train_phrase.main


def _humanize() -> Main:
    from drumfont.trainers import train_groove  # noqa: PLC0415 (torch, as above)

    return train_groove.main_humanize


def _drumify() -> Main:
    from drumfont.trainers import train_groove  # noqa: PLC0415 (torch, as above)

    return train_groove.main_drumify


# train subcommand -> (the trainer's entry point, help). Flags are handed over unparsed.
TRAINERS: dict[str, tuple[Callable[[], Main], str]] = {
    "vae": (_vae, "train the hierarchical drum VAE (--help lists the flags)"),
    "phrase": (_phrase, "train the phrase model: a conductor over bar codes (2-, 4- and 8-bar phrases)"),
    "style-classifier": (_style_classifier, "train the drum genre classifier that judges the VAE"),
    "gan": (_gan, "train the letter GAN (stabilisers as flags; --help lists them)"),
    "letter-classifier": (_letter_classifier, "train the letter classifier that judges the GAN"),
    "humanize": (_humanize, "train the Groove model: quantised hits -> a drummer's velocities and timing"),
    "drumify": (_drumify, "train the Drumify model: a tapped rhythm -> a full kit bar"),
}


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model")
    tsub = p.add_subparsers(dest="train_cmd", required=True, metavar="MODEL")
    for name, (_, help_) in TRAINERS.items():
        t = tsub.add_parser(name, help=help_, add_help=False, prefix_chars="+")
        t.add_argument("options", nargs=argparse.REMAINDER, help="the trainer's flags; see --help")
        t.set_defaults(run=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    require_training(f"drumfont train {args.train_cmd}")
    entry = TRAINERS[args.train_cmd][0]()
    return entry(args.options, prog=f"drumfont train {args.train_cmd}")


SUBCOMMANDS = [_add_train]
