"""The built-in genre corpus: seeded rules that play each genre's idioms, written to MIDI and
read back through the importer (the path a user's own MIDI takes).

Grid: 16 sixteenths of one 4/4 bar; beats 1-4 are steps 0, 4, 8, 12; "and" = step +2,
"e"/"a" = step +1/+3. Velocity levels: accent 106-124, normal 80-100, soft 60-78, ghost 22-45.
Every bar is checked with `pattern.validity` (must be 1.0) and is unique as a hit grid, within
its genre and across genres.

rock        closed hats (sometimes ride) in eighths, louder on the beats, now and then driving
            sixteenths; open hat on the "and" of 4; snare backbeat on 2 and 4 (accented); kick
            on 1 plus variants (3, the "and" of 3, pushes on "a"s); rare ghost snares; crash on
            1 sometimes; tom fills over beat 4 or beats 3-4 (hands leave the hats).
jazz        ride's swing figure "ding ding-a ding" (beats, skip notes on the "a" of 2 and 4, which
            is where a swung eighth lands on a sixteenth grid), 2 and 4 leaned on; hi-hat foot
            (closed hat) on 2 and 4; kick feathered on all four beats at ghost level or a sparse
            "bomb" or two off the beat; snare comping mostly ghosted, off the beat; short fills.
hiphop      syncopated kicks from boom-bap figures (1, "a" of 2, "and" of 3, ...) with
            variations; snare and/or clap on 2 and 4; closed hats in sixteenths with weak
            in-between notes (swung at 57 % when written), or eighths with pickups, or a
            hat roll over one beat; ghost snares; open hat now and then.
electronic  four-on-the-floor kick (plus a rare pickup); open hats on the off-beats; clap
            (or snare, or both) on 2 and 4; sixteenth closed hats around the open hats (some
            dropped), or off-sixteenths only, or none; occasional crash on 1, snare roll
            into the next bar, percussion (tom) hits.
latin       clave on the rim (snare) or clap: son or rumba clave, 3-2 or 2-3, or the bossa
            clave; salsa/son: tumbao bass drum on the "and" of 2 and on 4, congas on the toms
            (slaps high on 2 and 4, open tones low on the "and" of 4 and its "a", heel-toe
            ghosts), cascara or mambo bell on the ride; bossa nova: the "1 . . a" kick figure
            with eighth or sixteenth hats; songo: anticipated kicks, bell quarters, congas.
            Timbale/tom fills and crashes now and then.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from drumfont.drums.dataset import DrumDataset, stratified_split
from drumfont.errors import DrumfontError
from drumfont.score.genres import RULE_GENRES, check_genre
from drumfont.score.midifile import ExportOptions, import_bytes, to_midi_bytes
from drumfont.score.pattern import (
    CLAP,
    CLOSED_HAT,
    CRASH,
    KICK,
    N_VOICES,
    OPEN_HAT,
    RIDE,
    SNARE,
    STEPS,
    TOM_HIGH,
    TOM_LOW,
    VOICES,
    Pattern,
    validity,
)

# Velocity ranges (inclusive).
ACCENT = (106, 124)
NORMAL = (80, 100)
SOFT = (60, 78)
GHOST = (22, 45)

# How each genre is written to MIDI before it is read back: tempo and MPC swing.
RENDER: dict[str, tuple[float, float]] = {
    "rock": (118.0, 50.0), "jazz": (150.0, 66.0), "hiphop": (90.0, 57.0),
    "electronic": (124.0, 50.0), "latin": (100.0, 50.0),
}
VAL_SHARE = 0.2




# --- helpers ---------------------------------------------------------------------------------

class _Bar:
    """A (16, 9) velocity grid being played into, with the genre's rng."""

    def __init__(self, rng: np.random.Generator, groove_only: bool = False) -> None:
        self.rng = rng
        self.v = np.zeros((STEPS, N_VOICES), np.int16)
        self.groove_only = groove_only   # no fills, no crashes: the bar a phrase repeats

    def hit(self, voice: int, steps, level: tuple[int, int]) -> None:
        for s in np.atleast_1d(steps):
            self.v[int(s), voice] = self.rng.integers(level[0], level[1] + 1)

    def clear(self, voice: int, steps) -> None:
        for s in np.atleast_1d(steps):
            self.v[int(s), voice] = 0

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def event(self, p: float) -> bool:
        """A fill or a crash, by chance; never in a groove-only bar (the draw is made all the same,
        so the rest of the bar comes out as it would)."""
        return self.chance(p) and not self.groove_only

    def pick(self, options: list, p: list[float] | None = None):
        return options[int(self.rng.choice(len(options), p=p))]

    def some(self, candidates: list[int], k: int) -> list[int]:
        k = min(k, len(candidates))
        return [int(s) for s in self.rng.choice(candidates, size=k, replace=False)] if k else []

    def cymbal(self, voice: int, steps, beat: tuple[int, int] = NORMAL, off: tuple[int, int] = SOFT) -> None:
        """A time-keeping line: louder on the quarter-note beats, as the hand leans on them."""
        for s in steps:
            self.hit(voice, s, beat if s % 4 == 0 else off)

    def fill(self, start: int, voices: tuple[int, ...] = (SNARE, TOM_HIGH, TOM_LOW),
             density: float = 1.0,
             clear: tuple[int, ...] = (CLOSED_HAT, OPEN_HAT, RIDE, SNARE, TOM_HIGH, TOM_LOW, CLAP)) -> None:
        """A fill from `start` to the bar's end, moving down the kit, getting louder; the hands
        leave the hats and ride (the `clear` voices) for it."""
        for voice in clear:
            self.clear(voice, range(start, STEPS))
        steps = [s for s in range(start, STEPS) if s == start or self.rng.random() < density]
        # Each voice takes a contiguous run of the fill, high drum to low, in order.
        cuts = np.sort(self.rng.choice(np.arange(1, len(steps)), size=min(len(voices) - 1, len(steps) - 1),
                                       replace=False)) if len(steps) > 1 else []
        runs = np.split(np.array(steps), cuts)
        for voice, run in zip(voices, runs):
            for i, s in enumerate(run):
                lo = 70 + int(40 * (s - start) / max(1, STEPS - start))
                self.hit(voice, s, (lo, min(124, lo + 14)))

    def pattern(self) -> Pattern:
        return Pattern(self.v.astype(np.uint8))


