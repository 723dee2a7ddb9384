"""The drum API on a trained hierarchical VAE: sample a genre, encode, decode, re-roll,
interpolate and transfer style.

Signatures carry numpy arrays and Patterns only (no torch types), so the TUI can call them from a
worker thread. Temperature in `sample` scales the latent spread (0 = the genre's typical bar);
bars are decoded greedily (a hit where the decoder's probability passes 0.5) unless `decode` is
given an output temperature. Velocities and micro-timing come from the model's velocity and
offset heads; encoding reads a bar's hits, velocities and offsets (a straight, flat bar is
encoded as one).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, Union

import numpy as np

from drumfont.checkpoint import build_model, load_checkpoint
from drumfont.errors import CheckpointError, DrumfontError
from drumfont.paths import preset_path
from drumfont.score.midifile import read_patterns
from drumfont.score.pattern import N_VOICES, STEPS, Pattern, stack, stack_offsets
from drumfont.validate import is_file, short

if TYPE_CHECKING:
    import torch

PRESET_NAME = "drums_vae.pt"
# Shipped drum models by name: the default learned from real drummers (Groove MIDI Dataset);
# "rules" is the study's reproduction, trained on the built-in rule corpus (straight, no timing).
SHIPPED = {"real": PRESET_NAME, "rules": "drums_vae_rules.pt"}
LEVELS = ("high", "low", "both")
Endpoint = Union[Pattern, str]


def _patterns(hits: np.ndarray, vel: np.ndarray, off: np.ndarray | None = None) -> list[Pattern]:
    # Velocities 1..127 on hit cells; the head's [0, 1] output maps onto MIDI velocity.
    v = np.where(hits > 0, np.clip(np.rint(vel * 127.0), 1, 127), 0).astype(np.uint8)
    return Pattern.batch(v, off)


def _input(hits: np.ndarray, velocities: np.ndarray | None, offsets: np.ndarray | None) -> "torch.Tensor":
    """The encoder's input for (N, 16, 9) hits with optional velocities (0..127) and offsets."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    from drumfont.drums.hvae import model_input  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    h = torch.as_tensor(np.asarray(hits, np.float32) > 0, dtype=torch.float32)
    v = None if velocities is None else torch.from_numpy(np.array(velocities, np.float32) / 127.0)
    o = None if offsets is None else torch.from_numpy(np.array(offsets, np.float32))
    return model_input(h, v, o)


