"""`drumfont data import`: a folder of the user's MIDI files (or a manifest's) -> a drums dataset
file. The reading pool here serves every import path (`data gmd` too); the split is by file.

Files are read in a process pool (the importer is pure Python, so processes, not threads, use
the cores); results come back in the order of the sorted file list, so the same inputs give the
same dataset bytes. A bad file is reported with its cause and skipped; it never stops a batch.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from drumfont.atomic import check_writable
from drumfont.drums.dataset import SPLITS, TEST, TRAIN, VAL, DrumDataset, SourceTable, grouped_split
from drumfont.errors import DrumfontError, MidiFileError
from drumfont.score.midifile import read_midi
from drumfont.score.pattern import N_VOICES, STEPS, stack, stack_offsets
from drumfont.validate import DATASET_OUT, is_dir, read_csv

MIDI_SUFFIXES = (".mid", ".midi")
# Below this many files a pool costs more to start than it saves.
MIN_FILES_FOR_POOL = 8
# A summary lists every skipped file up to max_listed of them; beyond, this many per cause.
EXAMPLES_PER_CAUSE = 3
# float16 rounds offsets just under 0.5 up to 0.5, outside a Pattern's [-0.5, 0.5): the
# largest float16 below 0.5 is the top.
OFFSET_TOP16 = np.nextafter(np.float16(0.5), np.float16(0))
# A manifest's split column: the dataset's words, and the short one.
SPLIT_WORDS: dict[str, int] = {**SPLITS, "val": VAL}


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
    test: int = 0
    fill_bars: int = 0
    # genre -> [train, validation, test bars, train, validation, test files]
    table: dict[str, list[int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)   # importer-specific lines (what was dropped, ...)
    seconds: float = 0.0

    def summary(self, max_listed: int = 20) -> str:
        """A few lines for the terminal: counts, genres, and the skipped files with their causes
        (beyond `max_listed` of them, a count per kind of cause with a few examples of each)."""
        rate = self.files / self.seconds if self.seconds > 0 else float("inf")
        lines = [f"imported {self.bars} bars from {self.files_ok} of {self.files} files "
                 f"in {self.seconds:.2f} s ({rate:.0f} files/s) -> {self.out}",
                 f"  split (by file): {self.train} train, {self.val} validation"
                 + (f", {self.test} test" if self.test else "") + "; skipped: "
                 f"{self.skipped_meter} bars not in 4/4, {self.empty_bars} empty bars, {len(self.bad)} bad files"]
        if self.fill_bars:
            lines.append(f"  fills: {self.fill_bars} bars; beats: {self.bars - self.fill_bars} bars")
        if self.per_genre:
            lines.append("  genres: " + ", ".join(f"{g} {n}" for g, n in self.per_genre.items()))
        if self.table:
            lines.append("  bars (files) per genre: train / validation" + (" / test" if self.test else ""))
            for g, (tr, va, te, ftr, fva, fte) in self.table.items():
                lines.append(f"    {g:<12}{tr:>7} ({ftr}) / {va} ({fva})" + (f" / {te} ({fte})" if self.test else ""))
        lines += [f"  {note}" for note in self.notes]
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
        if is_dir(path):
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
    off = np.minimum(stack_offsets(r.patterns).astype(np.float16), OFFSET_TOP16)
    return path, vel, off, np.array(r.bars, np.int64), r.skipped_meter, r.empty_bars, None


def _read_all(files: list[Path], all_channels: bool, workers: int, progress: bool):
    jobs = [(str(f), all_channels) for f in files]
    bar = None
    if progress:

        bar = tqdm(total=len(jobs), unit="file", file=sys.stderr, desc="import")
    try:
        if workers <= 1 or len(jobs) < MIN_FILES_FOR_POOL:
            for job in jobs:
                yield _read_one(job)
                if bar:
                    bar.update()
            return

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


@dataclass
class FileBars:
    """The usable bars of one file, as read by the pool."""

    path: str
    velocities: np.ndarray   # (k, 16, 9) uint8
    offsets: np.ndarray      # (k, 16, 9) float16
    bars: np.ndarray         # (k,) 1-based bar numbers in the file


def read_files(files: list[Path], report: ImportReport, all_channels: bool = False, workers: int | None = None,
               progress: bool = False) -> list[FileBars]:
    """Read files in the process pool, in order; each bad file goes into report.bad with its
    cause, bars in other meters and empty bars are counted. Every import path reads through here."""
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    kept: list[FileBars] = []
    for path, vel, off, bars, meter, empty, error in _read_all(files, all_channels, workers, progress):
        report.skipped_meter += meter
        report.empty_bars += empty
        if error is not None:
            report.bad.append((path, error.removeprefix(f"{path}: ")))
        elif not len(vel):
            report.bad.append((path, f"no usable 4/4 drum bar ({meter} bars in other meters, {empty} empty)"))
        else:
            report.files_ok += 1
            kept.append(FileBars(path, vel, off, bars))
    return kept


def no_bars_error(report: ImportReport, n_files: int, walk_errors: int = 0) -> DrumfontError:
    """The error for an import that found no usable bar: the file's own error when it was one file."""
    if n_files == 1 and not walk_errors and report.bad:
        f, cause = report.bad[0]
        return MidiFileError(f"{f}: {cause}")
    causes = "; ".join(f"{f}: {c}" for f, c in report.bad[:3])
    more = f" (and {len(report.bad) - 3} more)" if len(report.bad) > 3 else ""
    return DrumfontError(f"no usable drum bar in {n_files} file(s): {causes}{more}")


