"""Pattern: one 4/4 bar as 16 sixteenth steps x 9 voices of velocities (0 = rest), and where
each hit sits against its sixteenth (micro-timing offsets, GrooVAE's hits/velocities/offsets).

Also the voice table, the human text form (one line per voice) and `validity`, the musical
sanity rules that the study's `drum_pattern_validity()` applied implicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from drumfont.errors import PatternError

STEPS = 16
VOICES: tuple[str, ...] = (
    "kick", "snare", "closed_hat", "open_hat", "tom_high", "tom_low", "crash", "ride", "clap",
)
N_VOICES = len(VOICES)
# Two-letter labels of the text form, in voice order.
LABELS: tuple[str, ...] = ("KK", "SN", "CH", "OH", "T1", "T2", "CR", "RD", "CP")
KICK, SNARE, CLOSED_HAT, OPEN_HAT, TOM_HIGH, TOM_LOW, CRASH, RIDE, CLAP = range(N_VOICES)

# Text form: one character per step. Each level has a velocity range and a canonical velocity
# (what a typed character means); other velocities are kept in an optional list after ';'.
REST = "."
LEVELS: tuple[tuple[str, int, int, int], ...] = (
    # char, lowest velocity, highest velocity, canonical velocity
    ("o", 1, 59, 40),     # ghost
    ("x", 60, 104, 90),   # normal
    ("X", 105, 127, 118),  # accent
)
_CANONICAL = {c: v for c, _, _, v in LEVELS}
_REST_CHARS = {".", "-", "_"}
# Micro-timing: a hit's offset from its sixteenth, in sixteenths. A note nearer the next step
# belongs to that step with a negative offset, so offsets lie in [-0.5, 0.5).
OFFSET_MIN, OFFSET_MAX = -0.5, 0.5
# The largest float32 below 0.5: where an offset of exactly +0.5 is asked for, it lands here.
_OFFSET_TOP = float(np.nextafter(np.float32(OFFSET_MAX), np.float32(0)))


def level_char(velocity: int) -> str:
    """The text character for a velocity (0 -> rest)."""
    if velocity <= 0:
        return REST
    for char, lo, hi, _ in LEVELS:
        if lo <= velocity <= hi:
            return char
    raise PatternError(f"velocity {velocity} is outside 0..127")


def clip_offsets(offsets: np.ndarray) -> np.ndarray:
    """Offsets as float32 in [-0.5, 0.5) (NaN -> 0), the range a Pattern holds."""
    o = np.nan_to_num(np.asarray(offsets, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(o, np.float32(OFFSET_MIN), np.float32(_OFFSET_TOP))


@dataclass(frozen=True, eq=False)
class Pattern:
    """One bar: `velocities[step, voice]` in 0..127, 0 meaning no hit, and `offsets[step, voice]`,
    where a hit sits against its sixteenth in sixteenths, [-0.5, 0.5); 0 on rests. A pattern made
    without offsets is straight (all zeros) and behaves as a grid pattern everywhere."""

    velocities: np.ndarray  # (16, 9) uint8
    offsets: np.ndarray | None = None  # (16, 9) float32; None -> zeros

    def __post_init__(self) -> None:
        v = np.asarray(self.velocities)
        if v.shape != (STEPS, N_VOICES):
            raise PatternError(f"a pattern is {STEPS} steps x {N_VOICES} voices, got shape {v.shape}")
        if v.size and (v.min() < 0 or v.max() > 127):
            raise PatternError("velocities must lie in 0..127")
        v = v.astype(np.uint8, copy=True)
        v.setflags(write=False)
        object.__setattr__(self, "velocities", v)
        if self.offsets is None:
            o = np.zeros((STEPS, N_VOICES), np.float32)
        else:
            o = np.asarray(self.offsets, np.float32)
            if o.shape != (STEPS, N_VOICES):
                raise PatternError(f"offsets must be {STEPS} x {N_VOICES}, got shape {o.shape}")
            if not np.isfinite(o).all() or o.min() < OFFSET_MIN or o.max() >= OFFSET_MAX:
                raise PatternError("offsets must lie in [-0.5, 0.5) of a sixteenth")
            o = np.where(v > 0, o, np.float32(0)).astype(np.float32)  # a rest has no timing
        o.setflags(write=False)
        object.__setattr__(self, "offsets", o)

    @classmethod
    def batch(cls, velocities: np.ndarray, offsets: np.ndarray | None = None) -> list[Pattern]:
        """Patterns of (N, 16, 9) arrays, checked once for the whole batch rather than bar by bar
        (sampling 1000 bars spent most of its time in per-bar checks)."""
        v = np.asarray(velocities)
        if v.ndim != 3 or v.shape[1:] != (STEPS, N_VOICES):
            raise PatternError(f"a batch of patterns is (N, {STEPS}, {N_VOICES}), got shape {v.shape}")
        if v.size and (v.min() < 0 or v.max() > 127):
            raise PatternError("velocities must lie in 0..127")
        v = v.astype(np.uint8)
        o = np.zeros(v.shape, np.float32) if offsets is None else clip_offsets(offsets)
        o = np.where(v > 0, o, np.float32(0)).astype(np.float32)
        v.setflags(write=False)
        o.setflags(write=False)
        out = []
        for vi, oi in zip(v, o):
            p = object.__new__(cls)
            object.__setattr__(p, "velocities", vi)
            object.__setattr__(p, "offsets", oi)
            out.append(p)
        return out

    @classmethod
    def empty(cls) -> Pattern:
        """A bar of rests."""
        return cls(np.zeros((STEPS, N_VOICES), np.uint8))

    @classmethod
    def from_hits(cls, hits: np.ndarray, velocities: np.ndarray | None = None,
                  default_velocity: int = 90, offsets: np.ndarray | None = None) -> Pattern:
        """Build from a binary (16, 9) hit grid and optional velocities and offsets (used where
        hits are set; offsets are clipped into [-0.5, 0.5))."""
        hits = np.asarray(hits).astype(bool)
        if velocities is None:
            vel = np.full(hits.shape, default_velocity)
        else:
            vel = np.clip(np.rint(np.asarray(velocities, dtype=np.float64)), 1, 127)
        return cls(np.where(hits, vel, 0).astype(np.uint8),
                   None if offsets is None else clip_offsets(offsets))

    @property
    def hits(self) -> np.ndarray:
        """Binary (16, 9) grid, the model's view of the bar."""
        return self.velocities > 0

    @property
    def timed(self) -> bool:
        """True when any hit sits off its sixteenth (the pattern carries a player's timing)."""
        return bool(self.offsets.any())

    def straight(self) -> Pattern:
        """The same hits and velocities on the grid (offsets dropped)."""
        return Pattern(self.velocities)

    def with_velocity(self, step: int, voice: int, velocity: int) -> Pattern:
        """A copy with one cell changed (0 clears it; a kept hit keeps its timing)."""
        v = self.velocities.copy()
        v[step, voice] = int(np.clip(velocity, 0, 127))
        return Pattern(v, self.offsets)

    def with_offsets(self, offsets: np.ndarray | None) -> Pattern:
        """A copy with new offsets (clipped into range; None = straight)."""
        return Pattern(self.velocities, None if offsets is None else clip_offsets(offsets))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Pattern) and np.array_equal(self.velocities, other.velocities)
                and np.array_equal(self.offsets, other.offsets))

    def __hash__(self) -> int:
        return hash((self.velocities.tobytes(), self.offsets.tobytes()))

    def __repr__(self) -> str:
        return f"Pattern({int(self.hits.sum())} hits)\n{to_text(self)}"


