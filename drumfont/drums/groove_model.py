"""Groove and Drumify: small conditional VAEs that add a drummer's playing to a bar (GrooVAE's
"inverse sequence transformations", Gillick et al. 2019).

- humanize: a bar's hits (B, 16, 9), quantised and velocity-flattened -> velocities and offsets
  for exactly those hits.
- drumify: a one-line tap rhythm (B, 16, 3: onset, velocity, offset; all voices merged) -> a
  9-voice bar: hit logits, velocities and offsets.

Both read a genre (one-hot, plus a "none" slot used for genre dropout), optionally the tempo (one
more condition channel, log2 of BPM / 120: offsets in sixteenths spread wider at faster tempos)
and a latent z. The
encoder q(z | played bar, condition) sees the real bar in training; at use z ~ N(0, T^2 I), so
`temperature` scales how far a result strays from the model's typical playing of those hits.
Why a latent and not a deterministic net: the deterministic net regresses to the conditional
mean and its offsets come out narrower than a drummer's (measured, trainers/measure_groove.py);
z carries the bar-wide feel (laid back, pushed, accented) a mean cannot.

The decoder is a stack of dilated 1-D convolutions over the 16 steps (receptive field 31 steps,
so every step sees the whole bar) on (condition, genre, z) channels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

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


def bar_channels(hits: torch.Tensor, vel: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
    """(B, 16, 27): hits, velocities in [0, 1] and offsets x 2, zero on rests."""
    return torch.cat([hits, vel * hits, 2.0 * off * hits], dim=-1)


def taps_of(hits: torch.Tensor, vel: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
    """GrooVAE's tap transformation: every voice merged onto one line, (B, 16, 3) of onset, the
    loudest hit's velocity and that hit's offset x 2."""
    v = vel * hits
    loud, which = v.max(dim=-1)                                  # (B, 16)
    onset = hits.amax(dim=-1)
    o = off.gather(-1, which.unsqueeze(-1)).squeeze(-1) * onset
    return torch.stack([onset, loud, 2.0 * o], dim=-1)


class _Block(nn.Module):
    """A residual dilated conv: x + conv(relu(norm(x)))."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(F.relu(self.norm(x)))


