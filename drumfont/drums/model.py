"""The drum API on a trained hierarchical VAE: sample a genre, encode, decode, re-roll,
interpolate and transfer style.

Signatures carry numpy arrays and Patterns only, so the TUI can call them from a worker thread; the
forward passes are numpy (drums/nets.py), so nothing here imports torch, and every random draw
comes from one `numpy.random.Generator` per call (the same seed, the same bars). Temperature in `sample` scales the latent spread (0 = the genre's typical bar);
bars are decoded greedily (a hit where the decoder's probability passes 0.5) unless `decode` is
given an output temperature. Velocities and micro-timing come from the model's velocity and
offset heads; encoding reads a bar's hits, velocities and offsets (a straight, flat bar is
encoded as one).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from drumfont.drums.nets import HVAE, HVAEConfig, gaussian_kl, model_input
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.nn import preset as presets
from drumfont.nn.layers import sigmoid
from drumfont.paths import preset_path
from drumfont.score.midifile import read_patterns
from drumfont.score.pattern import N_VOICES, STEPS, Pattern, stack, stack_offsets
from drumfont.validate import is_file, short

PRESET_NAME = "drums_vae.safetensors"
# Shipped drum models by name: the default learned from real drummers (Groove MIDI Dataset);
# "rules" is the study's reproduction, trained on the built-in rule corpus (straight, no timing).
SHIPPED = {"real": PRESET_NAME, "rules": "drums_vae_rules.safetensors"}
LEVELS = ("high", "low", "both")
Endpoint = Union[Pattern, str]
F32 = np.float32


def _patterns(hits: np.ndarray, vel: np.ndarray, off: np.ndarray | None = None) -> list[Pattern]:
    # Velocities 1..127 on hit cells; the head's [0, 1] output maps onto MIDI velocity.
    v = np.where(hits > 0, np.clip(np.rint(vel * 127.0), 1, 127), 0).astype(np.uint8)
    return Pattern.batch(v, off)


def _input(hits: np.ndarray, velocities: np.ndarray | None, offsets: np.ndarray | None) -> np.ndarray:
    """The encoder's input (N, 16, 27) for (N, 16, 9) hits with optional velocities (0..127) and offsets."""
    h = (np.asarray(hits, F32) > 0).astype(F32)
    v = None if velocities is None else np.asarray(velocities, F32) / F32(127.0)
    o = None if offsets is None else np.asarray(offsets, F32)
    return model_input(h, v, o)


def rng_of(seed: int | None) -> np.random.Generator:
    """The one random stream of a call: seeded, or fresh from the OS where seed is None."""
    return np.random.default_rng(None if seed is None else int(seed))


def _finite(a, shape: tuple[int, ...]) -> bool:
    return isinstance(a, np.ndarray) and a.shape == shape and bool(np.isfinite(a).all())


def _genre_extras(extras: dict, z_high: int, source: str):
    """The genre table of a VAE checkpoint, checked field by field: (genres, present indices,
    means (G, z_high), covariances (G, z_high, z_high))."""

    def bad(field: str, want: str) -> CheckpointError:
        return CheckpointError(f"{source}: field extras.{field} must be {want}")

    genres = extras.get("genres", [])
    if not isinstance(genres, (list, tuple)) or not all(isinstance(g, str) for g in genres):
        raise bad("genres", "a list of genre names")
    present = extras.get("genres_present", [])
    if (not isinstance(present, (list, tuple))
            or not all(isinstance(g, int) and not isinstance(g, bool) and 0 <= g < len(genres) for g in present)):
        raise bad("genres_present", f"a list of indices into the {len(genres)} genres")
    n = max(len(genres), 1)
    mean, cov = extras.get("genre_mean"), extras.get("genre_cov")
    if not isinstance(mean, np.ndarray) or mean.ndim != 2 or mean.shape[1] != z_high or mean.shape[0] < n \
            or not np.isfinite(mean).all():
        raise bad("genre_mean", f"a finite array of shape ({n}, {z_high})")
    if not _finite(cov, (mean.shape[0], z_high, z_high)):
        raise bad("genre_cov", f"a finite array of shape ({mean.shape[0]}, {z_high}, {z_high})")
    return list(genres), [int(g) for g in present], mean.astype(F32), cov.astype(F32)


def _typical_extras(extras: dict, n: int, cfg: HVAEConfig, source: str):
    """(z_high (G, z_high), z_low (G, z_low)) of each genre's typical bar, checked, or None
    where the checkpoint has none."""
    high, low = extras.get("genre_typical_high"), extras.get("genre_typical_low")
    if high is None and low is None:
        return None
    for name, t, d in (("genre_typical_high", high, cfg.z_high), ("genre_typical_low", low, cfg.z_low)):
        if not _finite(t, (n, d)):
            raise CheckpointError(f"{source}: field extras.{name} must be a finite array of shape ({n}, {d})")
    return high.astype(F32), low.astype(F32)