def assemble(kept: list[FileBars], labels: Sequence[str | None], splits: Sequence[int | None],
             val_share: float, seed: int, genres: Sequence[str] | None = None,
             fills: Sequence[bool] | None = None, names: Sequence[str] | None = None) -> DrumDataset:
    """One dataset from the files' bars: per file a label (None = unlabelled), a split (None =
    assign one) and optionally a fill flag and a source name. Files without a split are split by
    file, never by bar (`grouped_split`, stratified by label, deterministic by seed)."""
    if genres is None:
        genres = sorted({g for g in labels if g is not None})
    genres = tuple(genres)
    counts = np.array([len(f.velocities) for f in kept], np.int64)
    per_file = np.array([genres.index(g) if g is not None else -1 for g in labels], np.int16)
    file_split = np.array([TRAIN if s is None else s for s in splits], np.uint8)
    open_ = np.array([s is None for s in splits], bool)
    if open_.any():
        rows = np.flatnonzero(open_)
        # one item per bar, grouped by file, so the share is a share of bars
        bar_file = np.repeat(rows, counts[rows])
        bar_split = grouped_split(per_file[bar_file], bar_file, val_share, np.random.default_rng(seed))
        file_split[bar_file] = bar_split
    sources = SourceTable(list(names) if names is not None else [f.path for f in kept],
                          np.repeat(np.arange(len(kept), dtype=np.int32), counts),
                          np.concatenate([f.bars for f in kept]).astype(np.int32))
    return DrumDataset(np.concatenate([f.velocities for f in kept]).astype(np.uint8),
                       np.repeat(per_file, counts), np.repeat(file_split, counts), genres, sources,
                       np.concatenate([f.offsets for f in kept]).astype(np.float16),
                       None if fills is None else np.repeat(np.asarray(fills, bool), counts))


def tally(report: ImportReport, data: DrumDataset) -> None:
    """Fill the report's counts from the dataset written: bars per genre and split, files per split."""
    report.bars = len(data)
    genre, split = np.asarray(data.genre), np.asarray(data.split)
    report.per_genre = {g: int((genre == i).sum()) for i, g in enumerate(data.genres)}
    if (genre < 0).any():
        report.per_genre["unlabelled"] = int((genre < 0).sum())
    report.train, report.val, report.test = (int((split == s).sum()) for s in (TRAIN, VAL, TEST))
    if data.fill is not None:
        report.fill_bars = int(np.asarray(data.fill).sum())
    files = np.asarray(data.sources.file_index) if len(data.sources) else np.zeros(0, np.int32)
    for i, name in [(i, g) for i, g in enumerate(data.genres)] + [(-1, "unlabelled")]:
        m = genre == i
        if m.any():
            report.table[name] = [int((split[m] == s).sum()) for s in (TRAIN, VAL, TEST)] + \
                                 [len(np.unique(files[m & (split == s)])) for s in (TRAIN, VAL, TEST)]


