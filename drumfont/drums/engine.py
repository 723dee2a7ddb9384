"""The one drum engine every command and the studio use: the trained VAE when its preset loads, the
seeded genre rules otherwise, with the reason said once.

`export`, `play`, the studio and the reports all come here, so a new option (temperature, seed)
reaches all of them at once. The engine speaks Patterns, Phrases and plain numbers only (no torch
types), so the studio can call it from a worker thread.

Phrases (bars that belong together, a fill where a drummer plays one), continuing a player's bars,
re-rolling a phrase's fill and songs come from the phrase model (`drums/phrase_engine.py`) when the
shipped one loads beside the shipped drum VAE. Without it the engine falls back, and says so in
`phrase_reason`: a phrase is its first bar (drawn as `bars` draws it) played again, with the
genre's rule fill (`rules.fill`) in its last bar; a song is a bar per section name played so, a
rule fill before each change of section and a crash on the downbeat after it. That is the
"bar 1 repeated" baseline the phrase model is measured against, not a substitute for it.
Continuing a player's groove needs the phrase model (it reads the player's feel); without it
`continue_phrase` refuses in one line.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from drumfont.drums import model as vae
from drumfont.drums import phrase_data, phrase_engine, rules
from drumfont.drums.model import Endpoint
from drumfont.errors import DrumfontError
from drumfont.score.genres import RULE_GENRES
from drumfont.score.pattern import Pattern
from drumfont.score.phrase import Phrase, with_crash
from drumfont.validate import RANGES, check_form, parse_form

ANY_GENRE = "any"   # the one pseudo-genre of a VAE trained without genre labels
FILLS = phrase_engine.FILLS  # where a phrase's fill goes: its last bar ("end"), or nowhere
FALLBACK = "a phrase is its first bar played again, with the genre's rule fill in its last bar"


FILL_HALF = 8   # a fill leaves the groove in a bar's second half (steps 8-15)


def _patterns(hits: np.ndarray, vel: np.ndarray, off: np.ndarray) -> list[Pattern]:
    """Bars of a model's (L, 16, 9) hits, velocities in [0, 1] and offsets."""
    v = np.where(hits, np.clip(np.rint(np.asarray(vel) * 127.0), 1, 127), 0).astype(np.uint8)
    return Pattern.batch(v, off)


def _detect_fills(bars: Sequence[Pattern]) -> list[bool]:
    """Which of a player's consecutive bars are fills, by the rule the phrase model learned its
    fill flags from (`phrase_data.detect_fills`: a bar that opens in the groove and leaves it)."""
    if not bars:
        return []
    hits = np.stack([b.hits for b in bars])
    return [bool(f) for f in phrase_data.detect_fills(hits, np.zeros(len(bars), np.int64), np.arange(len(bars)))]


def _fill_rng(seed: int | None) -> np.random.Generator:
    """The generator of the fallback's rule fills: its own stream of the seed, apart from the bars'."""
    return np.random.default_rng(None if seed is None else [int(seed), 1])


def _check_phrase(bars: int, fill: str, key: str = "phrase") -> None:
    RANGES[key].check(bars, "a phrase's bars")
    if fill not in FILLS:
        raise DrumfontError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")


