"""The studio's state without a screen: bank, A/B slots, edits, undo/redo, the song and autosave;
the drum engine behind sample / re-roll / morph / transfer / continue is `drumfont.drums.engine`.

Each bank slot holds a phrase of 1-8 bars (`score.phrase.Phrase`: bars and their fill flags); the
grid edits the bar `Studio.bar` of the current slot's phrase. The song is a list of sections, each
a slot's phrase played a number of times.

`drumfont/tui/` draws and drives a `Studio`; nothing here imports textual, so every action
is testable as plain Python. The session is saved as JSON, atomically, after every change; bars are kept in the text form,
micro-timing included (`@ +0.1 ...`), and a session written before offsets existed loads as
straight bars. A slot of one bar without a fill is saved as that bar's text, as before phrases
(format 1); a session of format 1 loads with every slot a one-bar phrase and no song.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from drumfont.atomic import write_atomic
from drumfont.errors import DrumfontError
from drumfont.score.midifile import ExportOptions, write_midi
from drumfont.score.notemap import load_notemap
from drumfont.score.pattern import LEVELS, N_VOICES, STEPS, Pattern, from_text, to_text
from drumfont.score.phrase import Phrase
from drumfont.tui.session_fields import Fields
from drumfont.tui.song_state import (  # the song's limits live with it
    MAX_REPEATS,
    MAX_SECTIONS,
    Section,
    SongState,
)
from drumfont.validate import RANGES, read_text

FORMAT = 2
FORMATS = (1, 2)          # what loads: 1 is a session saved before phrases (one bar a slot)
BANK_SLOTS = 8
PHRASE_CHOICES = (1, 2, 4, 8)   # bars a sample draws (`w` cycles them); a slot holds 1-8 bars
MAX_PHRASE = int(RANGES["phrase_slot"].hi)
UNDO_DEPTH = 200
SESSION_FILE = "session.json"
MORPH_LEVELS = ("high", "low", "both")
LETTER_COLOURS = ("white", "black", "#ffb000", "#ff4d4d", "#3ec5ff")   # text colours the letters pane cycles
LETTER_BACKGROUNDS = ("black", "white", "transparent")
MIN_TEMP, MAX_TEMP = RANGES["temperature"].lo, RANGES["temperature"].hi   # the CLI's range: one meaning
BARS_CHOICES = (1, 2, 4, 8)
OUTPUTS = ("both", "audio", "midi", "none")   # where play sounds: MIDI port, built-in kit, both
DEFAULT_VELOCITY = 90   # a typed 'x'
VELOCITY_STEP = 12      # one press of +/-: ghost 40 -> ... -> accent 118 in a handful of presses




# --- session state ---------------------------------------------------------------------------

@dataclass
class Transport:
    """How the phrase plays and exports; `bars` is the times each phrase plays (in a chain and a
    file; looping, the same phrase)."""

    bpm: float = 120.0
    swing: float = 50.0
    gate: float = 0.5
    bars: int = 1
    port: str | None = None      # None: the virtual port named 'drumfont'
    clock_out: bool = False
    follow: str | None = None    # an input port name to follow, or None for the internal clock
    link: bool = False           # in an Ableton Link session (live/link.py): its tempo and bar lines lead
    notemap: str = "gm"
    output: str = "both"         # one of OUTPUTS

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:  # a session from elsewhere: fall back rather than fail
            self.output = "both"


@dataclass
class Document:
    """What undo/redo restores: the bank (a phrase or None per slot), which slot is current, A and
    B, the song. Phrases, bars and sections are immutable, so a snapshot is a shallow copy."""

    bank: list[Phrase | None]
    slot: int = 0
    a: Pattern | None = None
    b: Pattern | None = None
    song: list[Section] = field(default_factory=list)

    def copy(self) -> Document:
        return Document(list(self.bank), self.slot, self.a, self.b, list(self.song))


def as_phrase(p: Phrase | Pattern | None) -> Phrase | None:
    """A bank entry as a phrase (a bar put in by older code is a one-bar phrase)."""
    return Phrase.of([p]) if isinstance(p, Pattern) else p


def _next(options: tuple[str, ...], current: str) -> str:
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


def _pat_to_json(p: Pattern | None) -> str | None:
    return None if p is None else to_text(p)


def _pat_from_json(s: Any) -> Pattern | None:
    return None if s is None else from_text(str(s))


def _phrase_to_json(p: Phrase | Pattern | None) -> Any:
    """A slot as saved: None; a one-bar phrase without a fill as its bar's text (format 1's form);
    else {"bars": [text, ...], "fills": [bool, ...]}."""
    p = as_phrase(p)
    if p is None:
        return None
    if len(p) == 1 and not p.has_fill:
        return to_text(p.bars[0])
    return {"bars": [to_text(b) for b in p.bars], "fills": list(p.fills)}


@dataclass
class Studio(SongState):
    """The whole state of a studio session, with every action a key can take."""

    genre: str = "rock"
    temperature: float = 1.0
    seed: int = 0                  # next seed to draw with; bumped by every sample
    doc: Document = field(default_factory=lambda: Document([None] * BANK_SLOTS))
    morph_level: str = "both"
    morph_steps: int = 5
    morph: list[Pattern] = field(default_factory=list)
    transport: Transport = field(default_factory=Transport)
    mutes: set[int] = field(default_factory=set)
    solos: set[int] = field(default_factory=set)
    cursor: tuple[int, int] = (0, 0)   # (step, voice)
    bar: int = 0                       # the bar of the slot's phrase the grid edits
    phrase_bars: int = 4               # bars a sample draws (a session from before phrases: 1)
    song_cursor: int = 0               # the song view's selected section
    letters_text: str = "DRUMFONT"
    letters_seed: int = 0
    letters_scale: int = 4
    letters_fg: str = LETTER_COLOURS[0]
    letters_bg: str = LETTER_BACKGROUNDS[0]
    letters_size: int = 96             # pixels per em of the PNG
    letters_svg: bool = False          # also write the text as SVG
    undo_stack: list[Document] = field(default_factory=list, repr=False)
    redo_stack: list[Document] = field(default_factory=list, repr=False)

    # --- the current phrase and bar ----------------------------------------------------------
    def phrase_in(self, slot: int) -> Phrase | None:
        """The phrase in a bank slot, or None."""
        return as_phrase(self.doc.bank[slot])

    @property
    def phrase(self) -> Phrase | None:
        """The phrase in the selected slot (None where the slot is empty)."""
        return self.phrase_in(self.doc.slot)

    @property
    def bar_index(self) -> int:
        """The bar the grid edits, kept inside the phrase."""
        p = self.phrase
        return min(self.bar, len(p) - 1) if p is not None else 0

    @property
    def current(self) -> Pattern:
        """The bar the grid edits in the selected slot (an empty bar where the slot is empty)."""
        p = self.phrase
        return p.bars[self.bar_index] if p is not None else Pattern.empty()

    def _checkpoint(self) -> None:
        self.undo_stack.append(self.doc.copy())
        del self.undo_stack[:-UNDO_DEPTH]
        self.redo_stack.clear()

    def set_current(self, pattern: Pattern) -> None:
        """Put a bar where the grid is, in the selected slot's phrase (undoable)."""
        self.put_bar(self.doc.slot, self.bar_index, pattern)

    def put_bar(self, slot: int, index: int, pattern: Pattern) -> None:
        """Replace one bar of a slot's phrase (an empty slot becomes a one-bar phrase; undoable)."""
        self._checkpoint()
        p = self.phrase_in(slot)
        self.doc.bank[slot] = (Phrase.of([pattern]) if p is None
                               else p.with_bar(min(index, len(p) - 1), pattern))

    def put(self, slot: int, phrase: Phrase | Pattern) -> None:
        """Put a phrase (or one bar, as a one-bar phrase) into a slot (undoable); a worker's result
        lands where it was asked for."""
        phrase = as_phrase(phrase)
        if len(phrase) > MAX_PHRASE:
            raise DrumfontError(f"a slot holds at most {MAX_PHRASE} bars, got {len(phrase)}")
        self._checkpoint()
        self.doc.bank[slot] = phrase
        if slot == self.doc.slot:
            self.bar = min(self.bar, len(phrase) - 1)

    def move_bar(self, delta: int) -> int:
        """Move the grid to another bar of the phrase, wrapping; returns the bar's index."""
        p = self.phrase
        n = len(p) if p is not None else 1
        self.bar = (self.bar_index + delta) % n
        return self.bar

    def cycle_phrase_bars(self) -> int:
        """Bars a sample draws: 1 -> 2 -> 4 -> 8 -> 1."""
        i = PHRASE_CHOICES.index(self.phrase_bars) if self.phrase_bars in PHRASE_CHOICES else -1
        self.phrase_bars = PHRASE_CHOICES[(i + 1) % len(PHRASE_CHOICES)]
        return self.phrase_bars

    def continue_plan(self) -> tuple[list[Pattern], int]:
        """What `continue` plays: the bars up to and including the grid's (the groove to carry on)
        and how many new bars follow them: the rest of the phrase, or, from its last bar, as many
        again as it has (at most MAX_PHRASE in all)."""
        p = self.phrase
        if p is None:
            raise DrumfontError("the slot is empty: s samples a phrase to continue")
        head = list(p.bars[:self.bar_index + 1])
        new = len(p) - len(head) if len(head) < len(p) else min(len(p), MAX_PHRASE - len(p))
        if new < 1:
            raise DrumfontError(f"the phrase has {MAX_PHRASE} bars, the most a slot holds: "
                                "< moves to an earlier bar to continue from there")
        return head, new

    def put_continued(self, slot: int, head: int, new: Sequence[Pattern]) -> None:
        """The slot's first `head` bars followed by the continuation (undoable)."""
        p = self.phrase_in(slot)
        if p is None:
            return
        bars = list(p.bars[:head]) + list(new)
        self.put(slot, Phrase(tuple(bars), p.fills[:head] + (False,) * len(new), p.name))

    def next_seed(self) -> int:
        """The seed for the next draw; each draw gets a new one, so a session replays exactly."""
        s = self.seed
        self.seed += 1
        return s

    # --- editing ---------------------------------------------------------------------------
    def move(self, dstep: int, dvoice: int) -> None:
        """Move the grid cursor, wrapping around the bar and the voices."""
        step, voice = self.cursor
        self.cursor = ((step + dstep) % STEPS, (voice + dvoice) % N_VOICES)

    def toggle(self) -> None:
        """Hit or rest at the cursor."""
        step, voice = self.cursor
        v = int(self.current.velocities[step, voice])
        self.set_current(self.current.with_velocity(step, voice, 0 if v else DEFAULT_VELOCITY))

    def nudge_velocity(self, delta: int) -> None:
        """Raise or lower the velocity at the cursor; raising a rest makes a ghost note and
        lowering never deletes a hit (toggle does that)."""
        step, voice = self.cursor
        v = int(self.current.velocities[step, voice])
        if v == 0:
            if delta <= 0:
                return
            new = LEVELS[0][3]  # ghost
        else:
            new = int(np.clip(v + delta, 1, 127))
        if new != v:
            self.set_current(self.current.with_velocity(step, voice, new))

    def clear_voice(self, voice: int | None = None) -> None:
        """Silence a whole voice (the cursor's by default)."""
        voice = self.cursor[1] if voice is None else voice
        v = self.current.velocities.copy()
        if v[:, voice].any():
            v[:, voice] = 0
            self.set_current(Pattern(v, self.current.offsets))  # the other voices keep their timing

    def straighten(self) -> bool:
        """Quantise the bar: every hit onto its sixteenth (undoable); False when it is straight."""
        if not self.current.timed:
            return False
        self.set_current(self.current.straight())
        return True

    def toggle_mute(self, voice: int | None = None) -> bool:
        """Mute or unmute a voice; returns whether it is now muted."""
        voice = self.cursor[1] if voice is None else voice
        self.mutes ^= {voice}
        return voice in self.mutes

    def toggle_solo(self, voice: int | None = None) -> bool:
        """Solo or unsolo a voice; returns whether it is now soloed."""
        voice = self.cursor[1] if voice is None else voice
        self.solos ^= {voice}
        return voice in self.solos

    def audible(self, voice: int) -> bool:
        """Whether a voice sounds under the current mutes and solos."""
        if self.solos:
            return voice in self.solos
        return voice not in self.mutes

    # --- bank, A/B, morph ------------------------------------------------------------------
    def select_slot(self, slot: int) -> None:
        """Make another bank slot current (the grid stays on the same bar number where it can)."""
        if not 0 <= slot < len(self.doc.bank):
            raise DrumfontError(f"there is no bank slot {slot + 1}; the bank has {len(self.doc.bank)}")
        self.bar = self.bar_index
        self.doc.slot = slot

    def copy_to_next_empty(self) -> int:
        """Duplicate the current phrase into the next empty slot; returns that slot."""
        n = len(self.doc.bank)
        for i in range(1, n):
            j = (self.doc.slot + i) % n
            if self.doc.bank[j] is None:
                self._checkpoint()
                self.doc.bank[j] = self.phrase or Phrase.of([self.current])
                return j
        raise DrumfontError("the bank is full; empty a slot (D) or sample over one")

    def clear_slot(self) -> None:
        """Empty the selected slot."""
        if self.doc.bank[self.doc.slot] is not None:
            self._checkpoint()
            self.doc.bank[self.doc.slot] = None

    def set_ab(self, which: str) -> None:
        """Put the current bar into slot A or B."""
        self._checkpoint()
        if which == "a":
            self.doc.a = self.current
        elif which == "b":
            self.doc.b = self.current
        else:
            raise ValueError(which)

    def cycle_letters(self, what: str) -> str:
        """The next text colour ('fg') or background ('bg', transparent included)."""
        if what == "fg":
            self.letters_fg = _next(LETTER_COLOURS, self.letters_fg)
            return self.letters_fg
        self.letters_bg = _next(LETTER_BACKGROUNDS, self.letters_bg)
        return self.letters_bg

    def set_letters_size(self, size: int) -> int:
        """PNG text size in pixels per em, kept in 16..512."""
        self.letters_size = int(np.clip(size, 16, 512))
        return self.letters_size

    def cycle_morph_level(self) -> str:
        """high -> low -> both -> high."""
        self.morph_level = MORPH_LEVELS[(MORPH_LEVELS.index(self.morph_level) + 1) % len(MORPH_LEVELS)]
        return self.morph_level

    def set_morph_steps(self, n: int) -> int:
        """Steps of the morph, A and B included, kept in 3..9 (fits a terminal strip)."""
        self.morph_steps = int(np.clip(n, 3, 9))
        return self.morph_steps

    def bank_patterns(self) -> list[Pattern]:
        """Every bar of the filled slots in order."""
        return [b for i in range(len(self.doc.bank)) if (p := self.phrase_in(i)) is not None for b in p.bars]

    def bank_phrases(self) -> list[Phrase]:
        """The filled slots' phrases in order."""
        return [p for i in range(len(self.doc.bank)) if (p := self.phrase_in(i)) is not None]

    # --- transport -------------------------------------------------------------------------
    def nudge_tempo(self, delta: float) -> float:
        self.transport.bpm = float(np.clip(round(self.transport.bpm + delta), RANGES["bpm"].lo, RANGES["bpm"].hi))
        return self.transport.bpm

    def nudge_swing(self, delta: float) -> float:
        self.transport.swing = float(np.clip(self.transport.swing + delta, RANGES["swing"].lo, RANGES["swing"].hi))
        return self.transport.swing

    def cycle_bars(self) -> int:
        i = BARS_CHOICES.index(self.transport.bars) if self.transport.bars in BARS_CHOICES else -1
        self.transport.bars = BARS_CHOICES[(i + 1) % len(BARS_CHOICES)]
        return self.transport.bars

    def nudge_temperature(self, delta: float) -> float:
        self.temperature = round(float(np.clip(self.temperature + delta, MIN_TEMP, MAX_TEMP)), 2)
        return self.temperature

    def cycle_genre(self, genres: Sequence[str], delta: int = 1) -> str:
        """The next (or previous) genre in the engine's list."""
        genres = list(genres)
        i = genres.index(self.genre) if self.genre in genres else -1
        self.genre = genres[(i + delta) % len(genres)]
        return self.genre

    def put_bank(self, phrases: dict[int, Phrase | Pattern]) -> None:
        """Replace several slots at once, as one undo step (humanising the bank)."""
        self._checkpoint()
        for slot, p in phrases.items():
            self.doc.bank[slot] = as_phrase(p)

    # --- undo / redo -----------------------------------------------------------------------
    def undo(self) -> bool:
        """Step back one edit; False when there is nothing to undo."""
        if not self.undo_stack:
            return False
        self.redo_stack.append(self.doc.copy())
        self.doc = self.undo_stack.pop()
        return True

    def redo(self) -> bool:
        """Step forward one undone edit; False when there is nothing to redo."""
        if not self.redo_stack:
            return False
        self.undo_stack.append(self.doc.copy())
        self.doc = self.redo_stack.pop()
        return True

    # --- saving ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able dict; bars in the human text form, so the file is readable and diffable."""
        return {
            "format": FORMAT, "kind": "studio-session",
            "genre": self.genre, "temperature": self.temperature, "seed": self.seed,
            "bank": [_phrase_to_json(p) for p in self.doc.bank], "slot": self.doc.slot,
            "bar": self.bar_index, "phrase_bars": self.phrase_bars,
            "song": [{"name": x.name, "slot": x.slot, "repeats": x.repeats} for x in self.doc.song],
            "song_cursor": self.song_cursor,
            "a": _pat_to_json(self.doc.a), "b": _pat_to_json(self.doc.b),
            "morph_level": self.morph_level, "morph_steps": self.morph_steps,
            "morph": [to_text(p) for p in self.morph],
            "transport": asdict(self.transport),
            "mutes": sorted(self.mutes), "solos": sorted(self.solos), "cursor": list(self.cursor),
            "letters": {"text": self.letters_text, "seed": self.letters_seed, "scale": self.letters_scale,
                        "fg": self.letters_fg, "bg": self.letters_bg, "size": self.letters_size,
                        "svg": self.letters_svg},
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "the session") -> Studio:
        """Rebuild a session, every field checked against the ranges the CLI uses (doors.RANGES);
        anything malformed is a DrumfontError naming the field."""
        if not isinstance(d, dict) or d.get("kind") != "studio-session":
            raise DrumfontError(f"{where}: not a drumfont studio session")
        fmt = d.get("format")
        if isinstance(fmt, bool) or fmt not in FORMATS:
            raise DrumfontError(f"{where}: session format {fmt!r} is not one of {', '.join(map(str, FORMATS))}")
        f = Fields(d, where)
        bank = f.list("bank", f.pattern if fmt == 1 else f.phrase, max_len=BANK_SLOTS)
        bank = [as_phrase(p) for p in bank] + [None] * (BANK_SLOTS - len(bank))
        song = [Section(**x) for x in f.list("song", f.section(BANK_SLOTS, MAX_REPEATS), max_len=MAX_SECTIONS)]
        if fmt == 1 and ("song" in d or "phrase_bars" in d or "bar" in d):
            raise DrumfontError(f"{where}: a format 1 session has no phrases or song; its format says otherwise")
        tr = f.dict("transport", set(Transport.__dataclass_fields__))
        t = Fields(tr, where, "transport.")
        letters = Fields(f.dict("letters", {"text", "seed", "scale", "fg", "bg", "size", "svg"}), where, "letters.")
        cursor = f.list("cursor", f.int_in(0, max(STEPS, N_VOICES) - 1), max_len=2) if "cursor" in d else [0, 0]
        if len(cursor) != 2 or cursor[0] >= STEPS or cursor[1] >= N_VOICES:
            raise DrumfontError(f"{where}: field cursor must be [step 0..{STEPS - 1}, voice 0..{N_VOICES - 1}]")
        voice = f.int_in(0, N_VOICES - 1)
        return cls(
            genre=f.str("genre"), temperature=f.num("temperature", "temperature"), seed=f.num("seed", "seed"),
            doc=Document(bank, f.opt("slot", 0, f.int_in(0, BANK_SLOTS - 1)), f.opt("a", None, f.pattern),
                         f.opt("b", None, f.pattern), song),
            bar=f.opt("bar", 0, f.int_in(0, MAX_PHRASE - 1)),
            phrase_bars=f.opt("phrase_bars", 1 if fmt == 1 else 4, f.choice(PHRASE_CHOICES)),
            song_cursor=f.opt("song_cursor", 0, f.int_in(0, MAX_SECTIONS - 1)),
            morph_level=f.opt("morph_level", "both", f.choice(MORPH_LEVELS)),
            morph_steps=f.opt("morph_steps", 5, f.int_in(3, 9)),
            morph=[p for p in f.list("morph", f.pattern, max_len=64) if p is not None],
            transport=Transport(
                bpm=t.opt("bpm", 120.0, t.ranged("bpm")), swing=t.opt("swing", 50.0, t.ranged("swing")),
                gate=t.opt("gate", 0.5, t.ranged("gate")), bars=t.opt("bars", 1, t.choice(BARS_CHOICES)),
                port=t.opt("port", None, t.opt_str), clock_out=t.opt("clock_out", False, t.bool),
                follow=t.opt("follow", None, t.opt_str), link=t.opt("link", False, t.bool),
                notemap=t.opt("notemap", "gm", t.text),
                output=t.opt("output", "both", t.choice(OUTPUTS))),
            mutes=set(f.list("mutes", voice, max_len=N_VOICES)), solos=set(f.list("solos", voice, max_len=N_VOICES)),
            cursor=(cursor[0], cursor[1]),
            letters_text=letters.opt("text", "DRUMFONT", letters.text), letters_seed=letters.opt("seed", 0, letters.ranged("seed")),
            letters_scale=letters.opt("scale", 4, letters.ranged("scale")),
            letters_fg=letters.opt("fg", LETTER_COLOURS[0], letters.text),
            letters_bg=letters.opt("bg", LETTER_BACKGROUNDS[0], letters.text),
            letters_size=letters.opt("size", 96, letters.int_in(16, 512)),
            letters_svg=letters.opt("svg", False, letters.bool),
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the session atomically: a kill mid-write leaves the previous session intact."""
        data = json.dumps(self.to_dict(), indent=1).encode()
        return write_atomic(path, data, force=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Studio:
        """Read a saved session (a regular file of at most doors.MAX_TEXT_BYTES, valid JSON,
        every field in range)."""
        text = read_text(path, what="studio session")
        try:
            d = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
            raise DrumfontError(f"the session {path} is not valid JSON ({str(exc)[:80]})") from None
        return cls.from_dict(d, str(path))


def open_session(folder: Path) -> tuple[Studio, str | None]:
    """The saved session in `folder`, or a fresh one. A damaged file is kept aside (renamed,
    never deleted) and the reason returned, so nothing the user made is lost."""
    path = folder / SESSION_FILE
    if not os.path.lexists(path):
        return Studio(), None
    try:
        return Studio.load(path), None
    except DrumfontError as exc:
        aside = path
        for n in range(1, 1000):  # never over an earlier damaged file: each one is kept
            candidate = path.with_name(f"session.damaged-{os.getpid()}-{n}.json")
            if not os.path.lexists(candidate):
                try:
                    os.replace(path, candidate)
                    aside = candidate
                except OSError:
                    pass
                break
        return Studio(), f"{exc}; kept it as {aside} and started a fresh session"


def sample_fill(bars: int) -> str:
    """Where a sample of `bars` bars plays its fill: in its last bar, unless it is a single bar."""
    return "end" if bars > 1 else "none"


def default_export_name(kind: str, studio: Studio) -> str:
    """A file name for an export: drumfont-<genre>-<what>.mid."""
    what = {"bar": f"slot{studio.doc.slot + 1}", "bank": "bank", "morph": f"morph-{studio.morph_level}",
            "song": "song"}[kind]
    return f"drumfont-{studio.genre}-{what}.mid"


def export_patterns(path: str | os.PathLike, patterns: Sequence[Pattern] | Sequence[Phrase], transport: Transport,
                    force: bool = False, name: str = "drumfont", repeats: bool = True) -> Path:
    """Write bars (or phrases) as one .mid chain with the transport's tempo, swing and gate; each
    bar, or each phrase as a whole, plays `transport.bars` times (`repeats`: False, once)."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in (".mid", ".midi"):
        raise DrumfontError(f"{path}: give a file name ending in .mid")
    times = transport.bars if repeats else 1
    if patterns and isinstance(patterns[0], Phrase):
        bars, times = [b for p in patterns for b in list(p.bars) * times], 1
    else:
        bars = list(patterns)
    opts = ExportOptions(bpm=transport.bpm, swing=transport.swing, gate=transport.gate,
                         bars_per_pattern=times, notemap=load_notemap(transport.notemap), name=name)
    return write_midi(path, bars, opts, force=force)