# --- genres ----------------------------------------------------------------------------------

def _rock(b: _Bar) -> None:
    cym = RIDE if b.chance(0.15) else CLOSED_HAT
    if cym == CLOSED_HAT and b.chance(0.1):
        b.cymbal(CLOSED_HAT, range(STEPS), NORMAL, SOFT)  # driving sixteenths
    else:
        b.cymbal(cym, range(0, STEPS, 2), NORMAL, SOFT)
    if cym == CLOSED_HAT and b.chance(0.3):
        b.clear(CLOSED_HAT, 14)
        b.hit(OPEN_HAT, 14, NORMAL)
    b.hit(SNARE, [4, 12], ACCENT)  # the backbeat
    b.hit(KICK, 0, ACCENT)
    for step, p in ((8, 0.8), (10, 0.3), (6, 0.2), (14, 0.2), (2, 0.15), (7, 0.15), (11, 0.15),
                    (3, 0.1), (15, 0.1)):
        if b.chance(p):
            b.hit(KICK, step, NORMAL)
    if b.chance(0.2):
        b.hit(SNARE, b.some([7, 9, 11, 15, 14, 3], 1), GHOST)
    if b.event(0.25):
        b.clear(cym, 0)
        b.hit(CRASH, 0, ACCENT)
    if b.event(0.3):
        b.fill(b.pick([12, 8, 14], [0.6, 0.25, 0.15]), density=b.pick([1.0, 0.6], [0.6, 0.4]))


def _jazz(b: _Bar) -> None:
    ride = [0, 4, 7, 8, 12, 15]  # ding, ding-a, ding, ding-a
    if b.chance(0.25):
        ride += b.some([3, 11], 1)  # the skip note on 1 or 3 as well
    if b.chance(0.15):
        ride.remove(b.pick([0, 8]))  # a dropped "ding"
    for s in ride:
        b.hit(RIDE, s, NORMAL if s in (4, 12) else (SOFT if s % 4 == 0 else (48, 70)))
    b.hit(CLOSED_HAT, [4, 12], SOFT)  # hi-hat foot on 2 and 4
    if b.chance(0.5):
        b.hit(KICK, [0, 4, 8, 12], (20, 38))  # feathered quarter notes
    for s in b.some([3, 6, 7, 10, 11, 14, 15], b.pick([0, 1, 1, 2])):
        b.hit(KICK, s, b.pick([NORMAL, ACCENT]))  # "bombs"
    for s in b.some([2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15], int(b.rng.integers(1, 5))):
        b.hit(SNARE, s, b.pick([GHOST, SOFT, ACCENT], [0.7, 0.2, 0.1]))  # comping
    if b.event(0.08):
        b.clear(RIDE, 0)
        b.hit(CRASH, 0, NORMAL)
    if b.event(0.15):
        for voice in (RIDE, SNARE):
            b.clear(voice, range(12, STEPS))
        b.hit(CLOSED_HAT, 12, SOFT)
        for s in b.some([12, 13, 14, 15], int(b.rng.integers(2, 4))):
            b.hit(b.pick([SNARE, TOM_HIGH, TOM_LOW]), s, NORMAL)


