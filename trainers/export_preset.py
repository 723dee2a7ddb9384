"""Write the preset of a torch checkpoint: the same model as a `.safetensors` file that loads with
numpy alone and never unpickles (drumfont/nn/preset.py). The trainers call `export` when a run is
complete; the shipped presets were converted from their `.pt` files with

    python -m drumfont.trainers.export_preset presets/*.pt

A drumify model also gets its `hit_z`: the fixed latent draws its marginal averages over at
temperature 0 (torch's seed-0 normal draws, which its thresholds were fitted with), so numpy plays
the same bars without torch's random generator.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from drumfont.checkpoint import load_checkpoint
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.nn import preset as presets
from drumfont.validate import OneLineParser

# What each kind of checkpoint holds, so a conversion reads any of them.
KINDS = ("vae", "style_classifier", "humanize", "drumify", "letters_gan", "letter_classifier", "phrase")


def preset_of(blob: dict) -> dict:
    """A loaded torch checkpoint in the preset's form (numpy arrays, the run's state left out)."""
    out = presets.from_checkpoint(blob)
    if out["kind"] == "drumify":
        from drumfont.drums.groove_model import GrooveConfig, hit_draws  # noqa: PLC0415 (torch: ~1-2 s to import, paid only by drumify)

        cfg = presets.make_config(GrooveConfig, out["config"].get("model"), "checkpoint")
        if cfg.hit_samples > 0:
            out["extras"]["hit_z"] = hit_draws(cfg).numpy()
    return out


def export(checkpoint: str | Path, target: str | Path | None = None, force: bool = True) -> Path:
    """Write the preset of a finished run's checkpoint (default: beside it, `.safetensors`)."""
    checkpoint = Path(checkpoint)
    target = Path(target) if target else checkpoint.with_suffix(presets.SUFFIX)
    if target == checkpoint:
        raise DrumfontError(f"{checkpoint}: the preset would overwrite its checkpoint")
    blob = preset_of(load_checkpoint(checkpoint, KINDS))
    return presets.save_preset(target, blob["kind"], blob["config"], blob["state_dict"], blob["extras"],
                               blob["metrics"], force=force)


def checkpoint_and_preset(out: str | Path) -> tuple[Path, Path]:
    """(the run's torch checkpoint, its preset) for a trainer's --out: NAME.pt and NAME.safetensors,
    whichever of the two suffixes --out names."""
    out = Path(out)
    if out.suffix == presets.SUFFIX:
        return out.with_suffix(".pt"), out
    return out, out.with_suffix(presets.SUFFIX)


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog="python -m drumfont.trainers.export_preset",
                      description="Write each torch checkpoint's preset (.safetensors) beside it.")
    p.add_argument("checkpoints", nargs="+", help=".pt files")
    p.add_argument("--force", action="store_true", help="overwrite existing presets")
    args = p.parse_args(argv)
    try:
        for path in args.checkpoints:
            print(export(path, force=args.force))
    except (CheckpointError, DrumfontError) as exc:
        print(f"export_preset: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
