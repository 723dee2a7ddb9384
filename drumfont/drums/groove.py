"""Humanize and drumify: the Groove and Drumify models as drum API calls beside the VAE's (drums/__init__.py).

`humanize(patterns, ...)` gives each bar a drummer's velocities and micro-timing, keeping its
hits exactly (none added, none removed); `amount` scales the change (0 = the input unchanged).
`drumify(taps, ...)` turns a one-line tap rhythm into a 9-voice bar of a genre. Signatures carry
numpy arrays and Patterns only, so the TUI calls them from a worker thread.

Taps are (16, 3) float arrays per bar: onset (0/1), velocity (0..127) and offset (sixteenths,
[-0.5, 0.5)), GrooVAE's tap line. Every tap step of a drumified bar holds a hit: where the model
places none, the most likely voice is played (measured: how often that is needed is in reports/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from drumfont.drums.nets import GrooveConfig, GrooveNet
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.nn import preset as presets
from drumfont.paths import preset_path
from drumfont.score.pattern import CLOSED_HAT, KICK, N_VOICES, SNARE, STEPS, Pattern, clip_offsets
from drumfont.validate import RANGES

SHIPPED = {"humanize": "humanize.safetensors", "drumify": "drumify.safetensors"}
TAP_FIELDS = 3  # onset, velocity 0..127, offset in sixteenths
# Defaults of the commands and the studio (the measured table in reports/README.md uses them).
DEFAULT_TEMPERATURE = 1.0  # the model's own spread: offsets as wide as a drummer's (reports/README.md)
DEFAULT_BPM = 120.0  # the tempo a tempo-reading model assumes where none is given (MIDI's default)


def _seed(seed: int | None) -> int:
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else int(seed)


def _hit_z(blob: dict, source: str) -> np.ndarray | None:
    """The drumify marginal's fixed draws: stored in a preset; a torch checkpoint (from before
    presets) draws them as its trainer did, which needs torch, as loading it did anyway."""
    extras = blob.get("extras", {})
    if "hit_z" in extras or blob.get("kind") != "drumify":
        return extras.get("hit_z")
    from drumfont.drums.groove_model import hit_draws  # noqa: PLC0415 (torch: only an old .pt checkpoint comes here)

    return hit_draws(presets.make_config(GrooveConfig, blob["config"].get("model"), source)).numpy()


class GrooveTool:
    """A loaded Groove (humanize) or Drumify model with its genre list."""

    def __init__(self, blob: dict, source: str = "") -> None:
        blob = presets.from_checkpoint(blob)  # tensors of an in-memory torch checkpoint as arrays
        model_cfg = blob.get("config", {}).get("model") if isinstance(blob.get("config"), dict) else None
        cfg = presets.make_config(GrooveConfig, model_cfg, f"{source}: config.model")
        self._model = presets.build(source, lambda: GrooveNet(cfg, blob["state_dict"], _hit_z(blob, source)))
        self.task = self._model.cfg.task
        self.reads_tempo = bool(self._model.cfg.tempo)
        self.source = source
        self.genres = tuple(blob.get("extras", {}).get("genres", ()))
        self.metrics = blob.get("metrics", {})

    def genre_index(self, style: str | None) -> int:
        """The model's index of a genre (None: no genre, -1)."""
        if style is None:
            return -1
        g = style.lower()
        if g not in self.genres:
            raise DrumfontError(f"unknown genre {style!r}; this model knows: {', '.join(self.genres)}")
        return self.genres.index(g)

    def run(self, cond: np.ndarray, genre: int, temperature: float, seed: int | None,
            bpm: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(logits, velocities in [0, 1], offsets) of a batch of conditions (B, 16, C); a model
        that reads the tempo gets `bpm` (None: 120) as one more channel."""
        RANGES["temperature"].check(temperature, "temperature")
        cond = np.asarray(cond, np.float32)
        if self.reads_tempo:
            bpm = DEFAULT_BPM if bpm is None else bpm
            if not 0 < bpm < 10_000:
                raise DrumfontError(f"tempo must be a positive BPM, got {bpm}")
            cond = np.concatenate([cond, np.full(cond.shape[:2] + (1,), np.log2(bpm / DEFAULT_BPM), np.float32)], -1)
        rng = np.random.default_rng(_seed(seed))
        return self._model.generate(cond, np.full(len(cond), genre, np.int64), temperature, rng)


_CACHE: dict[str, GrooveTool] = {}


def load(task: str, preset: str | os.PathLike | None = None) -> GrooveTool:
    """The shipped model of a task ("humanize" or "drumify"), or a checkpoint of one; cached."""
    path = preset_path(SHIPPED[task]) if preset is None else Path(preset)
    key = f"{task}:{path}"
    if key not in _CACHE:
        if preset is None and not path.is_file():
            raise CheckpointError(f"the shipped {task} model {path} is missing; reinstall drumfont or pass --preset")
        _CACHE[key] = GrooveTool(presets.load(path, task), str(path))
    return _CACHE[key]


# --- humanize ----------------------------------------------------------------------------------

def humanize(patterns: Sequence[Pattern], style: str | None = None, amount: float = 1.0,
             temperature: float = DEFAULT_TEMPERATURE, seed: int | None = None,
             model: GrooveTool | None = None, bpm: float | None = None) -> list[Pattern]:
    """Each bar with a drummer's velocities and offsets on exactly its own hits; `amount` in 0..1
    moves from the input (0) to the model's playing (1). `bpm` is the tempo the bars play at
    (the shipped model's timing depends on it; None: 120)."""
    if not 0 <= amount <= 1:
        raise DrumfontError(f"amount must lie in 0..1, got {amount}")
    if not patterns:
        return []
    model = model or load("humanize")
    hits = np.stack([p.hits for p in patterns]).astype(np.float32)
    vel_in = np.stack([p.velocities for p in patterns]).astype(np.float64)
    off_in = np.stack([p.offsets for p in patterns]).astype(np.float64)
    _, vel, off = model.run(hits, model.genre_index(style), temperature, seed, bpm)
    v = vel_in + amount * (vel.astype(np.float64) * 127.0 - vel_in)
    o = off_in + amount * (off.astype(np.float64) - off_in)
    v = np.where(hits > 0, np.clip(np.rint(v), 1, 127), 0).astype(np.uint8)
    o = clip_offsets(np.where(hits > 0, o, 0.0))
    return [Pattern(a, b) for a, b in zip(v, o)]


# --- drumify -----------------------------------------------------------------------------------

def taps_of(pattern: Pattern) -> np.ndarray:
    """A bar's tap line (16, 3): every voice merged; the loudest hit's velocity and offset."""
    v = pattern.velocities.astype(np.float32)
    loud = v.argmax(axis=1)
    onset = (v.max(axis=1) > 0).astype(np.float32)
    return np.stack([onset, v.max(axis=1), pattern.offsets[np.arange(STEPS), loud] * onset], axis=1)


def check_taps(taps: np.ndarray) -> np.ndarray:
    """Taps as (B, 16, 3) float32, checked once here: onset 0/1, velocity 0..127, offset in range."""
    t = np.asarray(taps, np.float32)
    if t.ndim == 2:
        t = t[None]
    if t.ndim != 3 or t.shape[1:] != (STEPS, TAP_FIELDS):
        raise DrumfontError(f"taps are (bars, {STEPS}, {TAP_FIELDS}) arrays, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise DrumfontError("taps hold a non-finite value")
    on = t[..., 0] > 0
    t = np.stack([on.astype(np.float32), np.where(on, np.clip(t[..., 1], 1, 127), 0),
                  np.where(on, clip_offsets(t[..., 2]), 0)], axis=-1).astype(np.float32)
    return t


def drumify(taps: np.ndarray, style: str | None = None, n: int = 1,
            temperature: float = DEFAULT_TEMPERATURE, seed: int | None = None,
            model: GrooveTool | None = None) -> list[list[Pattern]]:
    """n variations of kit bars that follow the taps: result[i][b] is variation i of bar b.
    Every tap step holds a hit, timed and voiced by the model."""
    if n < 1:
        raise DrumfontError(f"the number of variations must be at least 1, got {n}")
    t = check_taps(taps)
    model = model or load("drumify")
    genre = model.genre_index(style)
    cond = np.concatenate([t[..., :1], t[..., 1:2] / 127.0, 2.0 * t[..., 2:3]], axis=-1)
    base = _seed(seed)
    out = []
    for i in range(n):
        logits, vel, off = model.run(cond, genre, temperature, base + i)
        out.append(_kit_bars(t, logits, vel, off))
    return out


def _kit_bars(taps: np.ndarray, logits: np.ndarray, vel: np.ndarray, off: np.ndarray) -> list[Pattern]:
    """Patterns from the model's outputs: hits where it is sure, plus its likeliest voice on a tap
    step it left empty; a hit off the tap steps is kept (the model may add a hat between taps)."""
    hits = logits > 0
    on = taps[..., 0] > 0                                         # (B, 16)
    empty = on & ~hits.any(-1)
    best = logits.argmax(-1)
    b, s = np.nonzero(empty)
    hits[b, s, best[b, s]] = True
    v = np.where(hits, np.clip(np.rint(vel * 127.0), 1, 127), 0).astype(np.uint8)
    o = clip_offsets(np.where(hits, off, 0.0))
    return [Pattern(a, c) for a, c in zip(v, o)]


def raw_tap_coverage(taps: np.ndarray, logits: np.ndarray) -> float:
    """Share of tap steps where the model itself (before the fill-in rule) places a hit."""
    on = np.asarray(taps)[..., 0] > 0
    return float((on & (logits > 0).any(-1)).sum() / max(1, on.sum()))


def rules_drumify(taps: np.ndarray, hats: bool = False) -> list[Pattern]:
    """The rules baseline: a tap on a backbeat (steps 4, 12) is a snare, any other a kick; with
    `hats`, every tap also gets a closed hat. Velocities and offsets are the taps'."""
    t = check_taps(taps)
    on = t[..., 0] > 0
    v = np.zeros(t.shape[:2] + (N_VOICES,), np.uint8)
    o = np.zeros(v.shape, np.float32)
    snare = np.zeros(STEPS, bool)
    snare[[4, 12]] = True
    voice = np.where(snare[None], SNARE, KICK) * np.ones(on.shape, int)
    b, s = np.nonzero(on)
    v[b, s, voice[b, s]] = t[b, s, 1].astype(np.uint8)
    o[b, s, voice[b, s]] = t[b, s, 2]
    if hats:
        v[b, s, CLOSED_HAT] = t[b, s, 1].astype(np.uint8)
        o[b, s, CLOSED_HAT] = t[b, s, 2]
    return [Pattern(a, clip_offsets(c)) for a, c in zip(v, o)]