_BOOM_BAP = [[0, 7, 10], [0, 3, 10], [0, 6, 10], [0, 2, 7, 10], [0, 10, 11], [0, 7, 9],
             [0, 3, 6, 10], [0, 6, 9, 14], [0, 10, 13], [0, 7, 10, 15], [0, 2, 10, 13], [0, 9, 11]]


def _hiphop(b: _Bar) -> None:
    kicks = list(b.pick(_BOOM_BAP))
    if b.chance(0.35):
        kicks.append(b.pick([3, 6, 9, 11, 13, 14, 15]))
    if b.chance(0.2) and len(kicks) > 2:
        kicks.remove(b.pick(kicks[1:]))
    b.hit(KICK, 0, ACCENT)
    b.hit(KICK, kicks[1:], NORMAL)
    back = b.pick(["snare", "clap", "both"], [0.5, 0.2, 0.3])
    if back in ("snare", "both"):
        b.hit(SNARE, [4, 12], ACCENT)
    if back in ("clap", "both"):
        b.hit(CLAP, [4, 12], NORMAL)
    b.hit(SNARE, b.some([3, 6, 7, 9, 11, 14, 15], b.pick([0, 1, 2, 2, 3], [0.1, 0.3, 0.25, 0.2, 0.15])), GHOST)
    mode = b.pick(["sixteenths", "pickups", "roll"], [0.75, 0.15, 0.1])
    if mode == "sixteenths":
        drop = set(b.some(list(range(1, STEPS, 2)), int(b.rng.integers(0, 3))))
        hats = [s for s in range(STEPS) if s not in drop]
    elif mode == "pickups":
        hats = sorted(list(range(0, STEPS, 2)) + b.some([3, 7, 11, 15, 5, 13], int(b.rng.integers(2, 5))))
    else:
        beat = int(b.pick([4, 8, 12]))
        hats = sorted(set(range(0, STEPS, 2)) | set(range(beat, beat + 4)))
    for s in hats:
        b.hit(CLOSED_HAT, s, NORMAL if s % 2 == 0 else (40, 65))  # weak in-between sixteenths
    if b.chance(0.25):
        s = b.pick([14, 6, 10])
        b.clear(CLOSED_HAT, s)
        b.hit(OPEN_HAT, s, SOFT)
    if b.event(0.05):
        b.hit(CRASH, 0, NORMAL)
    if b.event(0.08):
        b.hit(b.pick([TOM_HIGH, TOM_LOW]), b.some([13, 14, 15], int(b.rng.integers(1, 3))), NORMAL)


def _electronic(b: _Bar) -> None:
    b.hit(KICK, [0, 4, 8, 12], ACCENT)  # four on the floor
    if b.chance(0.2):
        b.hit(KICK, b.pick([14, 15, 3, 11]), SOFT)
    offbeats = [2, 6, 10, 14] if b.chance(0.8) else sorted(b.some([2, 6, 10, 14], 2))
    off_voice = RIDE if b.chance(0.15) else OPEN_HAT
    b.hit(off_voice, offbeats, NORMAL)
    back = b.pick(["clap", "snare", "both"], [0.6, 0.15, 0.25])
    if back in ("clap", "both"):
        b.hit(CLAP, [4, 12], ACCENT)
    if back in ("snare", "both"):
        b.hit(SNARE, [4, 12], NORMAL)
    mode = b.pick(["sixteenths", "offs", "none"], [0.55, 0.25, 0.2])
    taken = set(offbeats) if off_voice == OPEN_HAT else set()
    if mode == "sixteenths":
        drop = set(b.some([1, 3, 5, 7, 9, 11, 13, 15], int(b.rng.integers(0, 4))))
        for s in range(STEPS):
            if s not in taken and s not in drop:
                b.hit(CLOSED_HAT, s, SOFT if s % 4 == 0 else (40, 62))
    elif mode == "offs":
        b.hit(CLOSED_HAT, [s for s in range(1, STEPS, 2) if s not in taken], (45, 70))
    if b.event(0.15):
        b.hit(CRASH, 0, ACCENT)
    if b.chance(0.15):
        b.hit(b.pick([TOM_HIGH, TOM_LOW]), b.some([3, 7, 11, 15, 5, 13], int(b.rng.integers(1, 3))), SOFT)
    if b.event(0.15):  # snare roll into the next bar
        start = b.pick([12, 8])
        roll = range(12, STEPS) if start == 12 else [8, 10, 12, 13, 14, 15]  # eighths, then sixteenths
        for s in roll:
            lo = 50 + 6 * (s - start)
            b.hit(SNARE, s, (lo, lo + 10))