def read_manifest(path: str | os.PathLike) -> list[tuple[Path, str | None, int | None]]:
    """(file, style or None, split or None) per row of a CSV with columns path, style, split;
    paths relative to the manifest's folder. A bad row is a one-line error naming its line."""
    path = Path(path)
    names, table = read_csv(path, "manifest")  # a regular file, capped; fields under csv's limit
    missing = [c for c in ("path", "style", "split") if c not in names]
    if missing:
        raise DrumfontError(f"{path}: manifest needs the columns path, style, split; missing {', '.join(missing)}")
    rows = []
    seen: dict[str, int] = {}
    for line, row in table:
        file = (row["path"] or "").strip()
        if not file:
            raise DrumfontError(f"{path} line {line}: empty path")
        key = os.path.realpath(path.parent / file)
        if key in seen:
            raise DrumfontError(f"{path} line {line}: {file} is already listed on line {seen[key]}")
        seen[key] = line
        split = (row["split"] or "").strip().lower()
        if split and split not in SPLIT_WORDS:
            raise DrumfontError(f"{path} line {line}: unknown split {row['split']!r} "
                                f"(train, validation, test, or empty to assign one)")
        style = (row["style"] or "").strip().lower() or None
        rows.append((path.parent / file, style, SPLIT_WORDS[split] if split else None))
    if not rows:
        raise DrumfontError(f"{path}: manifest has no rows")
    return rows


def import_library(paths: Sequence[str | os.PathLike], out: str | os.PathLike, style: str | None = None,
                   style_from_folder: bool = False, all_channels: bool = False, val_share: float = 0.2,
                   seed: int = 0, workers: int | None = None, force: bool = False,
                   progress: bool = False, manifest: str | os.PathLike | None = None) -> ImportReport:
    """Import the drum bars of MIDI files and folders (or of a manifest's files, with their
    styles and splits) into a dataset file at `out`. Validation is split by file."""
    t0 = time.perf_counter()
    out = Path(out)
    check_writable(out, force, DATASET_OUT, "data import")  # before the work, not after it
    if not 0 <= val_share < 1:
        raise DrumfontError(f"--val-share must be in [0, 1), got {val_share}")
    if style is not None and not style.strip():
        raise DrumfontError("--style needs a name")
    if manifest is not None:
        if paths or style is not None or style_from_folder:
            raise DrumfontError("--manifest names the files, styles and splits; give no paths, --style "
                                "or --style-from-folder with it")
        rows = read_manifest(manifest)
        files, bad = [r[0] for r in rows], []
        given = {os.path.realpath(f): (s, sp) for f, s, sp in rows}
    else:
        if not paths:
            raise DrumfontError("no files or folders to import")
        files, bad = find_midi_files(paths)
        if not files and not bad:
            raise DrumfontError(f"no .mid or .midi files found in {', '.join(str(p) for p in paths)}")

    report = ImportReport(out=out, files=len(files), bad=list(bad))
    kept = read_files(files, report, all_channels, workers, progress)
    if not kept:
        raise no_bars_error(report, len(files), len(bad))
    if manifest is not None:
        labels = [given[os.path.realpath(f.path)][0] for f in kept]
        splits = [given[os.path.realpath(f.path)][1] for f in kept]
    else:
        labels = [_label(f.path, style, style_from_folder) for f in kept]
        splits = [None] * len(kept)
    data = assemble(kept, labels, splits, val_share, seed)
    data.save(out, force=force)
    tally(report, data)
    report.seconds = time.perf_counter() - t0
    return report