def _form(form: str | Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """A form as (name, bars) pairs, checked as the command line's is (names given as pairs may
    hold the ':' and ',' a form's text cannot)."""
    if isinstance(form, str):
        return parse_form(form)
    return check_form([(str(n), b) for n, b in form])


class Engine:
    """What every caller asks of a drum generator. `RulesEngine` and `VaeEngine` implement it."""

    name = "engine"
    genres: tuple[str, ...] = ()
    can_morph = False
    reason: str | None = None  # why morph/transfer/re-roll-by-level are unavailable

    def bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None) -> list[Pattern]:
        """n fresh bars of a genre."""
        raise NotImplementedError

    def sample(self, genre: str, temperature: float = 1.0, seed: int | None = None) -> Pattern:
        """One fresh bar of a genre."""
        return self.bars(genre, 1, temperature, seed)[0]

    def reroll(self, pattern: Pattern, keep: str, genre: str, temperature: float, seed: int) -> Pattern:
        raise NotImplementedError

    def interpolate(self, a: Endpoint, b: Endpoint, steps: int, level: str) -> list[Pattern]:
        raise DrumfontError(f"morph is not available: {self.reason}")

    def transfer(self, pattern: Pattern, genre: str) -> Pattern:
        raise DrumfontError(f"style transfer is not available: {self.reason}")

    def transfer_many(self, patterns: Sequence[Pattern], genre: str) -> list[Pattern]:
        """Every bar carried into `genre`, each keeping its rhythm."""
        return [self.transfer(p, genre) for p in patterns]

    def endpoint(self, spec: str) -> Endpoint:
        """A morph endpoint: a genre name, or the first bar of a .mid file."""
        raise DrumfontError(f"morph is not available: {self.reason}")

    # --- phrases -----------------------------------------------------------------------------
    phrase_cause = "no phrase model"   # why the phrase model is not behind this engine
    phrase_reason: str | None = f"{phrase_cause}: {FALLBACK}"  # ... and what plays instead (None: it is)

    def phrase_model(self) -> Any:
        """The loaded phrase model, or None (then `phrase_reason` says why and what plays instead)."""
        return None

    def phrases(self, genre: str, n: int, bars: int, fill: str = "end", temperature: float = 1.0,
                seed: int | None = None) -> list[Phrase]:
        """n phrases of `bars` bars (1-8) of a genre; fill "end" plays a fill in each one's last bar."""
        _check_phrase(bars, fill)
        if n < 1:
            raise DrumfontError(f"-n must be at least 1, got {n}")
        pm = self.phrase_model()
        if pm is not None:
            h, v, o = pm.sample_arrays(genre, n, bars, fill, temperature, seed)
            return [Phrase.of(_patterns(h[i], v[i], o[i]), fill == "end") for i in range(n)]
        rng = _fill_rng(seed)
        return [self._rule_phrase(genre, first, bars, fill == "end", rng)
                for first in self.groove_bars(genre, n, temperature, seed)]

    def groove_bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None) -> list[Pattern]:
        """n bars to repeat through a fallback phrase (`bars`, where the engine cannot leave out fills)."""
        return self.bars(genre, n, temperature, seed)

    def phrase(self, genre: str, bars: int, fill: str = "end", temperature: float = 1.0,
               seed: int | None = None) -> Phrase:
        """One phrase of a genre."""
        return self.phrases(genre, 1, bars, fill, temperature, seed)[0]

    @staticmethod
    def _rule_phrase(genre: str, first: Pattern, bars: int, fill: bool, rng: np.random.Generator,
                     name: str = "") -> Phrase:
        out = [first] * bars
        if fill:
            out[-1] = rules.fill(first, genre, rng)
        return Phrase.of(out, fill, name)

    def continue_phrase(self, patterns: Sequence[Pattern], bars: int, genre: str | None = None,
                        temperature: float = 1.0, seed: int | None = None, fill: str = "none") -> list[Pattern]:
        """`bars` (1-32) new bars carrying on from the player's bars in their own feel; genre None:
        the genre they sound most like; fill "end": the last new bar a fill. Needs the phrase model."""
        RANGES["continue_bars"].check(bars, "--bars")
        if fill not in FILLS:
            raise DrumfontError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        if not patterns:
            raise DrumfontError("continue needs at least one bar to continue")
        pm = self.phrase_model()
        if pm is None:
            raise DrumfontError(f"continue needs the phrase model: {self.phrase_cause}")
        return list(pm.continue_(list(patterns), bars, genre, temperature, seed, fill))

    def reroll_fill(self, phrase: Phrase, genre: str, temperature: float = 1.0, seed: int | None = None) -> Phrase:
        """The phrase with a new fill in its last bar; the bars before it are kept as they are."""
        if len(phrase) < 2:
            raise DrumfontError("a phrase needs at least 2 bars to re-roll its fill (its groove, then the fill)")
        pm = self.phrase_model()
        if pm is not None:
            bars = list(pm.regenerate_fill(list(phrase.bars), genre, temperature, seed))
        else:
            bars = list(phrase.bars[:-1]) + [rules.fill(phrase.bars[-2], genre, _fill_rng(seed))]
        return Phrase(tuple(bars), phrase.fills[:-1] + (True,), phrase.name)

    def song(self, genre: str, form: str | Sequence[tuple[str, int]], temperature: float = 1.0,
             seed: int | None = None) -> list[Phrase]:
        """A song laid out by `form` ("intro:4,verse:8,..." or (name, bars) pairs): each section a
        phrase named after it, a fill in the last bar before every change of section and a crash
        on the downbeat after it; a section whose name came before plays that section's groove."""
        items = _form(form)
        pm = self.phrase_model()
        if pm is not None:
            return [Phrase(tuple(s.patterns), tuple(s.fills), s.name)
                    for s in pm.song(genre, items, temperature, seed)]
        names = list(dict.fromkeys(name for name, _ in items))
        grooves = dict(zip(names, self.groove_bars(genre, len(names), temperature, seed)))
        rng = _fill_rng(seed)
        out = []
        for i, (name, bars) in enumerate(items):
            sec = self._rule_phrase(genre, grooves[name], bars, i < len(items) - 1, rng, name)
            out.append(sec.with_bar(0, with_crash(sec.bars[0])) if i > 0 else sec)
        return out

    @staticmethod
    def phrase_of(bars: Sequence[Pattern], name: str = "") -> Phrase:
        """A player's bars as a phrase, each flagged a fill where it opens in the groove and leaves it."""
        bars = tuple(bars)
        return Phrase(bars, tuple(_detect_fills(bars)), name)

    def transfer_phrase(self, phrase: Phrase, genre: str) -> Phrase:
        """Every bar carried into `genre`; a fill stays a fill: its second half, where it leaves the
        groove, is kept as played, on the first half carried over."""
        out = self.transfer_many(list(phrase.bars), genre)
        kept = []
        for bar, new, fill in zip(phrase.bars, out, phrase.fills):
            if fill:
                v, o = new.velocities.copy(), new.offsets.copy()
                v[FILL_HALF:], o[FILL_HALF:] = bar.velocities[FILL_HALF:], bar.offsets[FILL_HALF:]
                new = Pattern(v, o)
            kept.append(new)
        return Phrase(tuple(kept), phrase.fills, phrase.name)

    def interpolate_phrases(self, a: Phrase, b: Phrase, steps: int, level: str) -> list[Phrase]:
        """A morph of two phrases of one length, bar by bar: `steps` phrases from a to b. A bar is
        a fill where the nearer endpoint's is."""
        if len(a) != len(b):
            raise DrumfontError(f"the two phrases must have as many bars: {len(a)} and {len(b)}")
        per_bar = [self.interpolate(x, y, steps, level) for x, y in zip(a.bars, b.bars)]
        return [Phrase(tuple(col[k] for col in per_bar), a.fills if 2 * k < steps - 1 else b.fills)
                for k in range(steps)]


