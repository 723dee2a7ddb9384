"""The drum models as they run: each model's config (what a checkpoint's `config.model` rebuilds)
and the forward passes a user command calls, on numpy (drumfont.nn.layers), no torch.

Each class mirrors its torch twin line for line: `HVAE` is drums/hvae.py's HierarchicalVAE
(encoders, prior, decoder), `GrooveNet` is drums/groove_model.py's GrooveModel (decoder and
`generate`), `StyleNet` is drums/style_classifier.py's StyleClassifier. The torch files import their
configs from here, so training and playing read one definition; tests/test_parity.py holds every
shipped preset's two forwards to each other (1e-5 on 1,000 random inputs) and their seeded samples
to the same bars. Randomness comes in as numpy arrays drawn by the caller (`numpy.random.Generator`),
so the same seed gives the same bars on either side.

The phrase model's twin is drums/phrase_net.py (PhraseNet: the same layers plus `nn.layers.GRU`
and `Embedding`), held to drums/phrase.py's PhraseVAE the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from drumfont.errors import CheckpointError
from drumfont.nn.layers import (
    Conv1d,
    ConvTranspose1d,
    GroupNorm1,
    Linear,
    State,
    leaky_relu,
    logit,
    relu,
    sigmoid,
    weight,
)

F32 = np.float32


# --- configs ---------------------------------------------------------------------------------

@dataclass
class HVAEConfig:
    """Architecture of the hierarchical VAE; the defaults are the study's."""

    steps: int = field(default=16, metadata={"help": "sixteenth steps per bar (divisible by 4)"})
    voices: int = field(default=9, metadata={"help": "drum voices (input channels)"})
    z_low: int = field(default=12, metadata={"help": "dimensions of z_low (variation)"})
    z_high: int = field(default=4, metadata={"help": "dimensions of z_high (style)"})
    channels: int = field(default=64, metadata={"help": "conv channels of encoder and decoder"})
    hidden: int = field(default=64, metadata={"help": "width of the linear layers (high encoder, prior)"})
    n_genres: int = field(default=5, metadata={"help": "genres of the auxiliary head on z_high"})
    dynamics_in: bool = field(default=True, metadata={
        "help": "the encoder also sees velocities and offsets (27 input channels, not 9)"})

    def to_dict(self) -> dict:
        """Plain values, for the checkpoint."""
        return asdict(self)


TASKS = ("humanize", "drumify")
TAP_CHANNELS = 3  # onset, velocity in [0, 1], offset x 2 (so [-1, 1))


@dataclass
class GrooveConfig:
    """Architecture of a Groove/Drumify model."""

    task: str = field(default="humanize", metadata={"help": "what the model does", "choices": TASKS})
    steps: int = field(default=16, metadata={"help": "sixteenth steps per bar"})
    voices: int = field(default=9, metadata={"help": "drum voices"})
    n_genres: int = field(default=7, metadata={"help": "genres it is conditioned on (a none slot is added)"})
    z: int = field(default=8, metadata={"help": "latent dimensions"})
    channels: int = field(default=64, metadata={"help": "conv channels"})
    dilations: tuple[int, ...] = field(default=(1, 2, 4, 8), metadata={"help": "dilations of the decoder's convs"})
    # The spread the decoder's mean leaves unexplained, per voice (velocity in [0, 1] units, offset
    # in sixteenths): fitted by the trainer on the training bars after training, () = none. Sampling
    # adds it as Gaussian noise, so p(bar | z) is the Gaussian the MSE loss assumes and a sample's
    # spread matches a drummer's (without it offsets came out at 0.6-0.8 of the real spread).
    residual_vel: tuple[float, ...] = field(default=(), metadata={"help": "fitted; leave empty"})
    residual_off: tuple[float, ...] = field(default=(), metadata={"help": "fitted; leave empty"})
    # Drumify's decision rule. At temperature 0 a cell's hit probability is averaged over
    # `hit_samples` fixed draws of z from its prior (the model's marginal, not the one bar z = 0
    # decodes), and each voice is played where its logit clears its threshold, fitted by the
    # trainer for hit F1 on training bars, () = 0 for every voice. generate() returns logits less
    # the thresholds, so "hit" is logit > 0 everywhere downstream.
    tempo: bool = field(default=False, metadata={
        "help": "also condition on the tempo (log2 of BPM / 120, one more condition channel)"})
    hit_samples: int = field(default=32, metadata={"help": "latent draws averaged at temperature 0 (drumify)"})
    hit_thresholds: tuple[float, ...] = field(default=(), metadata={"help": "fitted; leave empty"})

    def to_dict(self) -> dict:
        """Plain values, for the checkpoint."""
        d = asdict(self)
        for k in ("dilations", "residual_vel", "residual_off", "hit_thresholds"):
            d[k] = [float(x) for x in d[k]] if k != "dilations" else list(d[k])
        return d

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        self.dilations = tuple(self.dilations)
        self.residual_vel, self.residual_off = tuple(self.residual_vel), tuple(self.residual_off)
        self.hit_thresholds = tuple(self.hit_thresholds)