class DrumModel:
    """A loaded drum VAE with its per-genre Gaussians in z_high."""

    def __init__(self, blob: dict, source: str = "") -> None:
        blob = presets.from_checkpoint(blob)  # tensors of an in-memory torch checkpoint as arrays
        extras = blob.get("extras", {})
        model_cfg = blob.get("config", {}).get("model") if isinstance(blob.get("config"), dict) else None
        self.config = presets.make_config(HVAEConfig, model_cfg, f"{source}: config.model")
        self._model = presets.build(source, lambda: HVAE(self.config, blob["state_dict"]))
        if extras.get("complete") is not True or "genre_mean" not in extras:
            raise CheckpointError(f"{source}: an unfinished training run; finish it with "
                                  "`drumfont train vae --resume --out ...`")
        self.source = source
        self.metrics = blob.get("metrics", {})
        all_genres, present, mean, cov = _genre_extras(extras, self.config.z_high, source)
        self._genre_index = {all_genres[g]: g for g in present}
        # Trained on straight bars only (the rule corpus): its offset head learned nothing worth
        # playing, so its bars are on the grid.
        self.timed = bool(extras.get("timing", True))
        self._mean = mean
        # Codes of each genre's most typical training bar (models trained before these were
        # stored use the genre's mean codes instead).
        self._typical = _typical_extras(extras, mean.shape[0], self.config, source)
        try:
            self._chol = np.linalg.cholesky(cov.astype(np.float64)).astype(F32)
        except np.linalg.LinAlgError:
            raise CheckpointError(f"{source}: field extras.genre_cov is not positive definite") from None

    # --- helpers ---------------------------------------------------------------------------
    @property
    def genres(self) -> tuple[str, ...]:
        """The genres this model can sample."""
        return tuple(self._genre_index)

    def _genre(self, genre: str) -> int:
        g = genre.lower()
        if g not in self._genre_index:
            known = ", ".join(self.genres) or "none (the model was trained without genre labels)"
            raise DrumfontError(f"unknown genre {genre!r}; this model knows: {known}")
        return self._genre_index[g]

    def _z_high_of(self, genres: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
        eps = rng.standard_normal((len(genres), self.config.z_high), dtype=F32)
        g = np.asarray(genres, np.int64)
        return self._mean[g] + F32(temperature) * np.einsum("nij,nj->ni", self._chol[g], eps)

    def _timing(self, off: np.ndarray) -> np.ndarray:
        return off if self.timed else np.zeros(off.shape, F32)

    # --- sampling ------------------------------------------------------------------------------
    def sample_arrays(self, genre: str | None, n: int, temperature: float = 1.0,
                      seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n bars as arrays: hits (n, 16, 9) bool, velocities in [0, 1] and offsets in sixteenths.
        genre=None samples z_high from the prior N(0, I) instead of a genre's Gaussian."""
        if n < 1:
            raise DrumfontError(f"the number of bars must be at least 1, got {n}")
        if temperature < 0:
            raise DrumfontError(f"temperature must be >= 0, got {temperature}")
        if genre is not None and temperature == 0 and self._typical is not None:
            zh, zl = self.genre_code(genre)  # the genre's typical bar, as stored: decoded once, n copies
            # (decoding n equal rows need not give equal floats: BLAS sums edge rows in another order)
            return tuple(np.repeat(a, n, 0) for a in self.decode_arrays(zh[None], zl[None]))
        # Ancestral sampling, draws in this order: z_high's noise (n, z_high), then z_low's (n, z_low).
        rng = rng_of(seed)
        if genre is None:
            z_high = F32(temperature) * rng.standard_normal((n, self.config.z_high), dtype=F32)
        else:
            z_high = self._z_high_of(np.full(n, self._genre(genre)), temperature, rng)
        z_low = self._model.sample_low(z_high, rng.standard_normal((n, self.config.z_low), dtype=F32), temperature)
        logits, vel, off = self._model.decode(z_high, z_low)
        return logits > 0, vel, self._timing(off)

    def sample(self, genre: str | None, n: int = 1, temperature: float = 1.0,
               seed: int | None = None) -> list[Pattern]:
        """n new bars of a genre (None: of no genre in particular)."""
        return _patterns(*self.sample_arrays(genre, n, temperature, seed))

    # --- codes -----------------------------------------------------------------------------------
    def encode_arrays(self, hits: np.ndarray, velocities: np.ndarray | None = None,
                      offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means of a batch of (N, 16, 9) hit grids (with their velocities 0..127 and
        offsets where known): z_high (N, 4), z_low (N, 12)."""
        return self._model.encode_mean(_input(hits, velocities, offsets))

    def encode(self, pattern: Pattern) -> tuple[np.ndarray, np.ndarray]:
        """(z_high, z_low) of a bar, as played: the posterior means."""
        zh, zl = self.encode_arrays(pattern.hits[None], pattern.velocities[None], pattern.offsets[None])
        return zh[0], zl[0]

    def decode_arrays(self, z_high: np.ndarray, z_low: np.ndarray, temperature: float = 0.0,
                      seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hits, velocities and offsets of (N, 4) and (N, 12) codes; temperature 0 decodes greedily,
        T > 0 draws each cell from Bernoulli(sigmoid(logits / T))."""
        zh = np.atleast_2d(np.asarray(z_high, F32))
        zl = np.atleast_2d(np.asarray(z_low, F32))
        if zh.shape[1] != self.config.z_high or zl.shape[1] != self.config.z_low:
            raise DrumfontError(f"codes must have {self.config.z_high} (z_high) and {self.config.z_low} "
                                f"(z_low) dimensions, got {zh.shape[1]} and {zl.shape[1]}")
        logits, vel, off = self._model.decode(zh, zl)
        if temperature > 0:
            p = sigmoid(logits / F32(temperature))
            hits = rng_of(0 if seed is None else seed).random(p.shape, dtype=F32) < p
        else:
            hits = logits > 0
        return hits, vel, self._timing(off)

    def decode(self, z_high: np.ndarray, z_low: np.ndarray, temperature: float = 0.0,
               seed: int | None = None) -> Pattern:
        """The bar of one code pair."""
        return _patterns(*self.decode_arrays(z_high, z_low, temperature, seed))[0]

    def genre_style(self, genre: str) -> np.ndarray:
        """The genre's mean z_high: where style transfer moves a bar."""
        return self._mean[self._genre(genre)].copy()

    def genre_code(self, genre: str) -> tuple[np.ndarray, np.ndarray]:
        """The genre's typical codes: those of its most typical training bar where the model
        stores them, else its mean z_high and the prior mean of z_low given it."""
        g = self._genre(genre)
        if self._typical is not None:
            return self._typical[0][g].copy(), self._typical[1][g].copy()
        zh = self._mean[g][None]
        mu, _ = self._model.prior(zh)
        return zh[0].copy(), mu[0]

    def variation(self, z_high: np.ndarray, z_low: np.ndarray) -> np.ndarray:
        """z_low standardised under its conditional prior: (z_low - mu_p(z_high)) / sigma_p(z_high)."""
        mu, logvar = self._model.prior(np.atleast_2d(np.asarray(z_high, F32)))
        return ((np.atleast_2d(z_low) - mu) / np.exp(F32(0.5) * logvar)).reshape(np.shape(z_low))

    def from_variation(self, z_high: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """Inverse of `variation`: z_low = mu_p(z_high) + sigma_p(z_high) * eps."""
        mu, logvar = self._model.prior(np.atleast_2d(np.asarray(z_high, F32)))
        return (mu + np.exp(F32(0.5) * logvar) * np.atleast_2d(eps)).reshape(np.shape(eps))

    # --- editing -------------------------------------------------------------------------------
    def reroll(self, pattern: Pattern, keep: str = "style", seed: int | None = None) -> Pattern:
        """keep="style": same z_high, a new z_low from p(z_low | z_high);
        keep="variation": same z_low variation, a new z_high drawn from the genres' Gaussians."""
        zh, zl = self.encode(pattern)
        rng = rng_of(seed)
        if keep == "style":
            zl = self._model.sample_low(zh[None], rng.standard_normal((1, self.config.z_low), dtype=F32))[0]
            return self.decode(zh, zl)
        if keep == "variation":
            eps = self.variation(zh, zl)
            if self._genre_index:
                g = int(rng.integers(len(self._genre_index)))
                zh = self._z_high_of(np.array([list(self._genre_index.values())[g]]), 1.0, rng)[0]
            else:
                zh = rng.standard_normal(self.config.z_high, dtype=F32)
            return self.decode(zh, self.from_variation(zh, eps))
        raise DrumfontError(f"keep must be 'style' or 'variation', got {keep!r}")

    def _endpoint(self, e: Endpoint) -> tuple[np.ndarray, np.ndarray]:
        # (z_high, variation): a genre name stands for its mean z_high and the prior's mean z_low.
        if isinstance(e, Pattern):
            zh, zl = self.encode(e)
            return zh, self.variation(zh, zl)
        if isinstance(e, str):
            zh, zl = self.genre_code(e)
            return zh, self.variation(zh, zl).astype(np.float32)
        raise DrumfontError(f"an endpoint is a Pattern or a genre name, got {type(e).__name__}")

    def interpolate(self, a: Endpoint, b: Endpoint, steps: int = 8, level: str = "both") -> list[Pattern]:
        """`steps` bars from a to b (both included). level "high" moves only the style (z_high)
        and keeps a's variation; "low" moves only the variation (z_low) under a's z_high;
        "both" moves both."""
        if steps < 2:
            raise DrumfontError(f"steps must be at least 2 (the two endpoints), got {steps}")
        if level not in LEVELS:
            raise DrumfontError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
        (ha, ea), (hb, eb) = self._endpoint(a), self._endpoint(b)
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        zh = ha + t * (hb - ha) if level in ("high", "both") else np.repeat(ha[None], steps, 0)
        eps = ea + t * (eb - ea) if level in ("low", "both") else np.repeat(ea[None], steps, 0)
        return _patterns(*self.decode_arrays(zh, self.from_variation(zh, eps)))

    def transfer_arrays(self, hits: np.ndarray, genre: str, velocities: np.ndarray | None = None,
                        offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Style transfer of a batch of bars: keep each bar's z_low variation, take the
        genre's mean z_high (see `transfer`)."""
        zh, zl = self.encode_arrays(hits, velocities, offsets)
        eps = self.variation(zh, zl)
        target = np.repeat(self.genre_style(genre)[None], len(zl), 0)
        return self.decode_arrays(target, self.from_variation(target, eps))

    def transfer(self, pattern: Pattern, genre: str) -> Pattern:
        """The bar in another genre: z_high becomes the genre's, z_low keeps its variation.

        z_low is kept as its position under the conditional prior, eps = (z_low - mu_p(z_high)) /
        sigma_p(z_high), and re-placed under the target: z_low' = mu_p(z_high') + sigma_p(z_high') * eps.
        Keeping the raw z_low does not transfer: z_high is inferred from z_low, so z_low carries
        the genre too and the decoder follows it (measured: under 2 % transfer success, against
        over 90 % this way; see reports/vae_ablation.md).
        """
        return self.transfer_many([pattern], genre)[0]

    def transfer_many(self, patterns: Sequence[Pattern], genre: str) -> list[Pattern]:
        """`transfer` of every bar, in one batch."""
        return _patterns(*self.transfer_arrays(to_grid(patterns), genre, stack(patterns), stack_offsets(patterns)))

    def latents(self, hits: np.ndarray, velocities: np.ndarray | None = None,
                offsets: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Posterior parameters and KL per dimension of (N, 16, 9) grids (with velocities and
        offsets where known), for diagnostics: mu/logvar of both levels (z_high from z_low's
        mean) and the KL terms of the loss."""
        x = _input(hits, velocities, offsets)
        mu_l, lv_l = self._model.encode_low(x)
        mu_h, lv_h = self._model.encode_high(mu_l)
        mu_p, lv_p = self._model.prior(mu_h)
        return {"mu_high": mu_h, "logvar_high": lv_h, "mu_low": mu_l, "logvar_low": lv_l,
                "kl_high": gaussian_kl(mu_h, lv_h), "kl_low": gaussian_kl(mu_l, lv_l, mu_p, lv_p)}


def endpoint(model: DrumModel, spec: str) -> Endpoint:
    """A morph endpoint from the command line: a genre name, or a .mid file (its first bar)."""
    if spec.lower().endswith((".mid", ".midi")) or is_file(spec):
        return read_patterns(spec)[0]
    if spec.lower() not in model._genre_index:
        known = ", ".join(model.genres) or "none"
        raise DrumfontError(f"unknown genre {short(spec, 60)} (and no file of that name); this model knows: {known}")
    return spec.lower()


def preset_available() -> bool:
    """True when the shipped drum VAE is installed."""
    return preset_path(PRESET_NAME).is_file()


def load(preset: str | os.PathLike | None = None) -> DrumModel:
    """A DrumModel from a VAE checkpoint: None or "real" for the shipped default (learned from
    real drumming), "rules" for the shipped rule-corpus model, or a path."""
    shipped = preset is None or str(preset) in SHIPPED
    path = preset_path(SHIPPED[str(preset or "real")]) if shipped else Path(preset)
    if shipped and not path.is_file():
        raise CheckpointError(f"the shipped drum model {path} is missing; reinstall drumfont or pass --preset")
    return DrumModel(presets.load(path, "vae"), str(path))


def to_grid(patterns: Sequence[Pattern]) -> np.ndarray:
    """(N, 16, 9) bool hits of patterns."""
    return np.stack([p.hits for p in patterns]) if patterns else np.zeros((0, STEPS, N_VOICES), bool)
