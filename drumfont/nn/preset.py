"""Preset files without pickle: the weights in safetensors, the rest of the checkpoint beside them.

A preset is one `.safetensors` file. Its tensors are the model's state dict (`state_dict/<key>`)
and the arrays of its extras (`extras/<key>`, e.g. the drum VAE's genre Gaussians); its header's
metadata holds, as JSON under "drumfont", what a torch checkpoint holds beside its tensors:
`{"format": 2, "kind", "config", "extras" (the plain values), "metrics"}`. So one file carries its
own architecture, loads with numpy alone, and loading it runs no code: the header is JSON and the
tensors are raw little-endian numbers (safetensors' own parser reads them; no unpickler is ever
called, see tests/test_preset.py).

`load` reads a preset, or an old `.pt` checkpoint where torch is installed (converted to the same
numpy form); `from_checkpoint` is that conversion (trainers/export_preset.py writes it to a file).
What a preset leaves out of a checkpoint: the optimiser's state (a preset is for playing; a run
resumes from its `.pt`).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import safetensors.numpy

from drumfont.atomic import write_atomic
from drumfont.checkpoint import check_config, check_fields, load_checkpoint
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.validate import MAX_CHECKPOINT_BYTES, read_capped

T = TypeVar("T")
FORMAT = 2          # 1: the torch checkpoint (drumfont.checkpoint); 2: this file
SUFFIX = ".safetensors"
META_KEY = "drumfont"
# Extras that belong to a training run, not to the model: dropped from presets.
RUN_ONLY = ("optimizer",)
_SECTIONS = ("state_dict", "extras")


def is_preset(data: bytes) -> bool:
    """True when the bytes open as safetensors (an 8-byte header length, then a JSON object);
    a torch checkpoint is a zip (b'PK')."""
    if len(data) < 10:
        return False
    (n,) = struct.unpack("<Q", data[:8])
    return 2 <= n <= len(data) - 8 and data[8:9] == b"{"


def preset_bytes(kind: str, config: dict, state_dict: dict[str, np.ndarray], extras: dict | None = None,
                 metrics: dict | None = None) -> bytes:
    """The bytes of a preset. Array-valued extras become tensors, the rest must be JSON values."""
    tensors: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        tensors[f"state_dict/{key}"] = np.ascontiguousarray(value)
    plain: dict[str, Any] = {}
    for key, value in (extras or {}).items():
        if key in RUN_ONLY:
            continue
        if isinstance(value, np.ndarray):
            tensors[f"extras/{key}"] = np.ascontiguousarray(value)
        else:
            plain[key] = value
    header = {"format": FORMAT, "kind": kind, "config": config, "extras": plain, "metrics": metrics or {}}
    try:
        meta = json.dumps(header, sort_keys=True)
    except TypeError as exc:
        raise CheckpointError(f"a preset holds arrays and JSON values only ({exc})") from None
    return safetensors.numpy.save(tensors, metadata={META_KEY: meta})


def save_preset(path: str | os.PathLike, kind: str, config: dict, state_dict: dict[str, np.ndarray],
                extras: dict | None = None, metrics: dict | None = None, force: bool = True) -> Path:
    """Write a preset atomically (a killed run never leaves half a file)."""
    return write_atomic(path, preset_bytes(kind, config, state_dict, extras, metrics), force=force)


def _header(data: bytes, source: str) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    try:
        head = json.loads(data[8:8 + n].decode("utf-8"))
        meta = json.loads(head["__metadata__"][META_KEY])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{source}: a safetensors file without a drumfont header") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{source}: a safetensors file without a drumfont header")
    return meta


def read_preset(data: bytes, source: str) -> dict[str, Any]:
    """A checkpoint dict (numpy arrays for tensors) from the bytes of a preset."""
    meta = _header(data, source)
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as exc:  # noqa: BLE001 (safetensors raises its own SafetensorError, and more)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{source}: not a readable preset ({first[:120]})") from None
    blob: dict[str, Any] = {"format": meta.get("format", FORMAT), "kind": meta.get("kind"),
                            "config": meta.get("config", {}), "state_dict": {},
                            "extras": meta.get("extras", {}), "metrics": meta.get("metrics", {})}
    if not isinstance(blob["extras"], dict):
        raise CheckpointError(f"{source}: field 'extras' is a {type(blob['extras']).__name__}, not a dict")
    for name, array in tensors.items():
        section, _, key = name.partition("/")
        if section not in _SECTIONS or not key:
            raise CheckpointError(f"{source}: unexpected tensor {name!r}")
        blob[section][key] = array
    return blob


def _numpy(value: Any) -> Any:
    """A torch tensor as a numpy array (anything else as it is)."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value


def from_checkpoint(blob: dict[str, Any]) -> dict[str, Any]:
    """A torch checkpoint dict in the preset's numpy form: tensors of the state dict and of the
    top-level extras as arrays, the run's optimiser state left out."""
    state = blob.get("state_dict", {})
    if any(isinstance(v, dict) for v in state.values()):
        raise CheckpointError("a training run's checkpoint (several models in one); export its generator")
    return {**blob, "state_dict": {k: _numpy(v) for k, v in state.items()},
            "extras": {k: _numpy(v) for k, v in blob.get("extras", {}).items() if k not in RUN_ONLY}}


def load(path: str | os.PathLike, kind: str | tuple[str, ...]) -> dict[str, Any]:
    """The checkpoint dict of a preset (or of a torch `.pt` checkpoint, which needs torch), with
    numpy arrays for tensors; a CheckpointError names what is wrong."""
    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else kind
    if not os.path.lexists(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        data = read_capped(path, MAX_CHECKPOINT_BYTES, "checkpoint")
    except DrumfontError as exc:
        raise CheckpointError(str(exc)) from None
    if not is_preset(data):
        if data[:2] == b"PK":  # a torch checkpoint (a zip)
            return from_checkpoint(load_checkpoint(path, kinds, data))
        if data[:1] == b"\x80":  # a bare pickle: the one thing a model file must never make us run
            raise CheckpointError(f"{path}: a plain pickle, which drumfont never unpickles (a preset is a "
                                  ".safetensors file, a torch checkpoint a .pt zip)")
        raise CheckpointError(f"{path}: not a readable drumfont checkpoint (neither a .safetensors preset nor a torch .pt)")
    blob = read_preset(data, str(path))
    check_fields(blob, path)
    if blob["kind"] not in kinds:
        raise CheckpointError(f"{path}: is a {blob['kind']!r} model, expected {' or '.join(kinds)}")
    if blob["format"] > FORMAT:
        raise CheckpointError(f"{path}: preset format {blob['format']} is newer than this drumfont")
    return blob


def make_config(config_cls: type, config: Any, source: str):
    """The config dataclass a checkpoint's config dict rebuilds, its sizes in the trainers'
    ranges; a missing, unknown or out-of-range field is a CheckpointError."""
    check_config(config, source)
    try:
        return config_cls(**config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{source}: the {config_cls.__name__} in it does not load ({exc})") from None


def build(source: str | os.PathLike, make: Callable[[], T]) -> T:
    """`make()`, a model built from a checkpoint's config and weights, with a weight that does not
    fit said as a CheckpointError naming the file."""
    try:
        return make()
    except CheckpointError as exc:
        raise CheckpointError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CheckpointError(f"{source}: the model in it does not load ({str(exc)[:120]})") from None