def cond_channels(cfg: GrooveConfig) -> int:
    """Channels of the condition: the hit grid (humanize) or the tap line (drumify), and the
    tempo where the model reads it."""
    return (cfg.voices if cfg.task == "humanize" else TAP_CHANNELS) + int(cfg.tempo)


@dataclass
class StyleClassifierConfig:
    """Architecture of the genre classifier."""

    steps: int = field(default=16, metadata={"help": "sixteenth steps per bar"})
    voices: int = field(default=9, metadata={"help": "drum voices (input channels)"})
    channels: int = field(default=32, metadata={"help": "conv channels"})
    n_genres: int = field(default=5, metadata={"help": "genres to tell apart"})
    dropout: float = field(default=0.2, metadata={"help": "dropout before the last layer"})

    def to_dict(self) -> dict:
        """Plain values, for the checkpoint."""
        return asdict(self)


# --- the drum VAE ------------------------------------------------------------------------------

# A hit given without its velocity reads as this (90 of 127, the text form's plain 'x').
DEFAULT_VELOCITY = 90 / 127


def model_input(hits: np.ndarray, velocity: np.ndarray | None = None, offset: np.ndarray | None = None) -> np.ndarray:
    """(B, 16, 27) encoder input: hits, velocities in [0, 1] and offsets x 2 (so [-1, 1)), each
    zero on rests (drums.hvae.model_input)."""
    hits = np.asarray(hits, F32)
    vel = hits * F32(DEFAULT_VELOCITY) if velocity is None else np.asarray(velocity, F32) * hits
    off = np.zeros_like(hits) if offset is None else F32(2.0) * np.asarray(offset, F32) * hits
    return np.concatenate([hits, vel, off], axis=-1)


def gaussian_kl(mu_q: np.ndarray, logvar_q: np.ndarray, mu_p: np.ndarray | None = None,
                logvar_p: np.ndarray | None = None) -> np.ndarray:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per dimension; standard normal p if None (drums.hvae.gaussian_kl)."""
    if mu_p is None or logvar_p is None:
        return 0.5 * (mu_q ** 2 + np.exp(logvar_q) - 1.0 - logvar_q)
    return 0.5 * (logvar_p - logvar_q + (np.exp(logvar_q) + (mu_q - mu_p) ** 2) / np.exp(logvar_p) - 1.0)


def _chunk(y: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean, log-variance clamped to [lo, hi]) of a layer's output halves."""
    n = y.shape[-1] // 2
    return y[..., :n], np.clip(y[..., n:], lo, hi)