# --- text form -------------------------------------------------------------------------------

def to_text(pattern: Pattern, all_voices: bool = True) -> str:
    """One line per voice: `KK X...x...x..o.x...`, plus `; v1 v2 ...` where velocities are not
    the canonical ones of their characters, so that `from_text(to_text(p)) == p` always."""
    lines = []
    for voice, label in enumerate(LABELS):
        column = pattern.velocities[:, voice]
        if not all_voices and not column.any():
            continue
        chars = "".join(level_char(int(v)) for v in column)
        line = f"{label} {chars}"
        played = [int(v) for v in column if v > 0]
        if any(v != _CANONICAL[level_char(v)] for v in played):
            line += " ; " + " ".join(str(v) for v in played)
        timing = pattern.offsets[:, voice][column > 0]
        if timing.any():
            line += " @ " + " ".join(format_offset(o) for o in timing)
        lines.append(line)
    return "\n".join(lines)


def format_offset(offset: float) -> str:
    """The shortest text that reads back as the same float32 offset, signed: `+0.12`, `-0.031`."""
    text = np.format_float_positional(np.float32(offset), unique=True, trim="-")
    return text if text.startswith("-") else "+" + text


def _voice_index(name: str) -> int:
    key = name.strip().lower()
    for i, (label, voice) in enumerate(zip(LABELS, VOICES)):
        if key in (label.lower(), voice):
            return i
    raise PatternError(f"unknown voice {name!r}; use one of {', '.join(LABELS)}")


