"""What every trainer shares: config dataclasses as CLI flags, seeding, a JSON-lines history,
and a progress bar. Kept small; each trainer's loop stays written out in its own file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
from pathlib import Path
from typing import Any, Iterable, TypeVar

import numpy as np
from tqdm import tqdm

from drumfont.atomic import write_atomic
from drumfont.errors import DrumfontError
from drumfont.validate import MAX_HISTORY_BYTES, explain_os_error, read_text, trainer_arg

T = TypeVar("T")


def add_dataclass_args(parser: argparse.ArgumentParser, cls: type, prefix: str = "") -> None:
    """One `--flag` per field of a config dataclass (bools become --x / --no-x), with the
    field's default and its `metadata['help']`, so the config is the single source of truth."""
    for f in dataclasses.fields(cls):
        name = "--" + prefix + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        help_ = f.metadata.get("help", "") + f" (default: {default})"
        choices = f.metadata.get("choices")
        if f.type in (bool, "bool"):
            parser.add_argument(name, dest=prefix + f.name, action=argparse.BooleanOptionalAction,
                                default=default, help=help_)
        elif f.type in (int, "int"):
            parser.add_argument(name, dest=prefix + f.name, type=trainer_arg(f.name, int), default=default,
                                help=help_, choices=choices)
        elif f.type in (float, "float"):
            parser.add_argument(name, dest=prefix + f.name, type=trainer_arg(f.name, float), default=default,
                                help=help_)
        elif f.type in ("tuple[int, ...]", tuple):
            parser.add_argument(name, dest=prefix + f.name, type=trainer_arg(f.name, int), nargs="+",
                                default=default, help=help_)
        else:
            parser.add_argument(name, dest=prefix + f.name, type=str, default=default, help=help_, choices=choices)


def dataclass_from_args(cls: type[T], args: argparse.Namespace, prefix: str = "") -> T:
    """Build a config dataclass from the parsed flags made by add_dataclass_args."""
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = getattr(args, prefix + f.name)
        kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch global state. Trainers still pass explicit generators where
    they sample; this covers layers that draw from the global stream (init, dropout)."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class History:
    """Append-only JSON-lines log of training: one object per line, flushed at once, so a killed
    run keeps everything up to its last line; `truncate_after` drops lines past a resumed epoch."""

    def __init__(self, path: str | os.PathLike, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        if enabled:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise explain_os_error(self.path, exc) from None

    def write(self, record: dict[str, Any]) -> None:
        """Append one record."""
        if not self.enabled:
            return
        try:
            with self.path.open("a") as fh:
                fh.write(json.dumps(record, default=_jsonable) + "\n")
        except OSError as exc:
            raise explain_os_error(self.path, exc) from None

    def read(self) -> list[dict[str, Any]]:
        """All records so far. A torn last line (the run was killed mid-write) is dropped; a
        damaged line before it is a DrumfontError naming the file and the line."""
        if not os.path.lexists(self.path):
            return []
        lines = [(i, line) for i, line in enumerate(read_text(self.path, MAX_HISTORY_BYTES, "history file").splitlines(), 1)
                 if line.strip()]
        records = []
        for k, (i, line) in enumerate(lines):
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                if k == len(lines) - 1:
                    break  # torn by a kill mid-write: everything before it stands
                raise DrumfontError(f"{self.path}: line {i} is damaged ({exc}); delete that line to resume") from None
            records.append(record)
        return records

    def truncate_after(self, key: str, value: float) -> None:
        """Keep only records whose `key` is <= value (records without it are kept); atomic."""
        if not self.enabled or not self.path.exists():
            return
        kept = [r for r in self.read() if not isinstance(r.get(key, value), (int, float)) or r.get(key, value) <= value]
        write_atomic(self.path, "".join(json.dumps(r, default=_jsonable) + "\n" for r in kept).encode(), force=True)


def _jsonable(x: Any) -> Any:
    if hasattr(x, "tolist"):
        return x.tolist()
    if hasattr(x, "item"):
        return x.item()
    raise TypeError(f"cannot write {type(x).__name__} to history")


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool = True) -> Iterable[T]:
    """A tqdm bar on stderr when enabled and stderr is a terminal; the plain iterable otherwise."""
    if not enabled or not sys.stderr.isatty():
        return iterable

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)