class RulesEngine(Engine):
    """The seeded genre rules of the built-in corpus: always there, no torch needed."""

    name = "rules"

    def __init__(self, reason: str = "no trained drum model") -> None:
        self.genres = RULE_GENRES
        self.reason = reason
        self.phrase_cause = "the genre rules have none"
        self.phrase_reason = f"the genre rules have no phrase model: {FALLBACK}"

    def bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None) -> list[Pattern]:
        if n < 1:
            raise DrumfontError(f"-n must be at least 1, got {n}")
        # The rules have no temperature: their spread is the genre's written variations.
        return rules.generate(genre, n, np.random.default_rng(seed))

    def reroll(self, pattern: Pattern, keep: str, genre: str, temperature: float, seed: int) -> Pattern:
        # The rules have no latent levels to hold fixed: a re-roll is a fresh bar of the genre.
        return self.sample(genre, temperature, seed)

    def groove_bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None) -> list[Pattern]:
        if n < 1:
            raise DrumfontError(f"-n must be at least 1, got {n}")
        # Bars without the fills and crashes the rules play now and then: the phrase puts its own.
        return rules.generate(genre, n, np.random.default_rng(seed), groove_only=True)


class VaeEngine(Engine):
    """The drum API (`drumfont.drums.model.DrumModel`) on a loaded hierarchical VAE."""

    name = "vae"
    can_morph = True

    def __init__(self, model: Any, phrases: Any = None, phrase_cause: str = "no phrase model") -> None:
        self.model = model
        # A model trained without genre labels samples from its prior: one pseudo-genre, "any".
        self.genres = tuple(model.genres) or (ANY_GENRE,)
        # The phrase model: a loaded one, a loader returning (model or None, why not) that runs on
        # first use (a command that never asks for a phrase never loads it), or None.
        self._phrases, self._phrases_lock = phrases, threading.Lock()
        self.phrase_cause = phrase_cause
        self.phrase_reason = None if phrases is not None else f"{phrase_cause}: {FALLBACK}"

    def phrase_model(self) -> Any:
        with self._phrases_lock:
            if isinstance(self._phrases, PhraseLoader):
                loaded, why = self._phrases()
                self._phrases = loaded
                if loaded is None:
                    self.phrase_cause, self.phrase_reason = why, f"{why}: {FALLBACK}"
            return self._phrases

    def bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None) -> list[Pattern]:
        if n < 1:
            raise DrumfontError(f"-n must be at least 1, got {n}")
        g = None if genre == ANY_GENRE else genre
        return self.model.sample(g, n, temperature=temperature, seed=seed)

    def reroll(self, pattern: Pattern, keep: str, genre: str, temperature: float, seed: int) -> Pattern:
        return self.model.reroll(pattern, keep=keep, seed=seed)

    def interpolate(self, a: Endpoint, b: Endpoint, steps: int, level: str) -> list[Pattern]:
        return list(self.model.interpolate(a, b, steps, level=level))

    def transfer(self, pattern: Pattern, genre: str) -> Pattern:
        return self.model.transfer(pattern, genre)

    def transfer_many(self, patterns: Sequence[Pattern], genre: str) -> list[Pattern]:
        return self.model.transfer_many(patterns, genre)

    def endpoint(self, spec: str) -> Endpoint:
        return vae.endpoint(self.model, spec)


