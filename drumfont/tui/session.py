"""The studio's state without a screen: bank, A/B slots, edits, undo/redo and autosave; the drum
engine behind sample / re-roll / morph / transfer is `drumfont.drums.engine`.

`drumfont/tui/` draws and drives a `Studio`; nothing here imports textual, so every action
is testable as plain Python. The session is saved as JSON, atomically, after every change; bars are kept in the text form,
micro-timing included (`@ +0.1 ...`), and a session written before offsets existed loads as
straight bars.
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
from drumfont.tui.session_fields import Fields
from drumfont.validate import RANGES, read_text

FORMAT = 1
BANK_SLOTS = 8
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
    """How the bar plays and exports."""

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
    """What undo/redo restores: the bank, which slot is current, A and B. Patterns are immutable,
    so a snapshot is a shallow copy."""

    bank: list[Pattern | None]
    slot: int = 0
    a: Pattern | None = None
    b: Pattern | None = None

    def copy(self) -> Document:
        return Document(list(self.bank), self.slot, self.a, self.b)


def _next(options: tuple[str, ...], current: str) -> str:
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]


def _pat_to_json(p: Pattern | None) -> str | None:
    return None if p is None else to_text(p)


def _pat_from_json(s: Any) -> Pattern | None:
    return None if s is None else from_text(str(s))


@dataclass
class Studio:
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
    letters_text: str = "DRUMFONT"
    letters_seed: int = 0
    letters_scale: int = 4
    letters_fg: str = LETTER_COLOURS[0]
    letters_bg: str = LETTER_BACKGROUNDS[0]
    letters_size: int = 96             # pixels per em of the PNG
    letters_svg: bool = False          # also write the text as SVG
    undo_stack: list[Document] = field(default_factory=list, repr=False)
    redo_stack: list[Document] = field(default_factory=list, repr=False)

    # --- the current bar -------------------------------------------------------------------
    @property
    def current(self) -> Pattern:
        """The bar in the selected bank slot (an empty bar where the slot is empty)."""
        p = self.doc.bank[self.doc.slot]
        return p if p is not None else Pattern.empty()

    def _checkpoint(self) -> None:
        self.undo_stack.append(self.doc.copy())
        del self.undo_stack[:-UNDO_DEPTH]
        self.redo_stack.clear()

    def set_current(self, pattern: Pattern) -> None:
        """Put a bar into the selected slot (undoable)."""
        self._checkpoint()
        self.doc.bank[self.doc.slot] = pattern

    def put(self, slot: int, pattern: Pattern) -> None:
        """Put a bar into a given slot (undoable); a worker's result lands where it was asked for."""
        self._checkpoint()
        self.doc.bank[slot] = pattern

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
        """Make another bank slot current."""
        if not 0 <= slot < len(self.doc.bank):
            raise DrumfontError(f"there is no bank slot {slot + 1}; the bank has {len(self.doc.bank)}")
        self.doc.slot = slot

    def copy_to_next_empty(self) -> int:
        """Duplicate the current bar into the next empty slot; returns that slot."""
        n = len(self.doc.bank)
        for i in range(1, n):
            j = (self.doc.slot + i) % n
            if self.doc.bank[j] is None:
                self._checkpoint()
                self.doc.bank[j] = self.current
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
        """The filled slots in order."""
        return [p for p in self.doc.bank if p is not None]

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

    def put_bank(self, bars: dict[int, Pattern]) -> None:
        """Replace several slots at once, as one undo step (humanising the bank)."""
        self._checkpoint()
        for slot, p in bars.items():
            self.doc.bank[slot] = p

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
            "bank": [_pat_to_json(p) for p in self.doc.bank], "slot": self.doc.slot,
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
        if d.get("format") != FORMAT:
            raise DrumfontError(f"{where}: session format {d.get('format')!r} is not {FORMAT}")
        f = Fields(d, where)
        bank = f.list("bank", f.pattern, max_len=BANK_SLOTS)
        bank += [None] * (BANK_SLOTS - len(bank))
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
                         f.opt("b", None, f.pattern)),
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


def default_export_name(kind: str, studio: Studio) -> str:
    """A file name for an export: drumfont-<genre>-<what>.mid."""
    what = {"bar": f"slot{studio.doc.slot + 1}", "bank": "bank", "morph": f"morph-{studio.morph_level}"}[kind]
    return f"drumfont-{studio.genre}-{what}.mid"


def export_patterns(path: str | os.PathLike, patterns: Sequence[Pattern], transport: Transport,
                    force: bool = False, name: str = "drumfont") -> Path:
    """Write bars as one .mid chain with the transport's tempo, swing, gate and bars per pattern."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in (".mid", ".midi"):
        raise DrumfontError(f"{path}: give a file name ending in .mid")
    opts = ExportOptions(bpm=transport.bpm, swing=transport.swing, gate=transport.gate,
                         bars_per_pattern=transport.bars, notemap=load_notemap(transport.notemap), name=name)
    return write_midi(path, list(patterns), opts, force=force)
