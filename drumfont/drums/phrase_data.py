"""Phrases from a drums dataset: windows of consecutive bars of one performance, each bar with its
genre, position in the phrase and a fill flag. Numpy only (the report and the engine's tests use
it without torch).

Where the windows come from. Groove MIDI files are labelled beat or fill (info.csv); the fill
files are separate one- or two-bar takes (581 files, median 1 bar), so they have no groove around
them. Windows come from the beat files: runs of bars whose bar numbers follow each other (an
empty bar, which the importer skips, breaks a run), cut on a grid of L bars from the first bar of
the run (L = 1, 2, 4, 8). The grid from the file's start is where the phrase structure shows: in
4-bar windows on it (training split), each bar's Jaccard distance to bar 1 is 0.42, 0.39, 0.53 for
bars 2-4; on the grid shifted by one to three bars the last bar stands out by 0.02-0.08 only.

The fill flag (`detect_fills`). Inside beat files nothing says which bar is a fill, so it is
derived: a bar is a fill when it *opens in the groove and leaves it*: the first half (steps 0-7)
within Jaccard 0.4 of the same half of one of the two bars before it, the second half (steps 8-15)
further than 0.6 from the second half of both. Measured on the training split's beat bars (15,621
with two bars before them; `runs` below) beside the simpler rules tried, "crash" meaning a crash on
the next bar's downbeat (or on the last sixteenth of the bar itself, a hair early):

| rule | bars flagged | crash after: flagged / the rest | toms | at 4-bar ends / elsewhere |
|---|---|---|---|---|
| whole bar > 0.6 from both previous bars | 18.5 % | 0.243 / 0.086 | 0.52 | 1.46 x |
| second half > 0.6 | 22.4 % | 0.272 / 0.071 | 0.53 | 1.60 x |
| **second half > 0.6, first half < 0.4** (kept) | **5.6 %** | **0.338 / 0.100** | **0.55** | **1.87 x** |
| a fill-vs-beat classifier on GMD's fill files (val AUC 0.92), p > 0.5, and second half > 0.6 | 6.4 % | 0.343 / 0.100 | 0.66 | 1.81 x |

(beat bars as a whole: toms in 0.35 of them; bars of GMD's fill files: 0.76.) The kept rule is
followed by a crash three times as often as other bars and falls at phrase ends about twice as
often as elsewhere, the two marks of a fill that no rule looked at; the classifier variant is no
better on either and needs a model in the data path. Bars in GMD's fill files are flagged too
(their label), though they never enter a window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LENGTHS: tuple[int, ...] = (1, 2, 4, 8)
MAX_BARS = 8                 # the longest window; position and bars-to-end are one-hots of this size
HALF = 8                     # steps in half a bar
KEEP_FIRST = 0.4             # a fill's first half stays within this Jaccard distance of the groove
LEAVE_SECOND = 0.6           # ... and its second half leaves it by more than this
CONTEXT = 2                  # bars before a bar that stand for "the groove"
CRASH = 6                    # voice index (drums.pattern.CRASH), kept here to stay numpy-only


def jaccard_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - |a & b| / |a | b| over the last two axes of boolean grids (broadcast); two empty
    grids are at distance 0."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = (a | b).sum((-1, -2))
    inter = (a & b).sum((-1, -2))
    return np.where(union > 0, 1.0 - inter / np.maximum(union, 1), 0.0)


def runs(source_file: np.ndarray, source_bar: np.ndarray, keep: np.ndarray) -> list[np.ndarray]:
    """Row indices of every run of consecutive bars (same file, bar numbers one apart) among the
    rows where `keep` is true, in file order."""
    source_file, source_bar = np.asarray(source_file), np.asarray(source_bar)
    rows = np.flatnonzero(np.asarray(keep, bool))
    if not len(rows):
        return []
    order = rows[np.lexsort((source_bar[rows], source_file[rows]))]
    f, b = source_file[order], source_bar[order]
    breaks = np.flatnonzero((np.diff(f) != 0) | (np.diff(b) != 1)) + 1
    return np.split(order, breaks)


def departure_scores(hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a run of bars (R, 16, 9): the Jaccard distance of each bar's first half and of its
    second half to the nearest of the CONTEXT bars before it (NaN for the first CONTEXT bars)."""
    h = np.asarray(hits, bool)
    first = np.full(len(h), np.nan)
    second = np.full(len(h), np.nan)
    for i in range(CONTEXT, len(h)):
        prev = h[i - CONTEXT:i]
        first[i] = jaccard_distance(h[i, :HALF][None], prev[:, :HALF]).min()
        second[i] = jaccard_distance(h[i, HALF:][None], prev[:, HALF:]).min()
    return first, second


def detect_fills(hits: np.ndarray, source_file: np.ndarray, source_bar: np.ndarray,
                 fill_file: np.ndarray | None = None) -> np.ndarray:
    """(N,) bool: the bars of beat files that open in the groove and leave it (see the module's
    docstring), and every bar of a fill file (`fill_file`, the dataset's `fill` array)."""
    h = np.asarray(hits) > 0
    fill_file = np.zeros(len(h), bool) if fill_file is None else np.asarray(fill_file, bool)
    out = fill_file.copy()
    for run in runs(source_file, source_bar, ~fill_file):
        first, second = departure_scores(h[run])
        with np.errstate(invalid="ignore"):
            out[run] = (first < KEEP_FIRST) & (second > LEAVE_SECOND)
    return out