_CLAVES = {
    "son 3-2": [0, 3, 6, 10, 12], "son 2-3": [2, 4, 8, 11, 14],
    "rumba 3-2": [0, 3, 7, 10, 12], "rumba 2-3": [2, 4, 8, 11, 15],
    "bossa": [0, 3, 6, 10, 13],
}
_CASCARA = [0, 2, 4, 5, 7, 8, 10, 11, 13, 15]  # 3-2; the 2-3 side is this shifted half a bar


def _latin(b: _Bar) -> None:
    style = b.pick(["salsa", "bossa", "songo"], [0.6, 0.25, 0.15])
    clave_voice = SNARE if b.chance(0.6) else CLAP  # rim click or clap plays the clave
    if style == "bossa":
        clave = _CLAVES["bossa"]
        kicks = b.pick([[0, 3, 4, 7, 8, 11, 12, 15], [0, 3, 8, 11], [0, 4, 7, 8, 12, 15]])
        b.hit(KICK, kicks, NORMAL)
        b.cymbal(CLOSED_HAT, range(0, STEPS, b.pick([1, 2])), SOFT, (40, 60))
        if b.chance(0.3):
            b.hit(TOM_LOW, b.some([7, 14, 15], 1), SOFT)
    else:
        clave = _CLAVES[b.pick(["son 3-2", "son 2-3", "rumba 3-2", "rumba 2-3"])]
        if style == "salsa":
            kicks = [6, 12]  # tumbao: the "and" of 2 and beat 4
            if b.chance(0.3):
                kicks.append(b.pick([0, 14, 3]))
        else:  # songo: anticipations
            kicks = b.pick([[3, 11], [3, 6, 11, 14], [3, 11, 14]])
        b.hit(KICK, kicks, NORMAL)
        # congas: slaps high on 2 and 4, open tones low on the "and" of 4 and its "a"
        b.hit(TOM_HIGH, [4, 12] if b.chance(0.7) else [4, 12, b.pick([2, 10])], NORMAL)
        opens = [14, 15] if b.chance(0.6) else b.pick([[6, 7, 14, 15], [7, 14], [14]])
        b.hit(TOM_LOW, opens, NORMAL)
        b.hit(TOM_HIGH, b.some([s for s in (0, 2, 8, 10) if not b.v[s, TOM_HIGH]], int(b.rng.integers(0, 3))), GHOST)
        bell = b.pick(["cascara", "cascara 2-3", "mambo", "quarters", "hat cascara"], [0.35, 0.15, 0.2, 0.15, 0.15])
        if bell.startswith("cascara"):
            steps = _CASCARA if bell == "cascara" else sorted((s + 8) % STEPS for s in _CASCARA)
            steps = [s for s in steps if s not in b.some(steps, int(b.rng.integers(0, 3)))]
            b.cymbal(RIDE, steps, NORMAL, SOFT)
        elif bell == "mambo":
            b.cymbal(RIDE, [0, 4, 6, 8, 10, 12, 14], ACCENT, NORMAL)
        elif bell == "quarters":
            b.cymbal(RIDE, [0, 4, 8, 12], ACCENT)
        else:
            b.cymbal(CLOSED_HAT, _CASCARA, NORMAL, SOFT)
    b.hit(clave_voice, clave, NORMAL if clave_voice == SNARE else ACCENT)
    if b.event(0.1):
        b.clear(RIDE, 0)
        b.hit(CRASH, 0, ACCENT)
    if b.event(0.15):  # timbale/tom fill (abanico) over beat 4
        # The clave keeps going through it: another player holds it.
        b.fill(12, (TOM_HIGH, TOM_LOW), density=0.8, clear=(CLOSED_HAT, RIDE, TOM_HIGH, TOM_LOW))