def from_text(text: str) -> Pattern:
    """Parse the text form. Voices may come in any order; a missing voice is all rests.
    Lines starting with '#' and blank lines are ignored; '|' and spaces inside the steps are
    ignored too, so `x...|x...|x...|x...` reads as well as `x...x...x...x...`. After the steps,
    `; v v ...` gives each hit's velocity and `@ o o ...` each hit's offset in sixteenths."""
    vel = np.zeros((STEPS, N_VOICES), np.int64)
    off = np.zeros((STEPS, N_VOICES), np.float32)
    seen: set[int] = set()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line, _, timing = line.partition("@")
        body, _, explicit = line.partition(";")
        label, _, steps = body.strip().partition(" ")
        try:
            voice = _voice_index(label)
        except PatternError as exc:
            raise PatternError(f"line {lineno}: {exc}") from None
        if voice in seen:
            raise PatternError(f"line {lineno}: voice {LABELS[voice]} appears twice")
        seen.add(voice)
        steps = "".join(c for c in steps if c not in " |\t")
        if len(steps) != STEPS:
            raise PatternError(f"line {lineno}: {LABELS[voice]} has {len(steps)} steps, needs {STEPS}")
        column = []
        for c in steps:
            if c in _REST_CHARS:
                column.append(0)
            elif c in _CANONICAL:
                column.append(_CANONICAL[c])
            else:
                raise PatternError(f"line {lineno}: unknown step character {c!r}; use X (accent), "
                                   "x (normal), o (ghost) or . (rest)")
        if explicit.strip():
            try:
                given = [int(t) for t in explicit.split()]
            except ValueError:
                raise PatternError(f"line {lineno}: velocities after ';' must be whole numbers") from None
            played = [i for i, v in enumerate(column) if v]
            if len(given) != len(played):
                raise PatternError(f"line {lineno}: {len(played)} hits but {len(given)} velocities after ';'")
            for i, v in zip(played, given):
                if not 1 <= v <= 127:
                    raise PatternError(f"line {lineno}: velocity {v} is outside 1..127")
                if level_char(v) != steps[i]:
                    raise PatternError(f"line {lineno}: velocity {v} does not match step character "
                                       f"{steps[i]!r} (it reads as {level_char(v)!r})")
                column[i] = v
        vel[:, voice] = column
        if timing.strip():
            off[:, voice] = _parse_offsets(timing, column, lineno)
    if not seen:
        raise PatternError("no voice lines found; expected lines like 'KK x...x...x...x...'")
    return Pattern(vel.astype(np.uint8), off)


def _parse_offsets(timing: str, column: list[int], lineno: int) -> np.ndarray:
    played = [i for i, v in enumerate(column) if v]
    try:
        given = [np.float32(float(t)) for t in timing.split()]
    except ValueError:
        raise PatternError(f"line {lineno}: offsets after '@' must be numbers like +0.1 or -0.05") from None
    if len(given) != len(played):
        raise PatternError(f"line {lineno}: {len(played)} hits but {len(given)} offsets after '@'")
    out = np.zeros(STEPS, np.float32)
    for i, o in zip(played, given):
        if not OFFSET_MIN <= o < OFFSET_MAX:
            raise PatternError(f"line {lineno}: offset {o} is outside [-0.5, 0.5) of a sixteenth")
        out[i] = o
    return out


