"""The one drum engine every command and the studio use: the trained VAE when its preset loads, the
seeded genre rules otherwise, with the reason said once.

`export`, `play`, the studio and the reports all come here, so a new option (temperature, seed)
reaches all of them at once. The engine speaks Patterns and plain numbers only (no torch types),
so the studio can call it from a worker thread.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from drumfont.drums import model as vae
from drumfont.drums import rules
from drumfont.drums.model import Endpoint
from drumfont.errors import DrumfontError
from drumfont.score.genres import RULE_GENRES
from drumfont.score.pattern import Pattern

ANY_GENRE = "any"   # the one pseudo-genre of a VAE trained without genre labels


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


class RulesEngine(Engine):
    """The seeded genre rules of the built-in corpus: always there, no torch needed."""

    name = "rules"

    def __init__(self, reason: str = "no trained drum model") -> None:
        self.genres = RULE_GENRES
        self.reason = reason

    def bars(self, genre: str, n: int, temperature: float = 1.0, seed: int | None = None) -> list[Pattern]:
        if n < 1:
            raise DrumfontError(f"-n must be at least 1, got {n}")
        # The rules have no temperature: their spread is the genre's written variations.
        return rules.generate(genre, n, np.random.default_rng(seed))

    def reroll(self, pattern: Pattern, keep: str, genre: str, temperature: float, seed: int) -> Pattern:
        # The rules have no latent levels to hold fixed: a re-roll is a fresh bar of the genre.
        return self.sample(genre, temperature, seed)


class VaeEngine(Engine):
    """The drum API (`drumfont.drums.model.DrumModel`) on a loaded hierarchical VAE."""

    name = "vae"
    can_morph = True

    def __init__(self, model: Any) -> None:
        self.model = model
        # A model trained without genre labels samples from its prior: one pseudo-genre, "any".
        self.genres = tuple(model.genres) or (ANY_GENRE,)

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


def load_engine(preset: str | None = None, rules: bool = False, fallback: bool = False) -> Engine:
    """The VAE engine on `preset` (default: the shipped model), or the rules with the reason.

    A missing shipped preset always falls back to the rules (its `reason` says so, for the caller
    to show). A preset the user named that does not load is an error, unless `fallback` (the
    studio keeps working on the rules and shows why)."""
    if rules:
        return RulesEngine("started with --rules")
    if preset is None and not vae.preset_available():
        return RulesEngine(f"no shipped drum VAE (presets/{vae.PRESET_NAME}); drawing from the genre rules")
    try:
        return VaeEngine(vae.load(preset))
    except ImportError as exc:  # torch is the model's runtime; the rules need none
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
