"""Save and load every trained file: config + state + extras + metrics, in one dict.

`{"format": 1, "kind": "vae", "config": {...}, "state_dict": ..., "extras": {...}, "metrics": {...}}`
loaded with weights_only=True, so a checkpoint cannot run code; the config inside rebuilds the
model, so nobody re-types architecture flags.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

from drumfont.errors import CheckpointError
from drumfont.writes import write_atomic

FORMAT = 1


def save_checkpoint(path: str | os.PathLike, kind: str, config: dict, state_dict: dict,
                    extras: dict | None = None, metrics: dict | None = None,
                    force: bool = True) -> Path:
    """Write a checkpoint atomically (a killed run never leaves half a file)."""
    import torch

    blob = {"format": FORMAT, "kind": kind, "config": dict(config), "state_dict": state_dict,
            "extras": extras or {}, "metrics": metrics or {}}
    buf = io.BytesIO()
    torch.save(blob, buf)
    return write_atomic(path, buf.getvalue(), force=force)


def load_checkpoint(path: str | os.PathLike, kind: str | tuple[str, ...]) -> dict[str, Any]:
    """Load a checkpoint of the expected kind(s); a CheckpointError names what is wrong."""
    import torch

    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else kind
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError,
            zipfile.BadZipFile, AttributeError, TypeError, KeyError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable drumfont checkpoint ({first[:120]})") from None
    if not isinstance(blob, dict) or "kind" not in blob or "state_dict" not in blob:
        raise CheckpointError(f"{path}: not a drumfont checkpoint")
    if blob["kind"] not in kinds:
        raise CheckpointError(f"{path}: is a {blob['kind']!r} checkpoint, expected {' or '.join(kinds)}")
    if blob.get("format", 0) > FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {blob['format']} is newer than this drumfont")
    return blob


def build_model(blob: dict[str, Any], model_cls: type, config_cls: type, source: str | os.PathLike,
                config_key: str | None = None, state_key: str | None = None):
    """The nn.Module a checkpoint describes, rebuilt from its own config, in eval mode.

    `config_key` / `state_key` pick a part of a checkpoint that holds several (e.g. a training
    run's "G"); a config or weights that do not fit the model become a CheckpointError."""
    try:
        config = blob["config"] if config_key is None else blob["config"][config_key]
        state = blob["state_dict"] if state_key is None else blob["state_dict"][state_key]
        model = model_cls(config_cls(**config))
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{source}: the {model_cls.__name__} in it does not load ({first[:120]})") from None
    return model.eval()