# --- validity --------------------------------------------------------------------------------

# Most hits a voice plausibly plays in one bar of sixteenths. Hats and ride can run straight
# sixteenths; a kick of more than 12 is a roll, not a groove; crashes and open hats decay
# through several steps, so more than a handful smears into a wash.
MAX_HITS_PER_VOICE = {
    KICK: 12, SNARE: 12, CLOSED_HAT: 16, OPEN_HAT: 8, TOM_HIGH: 8, TOM_LOW: 8,
    CRASH: 4, RIDE: 16, CLAP: 8,
}
MAX_DENSITY = 0.5  # share of the 144 cells; above it a bar is noise, not a groove


def _not_empty(h: np.ndarray) -> bool:
    # Three hits is the least that makes a figure one can loop (e.g. kick, snare, kick).
    return int(h.sum()) >= 3


def _not_saturated(h: np.ndarray) -> bool:
    return h.mean() <= MAX_DENSITY


def _has_time_keeper(h: np.ndarray) -> bool:
    # Something keeps time: a cymbal line (hats or ride, >= 4 hits) or a pulse from kick, snare
    # or clap (>= 2 hits between them).
    cymbals = h[:, [CLOSED_HAT, OPEN_HAT, RIDE]].sum()
    pulse = h[:, [KICK, SNARE, CLAP]].sum()
    return bool(cymbals >= 4 or pulse >= 2)


def _hats_exclusive(h: np.ndarray) -> bool:
    # One hi-hat cannot be open and closed on the same sixteenth.
    return not bool((h[:, CLOSED_HAT] & h[:, OPEN_HAT]).any())


def _plausible_density(h: np.ndarray) -> bool:
    counts = h.sum(axis=0)
    return all(int(counts[v]) <= limit for v, limit in MAX_HITS_PER_VOICE.items())


def _anchored(h: np.ndarray) -> bool:
    # At least one hit on a quarter-note beat (steps 0, 4, 8, 12): a bar with nothing on any beat
    # has lost the meter.
    return bool(h[0::4].any())


# Rule name -> (check on the binary grid, what it means). validity() is the share passed.
RULES: dict[str, tuple[Callable[[np.ndarray], bool], str]] = {
    "not_empty": (_not_empty, "at least 3 hits"),
    "not_saturated": (_not_saturated, f"at most {MAX_DENSITY:.0%} of the 144 cells hit"),
    "time_keeper": (_has_time_keeper, ">= 4 hat/ride hits or >= 2 kick/snare/clap hits"),
    "hats_exclusive": (_hats_exclusive, "no open and closed hi-hat on the same step"),
    "plausible_density": (_plausible_density, "no voice above its per-bar maximum"),
    "anchored": (_anchored, "at least one hit on a quarter-note beat"),
}


def validity_report(pattern: Pattern | np.ndarray) -> dict[str, bool]:
    """Each rule's verdict on the pattern (or a binary (16, 9) grid)."""
    h = pattern.hits if isinstance(pattern, Pattern) else np.asarray(pattern).astype(bool)
    return {name: bool(check(h)) for name, (check, _) in RULES.items()}


def validity(pattern: Pattern | np.ndarray) -> float:
    """Share of the musical rules in `RULES` that the pattern passes, in [0, 1]."""
    report = validity_report(pattern)
    return sum(report.values()) / len(report)


def batch_validity(hits: np.ndarray) -> np.ndarray:
    """validity() of each grid in an (N, 16, 9) batch."""
    return np.array([validity(h) for h in np.asarray(hits).astype(bool)])


def stack_offsets(patterns: Iterable[Pattern]) -> np.ndarray:
    """(N, 16, 9) float32 offsets of a sequence of patterns."""
    arrays = [p.offsets for p in patterns]
    return np.stack(arrays) if arrays else np.zeros((0, STEPS, N_VOICES), np.float32)


def stack(patterns: Iterable[Pattern]) -> np.ndarray:
    """(N, 16, 9) uint8 velocities of a sequence of patterns."""
    arrays = [p.velocities for p in patterns]
    return np.stack(arrays) if arrays else np.zeros((0, STEPS, N_VOICES), np.uint8)