_RULES: dict[str, Callable[[_Bar], None]] = {
    "rock": _rock, "jazz": _jazz, "hiphop": _hiphop, "electronic": _electronic, "latin": _latin,
}


# --- public API ------------------------------------------------------------------------------

def _generate(genre: str, n: int, rng: np.random.Generator, seen: set[bytes],
              groove_only: bool = False) -> list[Pattern]:
    """n patterns of the genre whose hit grids are not in `seen` (which they are added to)."""
    play = _RULES[genre]
    out: list[Pattern] = []
    budget = 200 * n + 1000
    while len(out) < n and budget > 0:
        budget -= 1
        bar = _Bar(rng, groove_only)
        play(bar)
        p = bar.pattern()
        key = np.packbits(p.hits).tobytes()
        if key in seen or validity(p) < 1.0:
            continue
        seen.add(key)
        out.append(p)
    if len(out) < n:
        raise DrumfontError(f"the {genre} rules ran out of new bars after {len(out)}; ask for fewer than {n}")
    return out


def generate(genre: str, n: int, rng: np.random.Generator, groove_only: bool = False) -> list[Pattern]:
    """n unique bars of a genre from its rules, each with validity 1.0; `groove_only`: without the
    fills and crashes the rules play now and then (a bar to repeat through a phrase)."""
    genre = check_genre(genre, RULE_GENRES)
    if n < 0:
        raise DrumfontError(f"cannot generate {n} bars")
    return _generate(genre, n, rng, set(), groove_only)


def _fill_rock(b: _Bar) -> None:
    b.fill(b.pick([12, 8], [0.7, 0.3]), density=b.pick([1.0, 0.6], [0.6, 0.4]))


def _fill_jazz(b: _Bar) -> None:
    for voice in (RIDE, SNARE, TOM_HIGH, TOM_LOW):
        b.clear(voice, range(12, STEPS))
    b.hit(CLOSED_HAT, 12, SOFT)
    steps = sorted(b.some([12, 13, 14, 15], int(b.rng.integers(2, 4))) + [12])
    for s in dict.fromkeys(steps):
        b.hit(b.pick([SNARE, TOM_HIGH, TOM_LOW]), s, NORMAL)


def _fill_electronic(b: _Bar) -> None:
    # A snare roll into the next bar; the hats and the off-beat ride drop out under it, the kick
    # and the clap keep the floor.
    start = b.pick([12, 8])
    for voice in (SNARE, CLOSED_HAT, OPEN_HAT, RIDE, TOM_HIGH, TOM_LOW):
        b.clear(voice, range(start, STEPS))
    for s in (range(12, STEPS) if start == 12 else [8, 10, 12, 13, 14, 15]):
        lo = 60 + 6 * (s - start)
        b.hit(SNARE, s, (lo, min(124, lo + 10)))


def _fill_latin(b: _Bar) -> None:
    # The clave keeps going through it: another player holds it.
    b.fill(12, (TOM_HIGH, TOM_LOW), density=0.8, clear=(CLOSED_HAT, RIDE, TOM_HIGH, TOM_LOW))


# How each genre's rules fill a bar's end (the fills inside _rock, _jazz, ... played on purpose);
# a genre without rules of its own (a real-drumming model's funk) fills as rock does.
_FILLS: dict[str, Callable[[_Bar], None]] = {
    "rock": _fill_rock, "jazz": _fill_jazz, "hiphop": _fill_rock, "electronic": _fill_electronic,
    "latin": _fill_latin,
}


def fill(groove: Pattern, genre: str, rng: np.random.Generator) -> Pattern:
    """The groove bar with its genre's rule fill over the end (beat 4, or beats 3-4): the hands
    leave the cymbals for it, the rest of the bar keeps its hits, velocities and timing; the fill's
    own hits sit on the grid."""
    b = _Bar(rng)
    b.v = groove.velocities.astype(np.int16)
    _FILLS.get(genre.strip().lower(), _fill_rock)(b)
    kept = (b.v > 0) & (b.v == groove.velocities)
    return Pattern(b.v.astype(np.uint8), np.where(kept, groove.offsets, np.float32(0)))