@dataclass
class Windows:
    """Phrases of one length L: row indices into the dataset and what each bar is conditioned on."""

    length: int
    rows: np.ndarray        # (W, L) int64 rows of the dataset
    prev: np.ndarray        # (W,) int64 row of the bar before the window in its run, -1 at a run's start
    genre: np.ndarray       # (W,) int64 genre index (-1 = unlabelled)
    fill: np.ndarray        # (W, L) bool fill flags
    prev_fill: np.ndarray   # (W,) bool: the bar before the window is a fill
    split: np.ndarray       # (W,) the split of the window's file

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, mask: np.ndarray) -> Windows:
        """The windows where mask is true."""
        return Windows(self.length, self.rows[mask], self.prev[mask], self.genre[mask], self.fill[mask],
                       self.prev_fill[mask], self.split[mask])


def build_windows(hits: np.ndarray, genre: np.ndarray, split: np.ndarray, source_file: np.ndarray,
                  source_bar: np.ndarray, fill_file: np.ndarray | None = None,
                  lengths: tuple[int, ...] = LENGTHS, fills: np.ndarray | None = None) -> dict[int, Windows]:
    """Windows of each length on the grid of L bars from the start of each run of a beat file's
    consecutive bars (a run's tail shorter than L is left out of that length). `fills` are the
    per-bar flags (default: `detect_fills`)."""
    for length in lengths:
        if not 1 <= length <= MAX_BARS:
            raise ValueError(f"window lengths are 1..{MAX_BARS}, got {length}")
    h = np.asarray(hits) > 0
    fill_file = np.zeros(len(h), bool) if fill_file is None else np.asarray(fill_file, bool)
    if fills is None:
        fills = detect_fills(h, source_file, source_bar, fill_file)
    genre, split = np.asarray(genre, np.int64), np.asarray(split)
    out: dict[int, Windows] = {}
    all_runs = runs(source_file, source_bar, ~fill_file)
    for length in lengths:
        rows, prev = [], []
        for run in all_runs:
            for s in range(0, len(run) - length + 1, length):
                rows.append(run[s:s + length])
                prev.append(run[s - 1] if s > 0 else -1)
        r = np.array(rows, np.int64).reshape(-1, length)
        p = np.array(prev, np.int64)
        first = r[:, 0] if len(r) else np.zeros(0, np.int64)
        out[length] = Windows(length, r, p, genre[first], fills[r], np.where(p >= 0, fills[p], False),
                              split[first])
    return out


def performed(ds) -> np.ndarray:
    """(N,) bool: bars of performances, i.e. not the rule corpus's bars that `data gmd --rule-claps`
    adds (source "rules:<genre>"): each of those is its own draw from the rules, so bars that follow
    each other in their numbering were never played one after the other."""
    rule_files = np.array([f.startswith("rules:") for f in ds.sources.files], bool)
    if not len(rule_files):
        return np.ones(len(ds), bool)
    return ~rule_files[np.asarray(ds.sources.file_index)]


def windows_of(ds, lengths: tuple[int, ...] = LENGTHS) -> dict[int, Windows]:
    """`build_windows` of a DrumDataset (its sources say which bars follow each other). A bar of the
    rule corpus (`performed`) is a phrase of one bar on its own: it keeps the hand clap, which the
    recordings lack, reachable, and never sits in a longer window."""
    played = performed(ds)
    files = np.asarray(ds.sources.file_index, np.int64).copy()
    bars = np.asarray(ds.sources.bar, np.int64).copy()
    lone = np.flatnonzero(~played)
    files[lone] = -1 - np.arange(len(lone))  # a file of its own for each
    bars[lone] = 1
    return build_windows(ds.velocities > 0, ds.genre, ds.split, files, bars, ds.fill, lengths)


def positions(length: int) -> tuple[np.ndarray, np.ndarray]:
    """(position in the phrase, bars to its end) of each bar of an L-bar phrase."""
    pos = np.arange(length)
    return pos, length - 1 - pos


def chunks(bars: int) -> list[int]:
    """A run of `bars` as the phrase lengths the model was trained on: 8-bar phrases, then the
    rest as 4, 2 and 1 (13 -> [8, 4, 1])."""
    if bars < 1:
        raise ValueError(f"bars must be at least 1, got {bars}")
    out = [MAX_BARS] * (bars // MAX_BARS)
    rest = bars % MAX_BARS
    for size in (4, 2, 1):
        if rest >= size:
            out.append(size)
            rest -= size
    return out


def crash_after(hits: np.ndarray, fills: np.ndarray, next_hits: np.ndarray) -> float:
    """Share of fill bars whose next bar opens with a crash (step 0, or a hair early: step 15 of
    the fill itself); NaN without a fill. hits/next_hits (N, 16, 9), fills (N,) bool."""
    f = np.asarray(fills, bool)
    if not f.any():
        return float("nan")
    h, n = np.asarray(hits, bool)[f], np.asarray(next_hits, bool)[f]
    return float((n[:, 0, CRASH] | h[:, 15, CRASH]).mean())