class HVAE:
    """drums.hvae.HierarchicalVAE at run time: q(z_low | x), q(z_high | z_low), p(z_low | z_high)
    and the decoder, on numpy."""

    def __init__(self, cfg: HVAEConfig, state: State) -> None:
        if cfg.steps % 4:
            raise CheckpointError("steps must be divisible by 4 (two stride-2 convolutions)")
        self.cfg = cfg
        c, h, v = cfg.channels, cfg.hidden, cfg.voices
        self.enc = [Conv1d(state, "enc.0", v * (3 if cfg.dynamics_in else 1), c // 2, 3, padding=1),
                    Conv1d(state, "enc.2", c // 2, c, 4, stride=2, padding=1),
                    Conv1d(state, "enc.4", c, c, 4, stride=2, padding=1)]
        self.enc_out = Linear(state, "enc_out", c * (cfg.steps // 4), 2 * cfg.z_low)
        self.enc_high = [Linear(state, "enc_high.0", cfg.z_low, h), Linear(state, "enc_high.2", h, 2 * cfg.z_high)]
        self.prior_low = [Linear(state, "prior_low.0", cfg.z_high, h), Linear(state, "prior_low.2", h, 2 * cfg.z_low)]
        self.dec_in = Linear(state, "dec_in", cfg.z_high + cfg.z_low, c * (cfg.steps // 4))
        self.dec = [ConvTranspose1d(state, "dec.1", c, c, 4, stride=2, padding=1),
                    ConvTranspose1d(state, "dec.3", c, c // 2, 4, stride=2, padding=1)]
        # the three heads read the same features: one convolution of 3 x 9 channels
        names = ("hit_head", "vel_head", "offset_head")
        for name in names:
            weight(state, f"{name}.weight", (v, c // 2, 3)), weight(state, f"{name}.bias", (v,))
        heads = {f"heads.{k}": np.concatenate([np.asarray(state[f"{n}.{k}"], F32) for n in names])
                 for k in ("weight", "bias")}
        self.heads = Conv1d(heads, "heads", c // 2, 3 * v, 3, padding=1)

    def encode_low(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """q(z_low | x) for x (B, 16, 27) (`model_input`) or (B, 16, 9) hits alone: mean, log-variance."""
        x = np.asarray(x, F32)
        if self.cfg.dynamics_in and x.shape[-1] == self.cfg.voices:
            x = model_input(x)
        elif not self.cfg.dynamics_in:
            x = x[..., : self.cfg.voices]
        h = x
        for conv in self.enc:
            h = leaky_relu(conv(h))                                 # (B, 16, c/2) -> (B, 8, c) -> (B, 4, c)
        # torch flattens (B, c, 4) channel-major: transpose back before the linear layer
        return _chunk(self.enc_out(h.transpose(0, 2, 1).reshape(len(h), -1)), -10.0, 6.0)

    def encode_high(self, z_low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """q(z_high | z_low): mean and log-variance."""
        return _chunk(self.enc_high[1](leaky_relu(self.enc_high[0](np.asarray(z_low, F32)))), -10.0, 6.0)

    def prior(self, z_high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p(z_low | z_high): mean and log-variance."""
        return _chunk(self.prior_low[1](leaky_relu(self.prior_low[0](np.asarray(z_high, F32)))), -10.0, 6.0)

    def encode_mean(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means (z_high, z_low)."""
        mu_low, _ = self.encode_low(x)
        mu_high, _ = self.encode_high(mu_low)
        return mu_high, mu_low

    def decode(self, z_high: np.ndarray, z_low: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hit logits, velocities in [0, 1] and offsets in (-0.5, 0.5), each (B, 16, 9)."""
        z = np.concatenate([np.asarray(z_high, F32), np.asarray(z_low, F32)], axis=-1)
        h = self.dec_in(z).reshape(len(z), self.cfg.channels, -1).transpose(0, 2, 1)  # (B, 4, c)
        h = leaky_relu(h)
        for deconv in self.dec:                                     # (B, 8, c) -> (B, 16, c/2)
            h = leaky_relu(deconv(h))
        out = self.heads(h)                                         # (B, 16, 27)
        v = self.cfg.voices
        return out[..., :v], sigmoid(out[..., v: 2 * v]), F32(0.5) * np.tanh(out[..., 2 * v:])

    def sample_low(self, z_high: np.ndarray, eps: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """z_low = mu_p + T sigma_p eps under p(z_low | z_high), for standard normal draws eps."""
        mu, logvar = self.prior(z_high)
        return mu + F32(temperature) * np.exp(F32(0.5) * logvar) * np.asarray(eps, F32)


# --- Groove / Drumify ----------------------------------------------------------------------------

class GrooveNet:
    """drums.groove_model.GrooveModel's decoder and `generate`, on numpy. `hit_z` holds the
    `hit_samples` fixed draws of z the drumify marginal averages over (stored in the preset: the
    draws its thresholds were fitted with)."""

    def __init__(self, cfg: GrooveConfig, state: State, hit_z: np.ndarray | None = None) -> None:
        self.cfg = cfg
        c, g, ch = cond_channels(cfg), cfg.n_genres + 1, cfg.channels
        self.dec_in = Conv1d(state, "dec_in", c + g + cfg.z, ch, 1)
        self.blocks = [(GroupNorm1(state, f"blocks.{i}.norm", ch),
                        Conv1d(state, f"blocks.{i}.conv", ch, ch, 3, padding=d, dilation=d))
                       for i, d in enumerate(cfg.dilations)]
        self.out = Conv1d(state, "out", ch, 3 * cfg.voices, 1)
        for name, values in (("residual_vel", cfg.residual_vel), ("residual_off", cfg.residual_off),
                             ("hit_thresholds", cfg.hit_thresholds)):
            if values and len(values) != cfg.voices:
                raise CheckpointError(f"config.model.{name} has {len(values)} values, expected {cfg.voices}")
        self.hit_z = None
        if cfg.task == "drumify" and cfg.hit_samples > 0:
            if hit_z is None or np.shape(hit_z) != (cfg.hit_samples, cfg.z):
                raise CheckpointError(f"field extras.hit_z must be the model's {cfg.hit_samples} fixed latent "
                                      f"draws, shape ({cfg.hit_samples}, {cfg.z})")
            self.hit_z = np.asarray(hit_z, F32)

    def _genre(self, genre: np.ndarray, n: int) -> np.ndarray:
        k = self.cfg.n_genres
        g = np.asarray(genre, np.int64)
        g = np.where((g < 0) | (g >= k), k, g)
        return np.broadcast_to(np.eye(k + 1, dtype=F32)[g][:, None], (len(g), n, k + 1))

    def decode(self, cond: np.ndarray, genre: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hit logits, velocities in [0, 1], offsets in [-0.5, 0.5)), each (B, 16, 9)."""
        cond = np.asarray(cond, F32)
        b, n = cond.shape[:2]
        x = np.concatenate([cond, self._genre(genre, n), np.broadcast_to(np.asarray(z, F32)[:, None], (b, n, self.cfg.z))],
                           axis=-1)
        h = self.dec_in(x)
        for norm, conv in self.blocks:
            h = h + conv(relu(norm(h)))
        out = self.out(relu(h))
        v = self.cfg.voices
        return out[..., :v], sigmoid(out[..., v: 2 * v]), F32(0.5) * np.tanh(out[..., 2 * v:])

    def generate(self, cond: np.ndarray, genre: np.ndarray, temperature: float, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decode with z ~ N(0, T^2 I) and the fitted residual noise scaled by T (T = 0: the model's
        typical playing). Hit logits come less the fitted thresholds; at T = 0 (drumify, with
        hit_samples) they are the marginal over z's prior."""
        cond = np.asarray(cond, F32)
        eps = rng.standard_normal((len(cond), self.cfg.z), dtype=F32)
        logits, vel, off = self.decode(cond, genre, F32(temperature) * eps)
        if temperature == 0 and self.hit_z is not None:
            logits = self.marginal_logits(cond, genre)
        if self.cfg.hit_thresholds:
            logits = logits - np.asarray(self.cfg.hit_thresholds, F32)
        if temperature > 0 and self.cfg.residual_off:
            noise = rng.standard_normal((2,) + vel.shape, dtype=F32)
            t = F32(temperature)
            vel = np.clip(vel + t * np.asarray(self.cfg.residual_vel, F32) * noise[0], 0.0, 1.0)
            off = np.clip(off + t * np.asarray(self.cfg.residual_off, F32) * noise[1], -0.5, 0.499)
        return logits, vel.astype(F32, copy=False), off.astype(F32, copy=False)

    def marginal_logits(self, cond: np.ndarray, genre: np.ndarray) -> np.ndarray:
        """Logits of p(hit | condition) averaged over the fixed draws `hit_z`."""
        k, b = len(self.hit_z), len(cond)
        logits, _, _ = self.decode(np.tile(cond, (k, 1, 1)), np.tile(np.asarray(genre), k),
                                   np.repeat(self.hit_z, b, axis=0))
        p = sigmoid(logits).reshape(k, b, *logits.shape[1:]).mean(0)
        return logit(np.clip(p, 1e-6, 1 - 1e-6)).astype(F32)


# --- the genre judge -----------------------------------------------------------------------------

class StyleNet:
    """drums.style_classifier.StyleClassifier at run time (eval: dropout off)."""

    def __init__(self, cfg: StyleClassifierConfig, state: State) -> None:
        self.cfg = cfg
        c = cfg.channels
        self.net = [Conv1d(state, "net.0", cfg.voices, c, 3, padding=1), Conv1d(state, "net.2", c, c, 3, padding=1)]
        self.pos = Linear(state, "pos", cfg.steps * cfg.voices, c)
        self.head = Linear(state, "head.1", 3 * c, cfg.n_genres)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Genre logits (B, n_genres) of hit grids (B, 16, 9)."""
        x = np.asarray(x, F32)
        h = relu(self.net[1](relu(self.net[0](x))))                 # (B, 16, c)
        feats = np.concatenate([h.mean(1), h.max(1), relu(self.pos(x.reshape(len(x), -1)))], axis=-1)
        return self.head(feats)
