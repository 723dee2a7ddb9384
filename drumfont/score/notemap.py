"""Drum note maps: the fold of every GM percussion note onto the 9 voices (input), and the
note each voice is written as (output: GM by default, kit layouts from presets/notemaps/).

The fold starts from Magenta's 9-class fold (note-seq drums_encoder_decoder.py) and differs
on purpose in three places:
- hand clap (39) is its own voice instead of a snare; Magenta's other snare-like sounds
  (side stick 37, electric snare 40, slap 28, ...) stay on the snare;
- Magenta has three toms, drumfont two: Magenta's mid toms (47, 48, 60, 63, 77) join the
  high toms, its low toms stay low; the floor toms 41 and 43 are low, as in Magenta;
- the surdos 86/87 (Magenta: mid tom) go to the low tom, because a surdo is the lowest drum of
  a samba section and plays the low-tom role in a kit groove.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from drumfont.errors import DrumfontError
from drumfont.paths import presets_dir
from drumfont.score.pattern import (
    CLAP,
    CLOSED_HAT,
    CRASH,
    KICK,
    N_VOICES,
    OPEN_HAT,
    RIDE,
    SNARE,
    TOM_HIGH,
    TOM_LOW,
    VOICES,
)
from drumfont.validate import MAX_TEXT_BYTES, read_text, short

# GM note -> voice, with the instrument name (GM Level 1 percussion, 35-81; GS/XG extras 27-34
# and 82-87; 22 and 26 are the closed/open hat edge notes Roland V-Drums send).
FOLD_TABLE: dict[int, tuple[int, str]] = {
    22: (CLOSED_HAT, "hi-hat closed edge (Roland)"),
    26: (OPEN_HAT, "hi-hat open edge (Roland)"),
    27: (SNARE, "high Q"),
    28: (SNARE, "slap"),
    29: (TOM_LOW, "scratch push"),
    30: (TOM_HIGH, "scratch pull"),
    31: (SNARE, "sticks"),
    32: (SNARE, "square click"),
    33: (SNARE, "metronome click"),
    34: (SNARE, "metronome bell"),
    35: (KICK, "acoustic bass drum"),
    36: (KICK, "bass drum 1"),
    37: (SNARE, "side stick"),
    38: (SNARE, "acoustic snare"),
    39: (CLAP, "hand clap"),
    40: (SNARE, "electric snare"),
    41: (TOM_LOW, "low floor tom"),
    42: (CLOSED_HAT, "closed hi-hat"),
    43: (TOM_LOW, "high floor tom"),
    44: (CLOSED_HAT, "pedal hi-hat"),
    45: (TOM_LOW, "low tom"),
    46: (OPEN_HAT, "open hi-hat"),
    47: (TOM_HIGH, "low-mid tom"),
    48: (TOM_HIGH, "hi-mid tom"),
    49: (CRASH, "crash cymbal 1"),
    50: (TOM_HIGH, "high tom"),
    51: (RIDE, "ride cymbal 1"),
    52: (CRASH, "chinese cymbal"),
    53: (RIDE, "ride bell"),
    54: (CLOSED_HAT, "tambourine"),
    55: (CRASH, "splash cymbal"),
    56: (SNARE, "cowbell"),
    57: (CRASH, "crash cymbal 2"),
    58: (CRASH, "vibraslap"),
    59: (RIDE, "ride cymbal 2"),
    60: (TOM_HIGH, "hi bongo"),
    61: (TOM_LOW, "low bongo"),
    62: (TOM_HIGH, "mute hi conga"),
    63: (TOM_HIGH, "open hi conga"),
    64: (TOM_LOW, "low conga"),
    65: (SNARE, "high timbale"),
    66: (SNARE, "low timbale"),
    67: (OPEN_HAT, "high agogo"),
    68: (CLOSED_HAT, "low agogo"),
    69: (CLOSED_HAT, "cabasa"),
    70: (CLOSED_HAT, "maracas"),
    71: (CLOSED_HAT, "short whistle"),
    72: (OPEN_HAT, "long whistle"),
    73: (CLOSED_HAT, "short guiro"),
    74: (OPEN_HAT, "long guiro"),
    75: (SNARE, "claves"),
    76: (TOM_HIGH, "hi wood block"),
    77: (TOM_HIGH, "low wood block"),
    78: (CLOSED_HAT, "mute cuica"),
    79: (OPEN_HAT, "open cuica"),
    80: (CLOSED_HAT, "mute triangle"),
    81: (OPEN_HAT, "open triangle"),
    82: (RIDE, "shaker"),
    83: (TOM_HIGH, "jingle bell"),
    84: (TOM_LOW, "bell tree"),
    85: (SNARE, "castanets"),
    86: (TOM_LOW, "mute surdo"),
    87: (TOM_LOW, "open surdo"),
}

# note -> voice, for the importer's hot loop; -1 = not a drum note we fold.
FOLD: list[int] = [-1] * 128
for _note, (_voice, _) in FOLD_TABLE.items():
    FOLD[_note] = _voice


def fold(note: int) -> int | None:
    """The voice a GM drum note folds onto, or None for a note outside the table."""
    v = FOLD[note] if 0 <= note < 128 else -1
    return None if v < 0 else v


@dataclass(frozen=True)
class NoteMap:
    """Output notes, one per voice in voice order."""

    name: str
    notes: tuple[int, ...]
    description: str = ""

    def note(self, voice: int) -> int:
        """MIDI note for a voice index."""
        return self.notes[voice]


GM = NoteMap("gm", (36, 38, 42, 46, 48, 45, 49, 51, 39), "General MIDI drums (channel 10)")


def _notemap_dir() -> Path:
    return presets_dir() / "notemaps"


def available_notemaps() -> list[str]:
    """Names accepted by --notemap: 'gm' and the files in presets/notemaps/."""
    files = sorted(p.stem for p in _notemap_dir().glob("*.json"))
    return ["gm"] + [f for f in files if f != "gm"]


def parse_notemap(data: dict, name: str, where: str | None = None) -> NoteMap:
    """Validate a note map dict: {"name", "description", "notes": {voice: note}}; errors name
    `where` (the file), else `name`."""
    stem, name = name, where or name
    if not isinstance(data, dict):
        raise DrumfontError(f"note map {name}: must be a JSON object with a 'notes' object, "
                            f"not {type(data).__name__}")
    notes = data.get("notes")
    if not isinstance(notes, dict):
        raise DrumfontError(f"note map {name}: needs a 'notes' object mapping voices to notes")
    missing = [v for v in VOICES if v not in notes]
    if missing:
        raise DrumfontError(f"note map {name}: no note for {', '.join(missing)}")
    extra = sorted(set(notes) - set(VOICES))
    if extra:
        raise DrumfontError(f"note map {name}: unknown voices {', '.join(short(e, 20) for e in extra[:5])}")
    values = [notes[v] for v in VOICES]
    bad = [v for v, n in zip(VOICES, values) if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 127]
    if bad:
        raise DrumfontError(f"note map {name}: the note of {', '.join(bad)} must be a whole number 0..127")
    for key in ("name", "description"):
        if not isinstance(data.get(key, ""), str):
            raise DrumfontError(f"note map {name}: '{key}' must be a string")
    return NoteMap(data.get("name", stem), tuple(values), data.get("description", ""))


def load_notemap(name_or_path: str | None) -> NoteMap:
    """A note map by name ('gm', a file stem in presets/notemaps/) or by path to a JSON file."""
    if name_or_path is None or name_or_path.lower() == "gm":
        return GM
    if not isinstance(name_or_path, str) or "\0" in name_or_path:
        raise DrumfontError(f"unknown note map {name_or_path!r}")
    path = Path(name_or_path)
    if path.suffix != ".json" or not os.path.lexists(path):
        path = _notemap_dir() / f"{Path(name_or_path.lower()).name}.json"
    if not os.path.lexists(path):
        raise DrumfontError(f"unknown note map {name_or_path!r}; choose from "
                            f"{', '.join(available_notemaps())} or give a .json file")
    text = read_text(path, MAX_TEXT_BYTES, "note map")  # regular, capped, UTF-8
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DrumfontError(f"cannot read note map {path}: not valid JSON ({str(exc)[:80]})") from None
    return parse_notemap(data, path.stem, str(path))


assert len(GM.notes) == N_VOICES