class PhraseLoader:
    """Loads a phrase model when first asked: (the model, None) or (None, why not). The shipped one
    by default, missing or not; a checkpoint the user named (`path`) that does not load is a
    DrumfontError, unless `fallback` (the studio plays on without it and says why)."""

    def __init__(self, path: str | None = None, fallback: bool = False) -> None:
        self.path, self.fallback = path, fallback

    def __call__(self) -> tuple[Any, str | None]:
        if self.path is None and not phrase_engine.preset_available():
            return None, f"no shipped phrase model (presets/{phrase_engine.PRESET_NAME})"
        try:
            return phrase_engine.load(self.path), None
        except ImportError as exc:  # a library of the model runtime (numpy, safetensors) is missing
            why = f"the phrase model code is not installed ({exc.name})"
        except DrumfontError as exc:
            why = f"the phrase model did not load: {exc}"
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            why = f"the phrase model did not load: {exc}"
        if self.path is not None and not self.fallback:
            raise DrumfontError(f"--phrase-preset: {why}")
        return None, why


def load_engine(preset: str | None = None, rules: bool = False, fallback: bool = False,
                phrase_preset: str | None = None) -> Engine:
    """The VAE engine on `preset` (default: the shipped model), or the rules with the reason; the
    phrase model behind it is `phrase_preset`, else the shipped one beside the shipped VAE, loaded
    when a phrase is first asked for.

    A missing shipped preset always falls back to the rules (its `reason` says so, for the caller
    to show). A preset the user named that does not load is an error, unless `fallback` (the
    studio keeps working on the rules and shows why)."""
    if rules:
        if phrase_preset is not None and not fallback:
            raise DrumfontError("--phrase-preset plays with the drum model; --rules draws from the genre rules")
        return RulesEngine("started with --rules")
    if preset is None and not vae.preset_available():
        return RulesEngine(f"no shipped drum VAE (presets/{vae.PRESET_NAME}); drawing from the genre rules")
    # The shipped phrase model goes with the shipped drum model (they learned from the same drummers).
    shipped = preset is None or str(preset) == "real"
    phrases = PhraseLoader(phrase_preset, fallback) if shipped or phrase_preset is not None else None
    cause = ("no phrase model" if phrases is not None
             else f"the shipped phrase model goes with the shipped drum model, not --preset {preset} "
             "(--phrase-preset names one)")
    try:
        return VaeEngine(vae.load(preset), phrases, cause)
    except ImportError as exc:  # a library of the model runtime is missing; the rules need none
        if preset is not None and not fallback:
            raise DrumfontError(f"--preset needs the model runtime, which is not installed ({exc.name})") from None
        return RulesEngine(f"the drum model code is not installed ({exc.name})")
    except DrumfontError as exc:
        if not fallback:
            raise
        return RulesEngine(str(exc))
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        if not fallback:
            raise DrumfontError(f"the drum model did not load: {exc}") from None
        return RulesEngine(f"the drum model did not load: {exc}")