def build_corpus(seed: int = 0, per_genre: int = 200) -> DrumDataset:
    """The built-in corpus: per_genre unique bars of each genre, written to MIDI and read back
    through the importer, with a stratified 80/20 train/validation split. Same seed, same bytes."""
    if per_genre < 1:
        raise DrumfontError(f"--per-genre must be at least 1, got {per_genre}")
    rng = np.random.default_rng(seed)
    seen: set[bytes] = set()  # unique across genres too
    velocities, labels, sources = [], [], []
    for label, genre in enumerate(RULE_GENRES):
        made = _generate(genre, per_genre, rng, seen)
        bpm, swing = RENDER[genre]
        data = to_midi_bytes(made, ExportOptions(bpm=bpm, swing=swing, name=f"drumfont {genre}"))
        result = import_bytes(data, source=f"builtin:{genre}.mid")
        back = [p.velocities for p in result.patterns]
        if len(back) != len(made) or any(not np.array_equal(a, p.velocities) for a, p in zip(back, made)):
            # The export -> import round trip is lossless by contract; anything else is a bug.
            raise RuntimeError(f"{genre}: MIDI round trip changed the bars")
        velocities += back
        labels += [label] * len(back)
        sources += [(result.source, bar) for bar in result.bars]
    genre = np.array(labels, np.int16)
    # Split by bar, which here is split by source: each bar is its own draw from the rules (the
    # genre's .mid is only the round trip's carrier) and no hit grid occurs twice in the corpus,
    # so no pattern is on both sides. A file-grouped split would put whole genres on one side.
    split = stratified_split(genre, VAL_SHARE, np.random.default_rng([seed, 1]))
    return DrumDataset(np.stack(velocities).astype(np.uint8), genre, split, RULE_GENRES, sources)


def syncopation(hits: np.ndarray) -> float:
    """Share of kick, snare and clap hits that fall off the quarter-note beats."""
    h = np.asarray(hits).astype(bool)[..., [KICK, SNARE, CLAP]]
    total = int(h.sum())
    off = total - int(h[..., 0::4, :].sum())
    return off / total if total else 0.0


def density_table(data: DrumDataset) -> str:
    """Per-genre mean hits per bar of each voice, plus syncopation and validity, as text."""
    hits = data.velocities > 0
    names = [(g, data.genres[g] if 0 <= g < len(data.genres) else "unlabelled")
             for g in sorted(set(int(x) for x in data.genre))]
    short = ["kick", "snare", "c.hat", "o.hat", "tom1", "tom2", "crash", "ride", "clap"]
    assert len(short) == len(VOICES)
    head = f"{'genre':<11}{'bars':>6}" + "".join(f"{s:>7}" for s in short) + f"{'sync':>7}{'vel':>6}"
    lines = ["hits per bar (mean), sync = share of kick/snare/clap hits off the beat, vel = mean velocity", head]
    for g, name in names:
        m = data.genre == g
        h = hits[m]
        per_voice = h.sum(axis=1).mean(axis=0)
        v = data.velocities[m]
        mean_vel = float(v[v > 0].mean()) if (v > 0).any() else 0.0
        lines.append(f"{name:<11}{int(m.sum()):>6}" + "".join(f"{x:>7.2f}" for x in per_voice)
                     + f"{syncopation(h):>7.2f}{mean_vel:>6.0f}")
    return "\n".join(lines)


def with_rule_claps(data: DrumDataset, seed: int = 0) -> DrumDataset:
    """`data` plus, in its training split, the rule corpus's bars that play a hand clap, for
    the genres both share. Real drumming (the Groove MIDI Dataset) has no clap; these bars keep
    the clap voice reachable in a model trained on it. They are straight (no offsets) and keep
    their provenance ("rules:<genre>" as the source file), so a report can tell them apart."""
    rules = build_corpus(seed=seed)
    clap = (rules.velocities[:, :, CLAP] > 0).any(1)
    shared = [g for g in rules.genres if g in data.genres]
    keep = clap & np.isin(np.array(rules.genres)[rules.genre], shared)
    if not keep.any():
        return data
    n = int(keep.sum())
    genre = np.array([data.genres.index(rules.genres[g]) for g in rules.genre[keep]], np.int16)
    names = [f"rules:{rules.genres[g]}" for g in rules.genre[keep]]
    src = list(data.sources) + list(zip(names, range(1, n + 1)))
    off = data.timing.astype(np.float16)
    return DrumDataset(np.concatenate([data.velocities, rules.velocities[keep]]),
                       np.concatenate([data.genre, genre]).astype(np.int16),
                       np.concatenate([data.split, np.zeros(n, np.uint8)]), data.genres,
                       src if len(data.sources) else [],
                       np.concatenate([off, np.zeros((n, STEPS, N_VOICES), np.float16)]),
                       None if data.fill is None else np.concatenate([data.fill, np.zeros(n, bool)]))
