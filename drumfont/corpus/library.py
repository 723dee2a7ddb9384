"""`drumfont data import`: a folder of the user's MIDI files -> a drums dataset file.

Files are read in a process pool (the importer is pure Python, so processes, not threads, use
the cores); results come back in the order of the sorted file list, so the same inputs give the
same dataset bytes. A bad file is reported with its cause and skipped; it never stops a batch.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.corpus.dataset import DrumDataset, SourceTable, stratified_split
from drumfont.errors import DrumfontError, MidiFileError
from drumfont.midifile import read_midi
from drumfont.pattern import N_VOICES, STEPS, stack, stack_offsets
from drumfont.writes import check_writable

MIDI_SUFFIXES = (".mid", ".midi")
# Below this many files a pool costs more to start than it saves.
MIN_FILES_FOR_POOL = 8
# A summary lists every skipped file up to max_listed of them; beyond, this many per cause.
EXAMPLES_PER_CAUSE = 3


@dataclass
class ImportReport:
    """What an import found, kept, skipped and wrote."""

    out: Path
    files: int = 0                                   # MIDI files looked at
    files_ok: int = 0                                # files that gave at least one bar
    bad: list[tuple[str, str]] = field(default_factory=list)  # (file, cause)
    bars: int = 0
    skipped_meter: int = 0
    empty_bars: int = 0
    per_genre: dict[str, int] = field(default_factory=dict)
    train: int = 0
    val: int = 0
    seconds: float = 0.0

    def summary(self, max_listed: int = 20) -> str:
        """A few lines for the terminal: counts, genres, and the skipped files with their causes
        (beyond `max_listed` of them, a count per kind of cause with a few examples of each)."""
        rate = self.files / self.seconds if self.seconds > 0 else float("inf")
        lines = [f"imported {self.bars} bars from {self.files_ok} of {self.files} files "
                 f"in {self.seconds:.2f} s ({rate:.0f} files/s) -> {self.out}",
                 f"  split: {self.train} train, {self.val} validation; skipped: "
                 f"{self.skipped_meter} bars not in 4/4, {self.empty_bars} empty bars, {len(self.bad)} bad files"]
        if self.per_genre:
            lines.append("  genres: " + ", ".join(f"{g} {n}" for g, n in self.per_genre.items()))
        if len(self.bad) <= max_listed:
            lines += [f"  skipped {f}: {cause}" for f, cause in self.bad]
            return "\n".join(lines)
        # Thousands of files: a count per kind of cause, with a few files of each as examples.
        lines.append(f"  skipped files by cause ({len(self.bad)} in all; --skip-log FILE lists every one):")
        examples: dict[str, list[str]] = {}
        for f, cause in self.bad:
            examples.setdefault(_cause_kind(cause), []).append(f"{f}: {cause}")
        for kind, n in self.causes().most_common():
            lines.append(f"    {n:>7}  {kind}")
            lines += [f"             e.g. {example}" for example in examples[kind][:EXAMPLES_PER_CAUSE]]
        return "\n".join(lines)

    def causes(self) -> Counter:
        """Skipped files counted by kind of cause (numbers and parenthesised details dropped)."""
        return Counter(_cause_kind(cause) for _, cause in self.bad)

    def skip_log(self) -> bytes:
        """Every skipped file and its cause, one `file<TAB>cause` line each (UTF-8)."""
        return "".join(f"{f}\t{cause}\n" for f, cause in self.bad).encode()


def _cause_kind(cause: str) -> str:
    """'65 MB is too large (x)' -> 'N MB is too large': causes that differ only in figures group."""
    return re.sub(r"\d+", "N", re.sub(r"\s*\([^)]*\)", "", cause)).strip()


def find_midi_files(paths: Sequence[str | os.PathLike]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to import (folders walked recursively for .mid/.midi, case-insensitive; a file named
    on its own is taken whatever its suffix) and the paths that could not be walked."""
    files: list[Path] = []
    bad: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found: list[Path] = []

            def onerror(exc: OSError) -> None:
                bad.append((str(exc.filename or path), f"cannot read folder ({exc.strerror or exc})"))

            for root, dirs, names in os.walk(path, onerror=onerror):
                dirs.sort()
                found += [Path(root) / n for n in names if n.lower().endswith(MIDI_SUFFIXES)]
            files += sorted(found)
        else:
            # Missing paths and dangling links are read (and fail) like any file, so that the
            # error names them.
            files.append(path)
    # A file reached twice (named, and inside a named folder) is read once.
    unique: dict[str, Path] = {}
    for f in files:
        unique.setdefault(os.path.realpath(f), f)
    return list(unique.values()), bad


# (file, velocities (k, 16, 9), offsets (k, 16, 9) float16, bar numbers (k,), bars in other
# meters, empty bars, error or None)
_Result = tuple[str, np.ndarray, np.ndarray, np.ndarray, int, int, "str | None"]


def _failed(path: str, cause: str) -> _Result:
    empty = np.zeros((0, STEPS, N_VOICES), np.uint8)
    return path, empty, empty.astype(np.float16), np.zeros(0, np.int64), 0, 0, cause