class GrooveModel(nn.Module):
    """Conditional VAE: q(z | bar, condition, genre), p(bar | condition, genre, z)."""

    def __init__(self, cfg: GrooveConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, g = cond_channels(cfg), cfg.n_genres + 1
        # Encoder: the played bar with its condition -> z (a conv, then mean over steps).
        self.enc = nn.Sequential(
            nn.Conv1d(3 * cfg.voices + c + g, cfg.channels, 3, padding=1), nn.ReLU(),
            nn.Conv1d(cfg.channels, cfg.channels, 3, padding=2, dilation=2), nn.ReLU(),
            nn.Conv1d(cfg.channels, cfg.channels, 3, padding=4, dilation=4), nn.ReLU())
        self.to_z = nn.Linear(cfg.channels, 2 * cfg.z)
        # Decoder: condition, genre and z at every step -> hits, velocities, offsets.
        self.dec_in = nn.Conv1d(c + g + cfg.z, cfg.channels, 1)
        self.blocks = nn.Sequential(*[_Block(cfg.channels, d) for d in cfg.dilations])
        self.out = nn.Conv1d(cfg.channels, 3 * cfg.voices, 1)

    def _genre(self, genre: torch.Tensor, n: int) -> torch.Tensor:
        # genre: (B,) long, -1 (or out of range) = none -> the last slot
        k = self.cfg.n_genres
        g = genre.masked_fill((genre < 0) | (genre >= k), k)
        return torch.eye(k + 1, device=genre.device)[g].unsqueeze(1).expand(-1, n, -1)

    def encode(self, bar: torch.Tensor, cond: torch.Tensor, genre: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """mu, logvar (B, z) of q(z | bar (B, 16, 27), cond (B, 16, C), genre (B,))."""
        x = torch.cat([bar, cond, self._genre(genre, bar.shape[1])], dim=-1).transpose(1, 2)
        mu, logvar = self.to_z(self.enc(x).mean(-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-8.0, 4.0)

    def decode(self, cond: torch.Tensor, genre: torch.Tensor, z: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(hit logits, velocities in [0, 1], offsets in [-0.5, 0.5)), each (B, 16, 9)."""
        n = cond.shape[1]
        x = torch.cat([cond, self._genre(genre, n), z.unsqueeze(1).expand(-1, n, -1)], dim=-1)
        h = self.blocks(self.dec_in(x.transpose(1, 2)))
        logits, vel, off = self.out(F.relu(h)).transpose(1, 2).chunk(3, dim=-1)
        return logits, torch.sigmoid(vel), 0.5 * torch.tanh(off)

    def forward(self, bar: torch.Tensor, cond: torch.Tensor, genre: torch.Tensor,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Training pass: encode the played bar, draw z, decode; KL per dimension (B, z)."""
        mu, logvar = self.encode(bar, cond, genre)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + (0.5 * logvar).exp() * eps
        logits, vel, off = self.decode(cond, genre, z)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
        return {"logits": logits, "vel": vel, "off": off, "kl": kl}

    def generate(self, cond: torch.Tensor, genre: torch.Tensor, temperature: float,
                 generator: torch.Generator | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decode with z ~ N(0, T^2 I) and the fitted residual noise scaled by T (T = 0: the
        model's typical playing, its conditional mean). Hit logits come less the fitted
        thresholds; at T = 0 (with hit_samples) they are the marginal over z's prior."""
        eps = torch.randn((cond.shape[0], self.cfg.z), generator=generator, device=cond.device)
        logits, vel, off = self.decode(cond, genre, temperature * eps)
        if temperature == 0 and self.cfg.task == "drumify" and self.cfg.hit_samples > 0:
            logits = self.marginal_logits(cond, genre)
        if self.cfg.hit_thresholds:
            logits = logits - torch.tensor(self.cfg.hit_thresholds, device=cond.device)
        if temperature > 0 and self.cfg.residual_off:
            sd_v = torch.tensor(self.cfg.residual_vel, device=cond.device)
            sd_o = torch.tensor(self.cfg.residual_off, device=cond.device)
            noise = torch.randn((2,) + vel.shape, generator=generator, device=cond.device)
            vel = (vel + temperature * sd_v * noise[0]).clamp(0.0, 1.0)
            off = (off + temperature * sd_o * noise[1]).clamp(-0.5, 0.499)
        return logits, vel, off

    def marginal_logits(self, cond: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
        """Logits of p(hit | condition) = E_z p(hit | condition, z), z ~ N(0, I), averaged over
        hit_samples draws that are the same for every call (so temperature 0 stays deterministic)."""
        k, b = self.cfg.hit_samples, cond.shape[0]
        z = torch.randn((k, self.cfg.z), generator=torch.Generator().manual_seed(0)).to(cond.device)
        logits, _, _ = self.decode(cond.repeat(k, 1, 1), genre.repeat(k), z.repeat_interleave(b, 0))
        p = torch.sigmoid(logits).view(k, b, *logits.shape[1:]).mean(0).clamp(1e-6, 1 - 1e-6)
        return torch.log(p) - torch.log1p(-p)


LOSSES = ("mse", "l1")


def losses(out: dict[str, torch.Tensor], hits: torch.Tensor, vel: torch.Tensor, off: torch.Tensor,
           task: str, kind: str = "mse") -> dict[str, torch.Tensor]:
    """Per-batch losses: the error of velocities and offsets on the real bar's hit cells, squared
    ("mse": a Gaussian likelihood, its optimum the conditional mean) or absolute ("l1": a Laplace
    likelihood, its optimum the conditional median, which is what a timing MAE rewards), and
    (drumify) BCE of the hits; summed over cells and averaged over bars."""
    if kind not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")
    n = max(1, hits.shape[0])
    err = (lambda d: d.pow(2)) if kind == "mse" else (lambda d: d.abs())
    parts = {"vel": (err(out["vel"] - vel) * hits).sum() / n,
             "off": (err(out["off"] - off) * hits).sum() / n}
    if task == "drumify":
        parts["bce"] = F.binary_cross_entropy_with_logits(out["logits"], hits, reduction="sum") / n
    return parts
