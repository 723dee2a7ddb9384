"""Typed reads of a saved session's JSON fields: each failure names the file and the field, so a
damaged session says what is wrong in one line instead of loading half a studio."""

from __future__ import annotations

from drumfont.errors import DrumfontError
from drumfont.score.pattern import from_text
from drumfont.score.phrase import Phrase
from drumfont.validate import RANGES, short


class Fields:
    """Typed reads of one JSON object's fields, each failure naming the file and the field."""

    def __init__(self, d: dict, where: str, prefix: str = "") -> None:
        self.d, self.where, self.prefix = d, where, prefix

    def bad(self, key: str, want: str) -> DrumfontError:
        return DrumfontError(f"{self.where}: field {self.prefix}{key} must be {want}, got {short(self.d.get(key))}")

    def get(self, key: str, check):
        if key not in self.d:
            raise DrumfontError(f"{self.where}: field {self.prefix}{key} is missing")
        return check(key, self.d[key])

    def opt(self, key: str, default, check):
        return check(key, self.d[key]) if key in self.d else default

    def str(self, key: str):
        return self.get(key, self.text)

    def num(self, key: str, range_key: str):
        return self.get(key, self.ranged(range_key))

    def text(self, key: str, v):
        if not isinstance(v, str) or len(v) > 1000:
            raise self.bad(key, "a string (at most 1000 characters)")
        return v

    def opt_str(self, key: str, v):
        return None if v is None else self.text(key, v)

    def bool(self, key: str, v):
        if not isinstance(v, bool):
            raise self.bad(key, "true or false")
        return v

    def ranged(self, range_key: str):
        return lambda key, v: RANGES[range_key].check(v, f"field {self.prefix}{key}", self.where)

    def int_in(self, lo: int, hi: int):
        def check(key, v):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise self.bad(key, f"a whole number {lo}..{hi}")
            return v
        return check

    def choice(self, options):
        def check(key, v):
            if isinstance(v, (bool, float)) or v not in options:  # 2.0 is not the bar count 2
                raise self.bad(key, f"one of {', '.join(map(repr, options))}")
            return v
        return check

    def pattern(self, key: str, v):
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.bad(key, "a bar in the text form, or null")
        try:
            return from_text(v)
        except DrumfontError as exc:
            raise DrumfontError(f"{self.where}: field {self.prefix}{key}: {exc}") from None

    def phrase(self, key: str, v):
        """A slot: null, a bar's text (a one-bar phrase) or {"bars": [text, ...], "fills": [bool, ...]}."""
        if v is None or isinstance(v, str):
            bar = self.pattern(key, v)
            return None if bar is None else Phrase.of([bar])
        if not isinstance(v, dict) or set(v) - {"bars", "fills"} or "bars" not in v:
            raise self.bad(key, 'a bar in the text form, {"bars": [...], "fills": [...]} or null')
        inner = Fields(v, self.where, f"{self.prefix}{key}.")
        most = int(RANGES["phrase_slot"].hi)
        bars = inner.list("bars", inner.pattern, max_len=most)
        if not bars or any(b is None for b in bars):
            raise inner.bad("bars", f"a list of 1-{most} bars in the text form")
        fills = inner.list("fills", inner.bool, max_len=most) if "fills" in v else [False] * len(bars)
        if len(fills) != len(bars):
            raise inner.bad("fills", f"a list of {len(bars)} true/false, one per bar")
        return Phrase(tuple(bars), tuple(fills))

    def section(self, slots: int, most_repeats: int):
        """A song section: {"name": text, "slot": 0..slots-1, "repeats": 1..most_repeats}."""
        def check(key, v):
            if not isinstance(v, dict) or set(v) != {"name", "slot", "repeats"}:
                raise self.bad(key, 'a section {"name": ..., "slot": ..., "repeats": ...}')
            inner = Fields(v, self.where, f"{self.prefix}{key}.")
            name = inner.str("name")
            if not name.strip() or len(name) > 40:
                raise inner.bad("name", "a name of 1-40 characters")
            return {"name": name, "slot": inner.get("slot", inner.int_in(0, slots - 1)),
                    "repeats": inner.get("repeats", inner.int_in(1, most_repeats))}
        return check

    def list(self, key: str, check, max_len: int):
        v = self.d.get(key, [])
        if not isinstance(v, list) or len(v) > max_len:
            raise self.bad(key, f"a list of at most {max_len}")
        return [check(f"{key}[{i}]", x) for i, x in enumerate(v)]

    def dict(self, key: str, allowed: set):
        v = self.d.get(key, {})
        if not isinstance(v, dict):
            raise self.bad(key, "an object")
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise DrumfontError(f"{self.where}: unknown field {self.prefix}{key}.{unknown[0]}")
        return v
