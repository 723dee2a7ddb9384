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

import torch
import torch.nn as nn
import torch.nn.functional as F

from drumfont.drums.nets import TAP_CHANNELS, TASKS, GrooveConfig, cond_channels

__all__ = ["LOSSES", "TAP_CHANNELS", "TASKS", "GrooveConfig", "GrooveModel", "bar_channels", "cond_channels",
           "hit_draws", "losses", "taps_of"]

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


def hit_draws(cfg: GrooveConfig) -> torch.Tensor:
    """The `hit_samples` fixed draws of z (k, z) that drumify's marginal averages over: the same
    for every call, and stored in the preset (extras.hit_z) so numpy plays the draws the
    thresholds were fitted with."""
    return torch.randn((cfg.hit_samples, cfg.z), generator=torch.Generator().manual_seed(0))


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
        z = hit_draws(self.cfg).to(cond.device)
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