def _genre_extras(extras: dict, z_high: int, source: str):
    """The genre table of a VAE checkpoint, checked field by field: (genres, present indices,
    means (G, z_high), covariances (G, z_high, z_high))."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

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
    if not isinstance(mean, torch.Tensor) or mean.dim() != 2 or mean.shape[1] != z_high or mean.shape[0] < n \
            or not torch.isfinite(mean.float()).all():
        raise bad("genre_mean", f"a finite tensor of shape ({n}, {z_high})")
    if not isinstance(cov, torch.Tensor) or tuple(cov.shape[1:]) != (z_high, z_high) or cov.shape[0] != mean.shape[0] \
            or not torch.isfinite(cov.float()).all():
        raise bad("genre_cov", f"a finite tensor of shape ({mean.shape[0]}, {z_high}, {z_high})")
    return list(genres), [int(g) for g in present], mean.float(), cov.float()


def _typical_extras(extras: dict, n: int, cfg, source: str):
    """(z_high (G, z_high), z_low (G, z_low)) of each genre's typical bar, checked, or None
    where the checkpoint has none."""
    import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

    high, low = extras.get("genre_typical_high"), extras.get("genre_typical_low")
    if high is None and low is None:
        return None
    for name, t, d in (("genre_typical_high", high, cfg.z_high), ("genre_typical_low", low, cfg.z_low)):
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != (n, d) or not torch.isfinite(t.float()).all():
            raise CheckpointError(f"{source}: field extras.{name} must be a finite tensor of shape ({n}, {d})")
    return high.float(), low.float()


class DrumModel:
    """A loaded drum VAE with its per-genre Gaussians in z_high."""

    def __init__(self, blob: dict, source: str = "") -> None:
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        from drumfont.drums.hvae import HierarchicalVAE, HVAEConfig  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        extras = blob.get("extras", {})
        self._model = build_model(blob, HierarchicalVAE, HVAEConfig, source, config_key="model")
        if extras.get("complete") is not True or "genre_mean" not in extras:
            raise CheckpointError(f"{source}: an unfinished training run; finish it with "
                                  "`drumfont train vae --resume --out ...`")
        self.config = self._model.cfg
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
            self._chol = torch.linalg.cholesky(cov)
        except RuntimeError:  # torch.linalg.LinAlgError is a RuntimeError
            raise CheckpointError(f"{source}: field extras.genre_cov is not positive definite") from None
        self._lock = threading.Lock()  # one forward at a time: torch modules are not re-entrant-safe here

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

    def _run(self, fn, *args):
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        with self._lock, torch.inference_mode():
            return fn(*args)

    def _z_high_of(self, genres: np.ndarray, temperature: float, gen) -> "torch.Tensor":
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        eps = torch.randn((len(genres), self.config.z_high), generator=gen)
        g = torch.as_tensor(genres, dtype=torch.long)
        return self._mean[g] + temperature * torch.einsum("nij,nj->ni", self._chol[g], eps)

    def _timing(self, off: "torch.Tensor") -> np.ndarray:
        return off.numpy() if self.timed else np.zeros(tuple(off.shape), np.float32)

    # --- sampling ------------------------------------------------------------------------------
    def sample_arrays(self, genre: str | None, n: int, temperature: float = 1.0,
                      seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n bars as arrays: hits (n, 16, 9) bool, velocities in [0, 1] and offsets in sixteenths.
        genre=None samples z_high from the prior N(0, I) instead of a genre's Gaussian."""
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        if n < 1:
            raise DrumfontError(f"the number of bars must be at least 1, got {n}")
        if temperature < 0:
            raise DrumfontError(f"temperature must be >= 0, got {temperature}")
        gen = torch.Generator()
        gen.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]) if seed is None else int(seed))

        if genre is not None and temperature == 0 and self._typical is not None:
            zh, zl = self.genre_code(genre)  # the genre's typical bar, as stored
            return self.decode_arrays(np.repeat(zh[None], n, 0), np.repeat(zl[None], n, 0))

        def go():
            if genre is None:
                z_high = temperature * torch.randn((n, self.config.z_high), generator=gen)
            else:
                z_high = self._z_high_of(np.full(n, self._genre(genre)), temperature, gen)
            hits, vel, off = self._model.sample(n, gen, temperature, z_high=z_high)
            return hits.numpy() > 0, vel.numpy(), self._timing(off)
        return self._run(go)

    def sample(self, genre: str | None, n: int = 1, temperature: float = 1.0,
               seed: int | None = None) -> list[Pattern]:
        """n new bars of a genre (None: of no genre in particular)."""
        return _patterns(*self.sample_arrays(genre, n, temperature, seed))

    # --- codes -----------------------------------------------------------------------------------
    def encode_arrays(self, hits: np.ndarray, velocities: np.ndarray | None = None,
                      offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means of a batch of (N, 16, 9) hit grids (with their velocities 0..127 and
        offsets where known): z_high (N, 4), z_low (N, 12)."""
        zh, zl = self._run(self._model.encode_mean, _input(hits, velocities, offsets))
        return zh.numpy(), zl.numpy()

    def encode(self, pattern: Pattern) -> tuple[np.ndarray, np.ndarray]:
        """(z_high, z_low) of a bar, as played: the posterior means."""
        zh, zl = self.encode_arrays(pattern.hits[None], pattern.velocities[None], pattern.offsets[None])
        return zh[0], zl[0]

    def decode_arrays(self, z_high: np.ndarray, z_low: np.ndarray, temperature: float = 0.0,
                      seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hits, velocities and offsets of (N, 4) and (N, 12) codes; temperature 0 decodes greedily,
        T > 0 draws each cell from Bernoulli(sigmoid(logits / T))."""
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        zh = torch.as_tensor(np.atleast_2d(np.asarray(z_high, np.float32)))
        zl = torch.as_tensor(np.atleast_2d(np.asarray(z_low, np.float32)))
        if zh.shape[1] != self.config.z_high or zl.shape[1] != self.config.z_low:
            raise DrumfontError(f"codes must have {self.config.z_high} (z_high) and {self.config.z_low} "
                                f"(z_low) dimensions, got {zh.shape[1]} and {zl.shape[1]}")
        logits, vel, off = self._run(self._model.decode, zh, zl)
        if temperature > 0:
            gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
            hits = torch.bernoulli(torch.sigmoid(logits / temperature), generator=gen) > 0
        else:
            hits = logits > 0
        return hits.numpy(), vel.numpy(), self._timing(off)

    def decode(self, z_high: np.ndarray, z_low: np.ndarray, temperature: float = 0.0,
               seed: int | None = None) -> Pattern:
        """The bar of one code pair."""
        return _patterns(*self.decode_arrays(z_high, z_low, temperature, seed))[0]

    def genre_style(self, genre: str) -> np.ndarray:
        """The genre's mean z_high: where style transfer moves a bar."""
        return self._mean[self._genre(genre)].numpy().copy()

    def genre_code(self, genre: str) -> tuple[np.ndarray, np.ndarray]:
        """The genre's typical codes: those of its most typical training bar where the model
        stores them, else its mean z_high and the prior mean of z_low given it."""
        g = self._genre(genre)
        if self._typical is not None:
            return self._typical[0][g].numpy().copy(), self._typical[1][g].numpy().copy()
        zh = self._mean[g][None]
        mu, _ = self._run(self._model.prior, zh)
        return zh[0].numpy().copy(), mu[0].numpy()

    def variation(self, z_high: np.ndarray, z_low: np.ndarray) -> np.ndarray:
        """z_low standardised under its conditional prior: (z_low - mu_p(z_high)) / sigma_p(z_high)."""
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        mu, logvar = self._run(self._model.prior, torch.as_tensor(np.atleast_2d(z_high), dtype=torch.float32))
        return ((np.atleast_2d(z_low) - mu.numpy()) / np.exp(0.5 * logvar.numpy())).reshape(np.shape(z_low))

    def from_variation(self, z_high: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """Inverse of `variation`: z_low = mu_p(z_high) + sigma_p(z_high) * eps."""
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        mu, logvar = self._run(self._model.prior, torch.as_tensor(np.atleast_2d(z_high), dtype=torch.float32))
        return (mu.numpy() + np.exp(0.5 * logvar.numpy()) * np.atleast_2d(eps)).reshape(np.shape(eps))

    # --- editing -------------------------------------------------------------------------------
    def reroll(self, pattern: Pattern, keep: str = "style", seed: int | None = None) -> Pattern:
        """keep="style": same z_high, a new z_low from p(z_low | z_high);
        keep="variation": same z_low variation, a new z_high drawn from the genres' Gaussians."""
        import torch  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        zh, zl = self.encode(pattern)
        gen = torch.Generator().manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0])
                                            if seed is None else int(seed))
        if keep == "style":
            zl = self._run(self._model.sample_low, torch.as_tensor(zh[None]), gen)[0].numpy()
            return self.decode(zh, zl)
        if keep == "variation":
            eps = self.variation(zh, zl)
            if self._genre_index:
                g = int(torch.randint(len(self._genre_index), (1,), generator=gen))
                zh = self._z_high_of(np.array([list(self._genre_index.values())[g]]), 1.0, gen)[0].numpy()
            else:
                zh = torch.randn((self.config.z_high,), generator=gen).numpy()
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
        from drumfont.drums.hvae import gaussian_kl  # noqa: PLC0415 (torch: ~1-2 s to import, paid only where a model runs)

        def go():
            x = _input(hits, velocities, offsets)
            mu_l, lv_l = self._model.encode_low(x)
            mu_h, lv_h = self._model.encode_high(mu_l)
            mu_p, lv_p = self._model.prior(mu_h)
            return {"mu_high": mu_h, "logvar_high": lv_h, "mu_low": mu_l, "logvar_low": lv_l,
                    "kl_high": gaussian_kl(mu_h, lv_h), "kl_low": gaussian_kl(mu_l, lv_l, mu_p, lv_p)}
        return {k: v.numpy() for k, v in self._run(go).items()}


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
    return DrumModel(load_checkpoint(path, "vae"), str(path))


def to_grid(patterns: Sequence[Pattern]) -> np.ndarray:
    """(N, 16, 9) bool hits of patterns."""
    return np.stack([p.hits for p in patterns]) if patterns else np.zeros((0, STEPS, N_VOICES), bool)