def _read_one(job: tuple[str, bool]) -> _Result:
    """Worker: one file's bars as arrays (cheap to send between processes)."""
    path, all_channels = job
    try:
        r = read_midi(path, all_channels)
    except MidiFileError as exc:
        return _failed(path, str(exc))
    except Exception as exc:  # a bug in the reader must not lose the rest of a batch
        return _failed(path, f"{path}: unexpected {type(exc).__name__}: {exc}")
    vel = stack(r.patterns)
    off = stack_offsets(r.patterns).astype(np.float16)
    return path, vel, off, np.array(r.bars, np.int64), r.skipped_meter, r.empty_bars, None


def _read_all(files: list[Path], all_channels: bool, workers: int, progress: bool):
    jobs = [(str(f), all_channels) for f in files]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="file", file=sys.stderr, desc="import")
    try:
        if workers <= 1 or len(jobs) < MIN_FILES_FOR_POOL:
            for job in jobs:
                yield _read_one(job)
                if bar:
                    bar.update()
            return
        import multiprocessing as mp

        # Chunks big enough to amortise the pickling, small enough to keep both cores busy to the end.
        chunk = max(1, min(64, len(jobs) // (workers * 8)))
        with mp.get_context("spawn" if sys.platform == "win32" else "fork").Pool(workers) as pool:
            for result in pool.imap(_read_one, jobs, chunksize=chunk):  # imap keeps the input order
                yield result
                if bar:
                    bar.update()
    finally:
        if bar:
            bar.close()


def _label(path: str, style: str | None, style_from_folder: bool) -> str | None:
    if style is not None:
        return style.strip().lower()
    if style_from_folder:
        return Path(path).absolute().parent.name.lower() or None  # the folder the user filed it in, links kept
    return None


def import_library(paths: Sequence[str | os.PathLike], out: str | os.PathLike, style: str | None = None,
                   style_from_folder: bool = False, all_channels: bool = False, val_share: float = 0.2,
                   seed: int = 0, workers: int | None = None, force: bool = False,
                   progress: bool = False) -> ImportReport:
    """Import the drum bars of MIDI files and folders into a dataset file at `out`."""
    t0 = time.perf_counter()
    out = Path(out)
    check_writable(out, force)  # before the work, not after it
    if not 0 <= val_share < 1:
        raise DrumfontError(f"--val-share must be in [0, 1), got {val_share}")
    if style is not None and not style.strip():
        raise DrumfontError("--style needs a name")
    if not paths:
        raise DrumfontError("no files or folders to import")
    files, bad = find_midi_files(paths)
    if not files and not bad:
        raise DrumfontError(f"no .mid or .midi files found in {', '.join(str(p) for p in paths)}")
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))

    report = ImportReport(out=out, files=len(files), bad=list(bad))
    # Per good file: its bars, its label, its bar numbers (kept per file, not per bar, so a
    # big library does not become millions of Python objects).
    velocities: list[np.ndarray] = []
    offsets: list[np.ndarray] = []
    labels: list[str | None] = []
    counts: list[int] = []
    ok_files: list[str] = []
    bar_numbers: list[np.ndarray] = []
    for path, vel, off, bars, meter, empty, error in _read_all(files, all_channels, workers, progress):
        report.skipped_meter += meter
        report.empty_bars += empty
        if error is not None:
            report.bad.append((path, error.removeprefix(f"{path}: ")))
            continue
        if not len(vel):
            report.bad.append((path, f"no usable 4/4 drum bar ({meter} bars in other meters, {empty} empty)"))
            continue
        report.files_ok += 1
        velocities.append(vel)
        offsets.append(off)
        labels.append(_label(path, style, style_from_folder))
        counts.append(len(vel))
        ok_files.append(path)
        bar_numbers.append(bars)

    if not velocities:
        if len(files) == 1 and not bad and report.bad:
            f, cause = report.bad[0]
            raise MidiFileError(f"{f}: {cause}")
        causes = "; ".join(f"{f}: {c}" for f, c in report.bad[:3])
        more = f" (and {len(report.bad) - 3} more)" if len(report.bad) > 3 else ""
        raise DrumfontError(f"no usable drum bar in {len(files)} file(s): {causes}{more}")

    genres = tuple(sorted({g for g in labels if g is not None}))
    per_file = np.array([genres.index(g) if g is not None else -1 for g in labels], np.int16)
    genre = np.repeat(per_file, counts)
    split = stratified_split(genre, val_share, np.random.default_rng(seed))
    sources = SourceTable(ok_files, np.repeat(np.arange(len(ok_files), dtype=np.int32), counts),
                          np.concatenate(bar_numbers).astype(np.int32))
    data = DrumDataset(np.concatenate(velocities).astype(np.uint8), genre, split, genres, sources,
                       np.concatenate(offsets).astype(np.float16))
    data.save(out, force=force)

    report.bars = len(data)
    report.per_genre = {g: int((genre == i).sum()) for i, g in enumerate(genres)}
    if (genre < 0).any():
        report.per_genre["unlabelled"] = int((genre < 0).sum())
    report.train = int((split == 0).sum())
    report.val = int((split == 1).sum())
    report.seconds = time.perf_counter() - t0
    return report
