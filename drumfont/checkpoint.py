"""Torch checkpoints: config + state + extras + metrics, in one dict, for training runs.

`{"format": 1, "kind": "vae", "config": {...}, "state_dict": ..., "extras": {...}, "metrics": {...}}`
loaded with weights_only=True, so a checkpoint cannot run code; the config inside rebuilds the
model, so nobody re-types architecture flags. What plays needs no torch: presets are the same
dict in safetensors (drumfont.nn.preset), and `load_checkpoint` serves `--resume`, the reports and
old `.pt` files where torch is installed.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any

from drumfont.atomic import write_atomic
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.validate import MAX_CHECKPOINT_BYTES, TRAINER_RANGES, read_capped

FORMAT = 1


def save_checkpoint(path: str | os.PathLike, kind: str, config: dict, state_dict: dict,
                    extras: dict | None = None, metrics: dict | None = None,
                    force: bool = True) -> Path:
    """Write a checkpoint atomically (a killed run never leaves half a file)."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    blob = {"format": FORMAT, "kind": kind, "config": dict(config), "state_dict": state_dict,
            "extras": extras or {}, "metrics": metrics or {}}
    buf = io.BytesIO()
    torch.save(blob, buf)
    return write_atomic(path, buf.getvalue(), force=force)


def load_checkpoint(path: str | os.PathLike, kind: str | tuple[str, ...], data: bytes | None = None
                    ) -> dict[str, Any]:
    """Load a torch checkpoint of the expected kind(s) (`data`: its bytes, already read); a
    CheckpointError names what is wrong, and one that says what to install where torch is missing
    (presets, `.safetensors`, load without it: drumfont.nn.preset)."""
    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else kind
    if data is None:
        if not os.path.lexists(path):
            raise CheckpointError(f"{path}: no such checkpoint file")
        try:  # a regular file, read with a cap (never a FIFO or a device)
            data = read_capped(path, MAX_CHECKPOINT_BYTES, "checkpoint")
        except DrumfontError as exc:
            raise CheckpointError(str(exc)) from None
    try:
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, and only the training extra installs it)
    except ImportError:
        raise CheckpointError(f"{path}: a torch checkpoint needs torch: pip install 'drumfont[train]', or "
                              "load its .safetensors preset (python -m drumfont.trainers.export_preset)") from None
    try:
        with warnings.catch_warnings():
            # torch warns (two lines on stderr) on any pickle of another protocol, a plain pickle
            # included, before it refuses it: the refusal below says it in one
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile,
            AttributeError, TypeError, KeyError, IndexError, UnicodeDecodeError, RecursionError,
            OverflowError, struct.error) as exc:
        raise CheckpointError(f"{path}: not a readable drumfont checkpoint ({_why(exc)})") from None
    check_fields(blob, path)
    if blob["kind"] not in kinds:
        raise CheckpointError(f"{path}: is a {blob['kind']!r} checkpoint, expected {' or '.join(kinds)}")
    if blob.get("format", 0) > FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {blob['format']} is newer than this drumfont")
    blob.setdefault("config", {})
    blob.setdefault("extras", {})
    blob.setdefault("metrics", {})
    return blob


def _why(exc: BaseException) -> str:
    """torch.load's refusal in a few words: its first line, or for a pickle that a weights-only
    load refuses (a page of advice about weights_only=False) the unpickler's own reason."""
    text = str(exc).strip()
    if "WeightsUnpickler error:" in text:
        rest = [line.strip() for line in text.split("WeightsUnpickler error:", 1)[1].splitlines() if line.strip()]
        return f"a pickle that a weights-only load refuses: {rest[0][:100] if rest else 'unsupported content'}"
    if isinstance(exc, (KeyError, IndexError, struct.error)) or not text:  # the unpickler lost its way
        return f"its bytes are not a torch checkpoint: {type(exc).__name__} {text[:60]}".strip()
    return text.splitlines()[0][:120]


# The checkpoint dict's fields and their types (the tensors inside are checked by the model).
_FIELDS: dict[str, tuple[type, ...]] = {"format": (int,), "kind": (str,), "config": (dict,),
                                        "state_dict": (dict,), "extras": (dict,), "metrics": (dict,)}


def check_fields(blob: Any, path: str | os.PathLike) -> None:
    """A checkpoint dict (torch's or a preset's) whose fields have their types, or a CheckpointError."""
    if not isinstance(blob, dict) or "kind" not in blob or "state_dict" not in blob:
        raise CheckpointError(f"{path}: not a drumfont checkpoint")
    for key, types in _FIELDS.items():
        if key in blob and (isinstance(blob[key], bool) or not isinstance(blob[key], types)):
            raise CheckpointError(f"{path}: field {key!r} is a {type(blob[key]).__name__}, not a "
                                  f"{' or '.join(t.__name__ for t in types)}")


def check_config(config: Any, source: str | os.PathLike, where: str = "config") -> dict:
    """A model config from a checkpoint: a dict whose sizes lie in the trainers' documented
    ranges (a forged 10**9-wide layer is refused, not allocated)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{source}: field {where!r} is a {type(config).__name__}, not a dict")
    for key, value in config.items():
        rng = TRAINER_RANGES.get(key)
        if rng is None or isinstance(value, (str, bool, list, tuple)) or value is None:
            continue
        try:
            rng.check(value, f"{where}.{key}", str(source))
        except DrumfontError as exc:
            raise CheckpointError(str(exc)) from None
    return config


def build_model(blob: dict[str, Any], model_cls: type, config_cls: type, source: str | os.PathLike,
                config_key: str | None = None, state_key: str | None = None):
    """The nn.Module a checkpoint describes, rebuilt from its own config, in eval mode.

    `config_key` / `state_key` pick a part of a checkpoint that holds several (e.g. a training
    run's "G"); a config or weights that do not fit the model become a CheckpointError. The
    weights may be tensors or numpy arrays (a preset's)."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import; a torch model is built for training and reports only)

    try:
        config = blob["config"] if config_key is None else blob["config"][config_key]
        check_config(config, source, "config" if config_key is None else f"config.{config_key}")
        state = blob["state_dict"] if state_key is None else blob["state_dict"][state_key]
        model = model_cls(config_cls(**config))
        model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError, OverflowError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{source}: the {model_cls.__name__} in it does not load ({first[:120]})") from None
    return model.eval()
