"""Hierarchical VAE for one-bar drum patterns (the study's section IV), with velocity and
micro-timing heads (GrooVAE's hits / velocities / offsets).

Inference: x -> conv encoder -> q(z_low | x); z_low -> linear layers -> q(z_high | z_low).
x holds, per step, the 9 hits, their velocities and their offsets (27 channels), so a code
carries how a bar is played as well as what is played. Generation: p(z_high) = N(0, I); learned
conditional prior p(z_low | z_high); a transposed-conv decoder from (z_high, z_low) to 16x9 hit
logits and, beside them, velocities and offsets for the hits.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from drumfont.drums.nets import DEFAULT_VELOCITY, HVAEConfig

__all__ = ["DEFAULT_VELOCITY", "HVAEConfig", "HierarchicalVAE", "gaussian_kl", "gaussian_log_density", "model_input",
           "reconstruction_losses", "transposed_conv"]


def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor,
                mu_p: torch.Tensor | None = None, logvar_p: torch.Tensor | None = None) -> torch.Tensor:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per dimension (no reduction); standard normal p if None."""
    if mu_p is None or logvar_p is None:
        return 0.5 * (mu_q.pow(2) + logvar_q.exp() - 1.0 - logvar_q)
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp() - 1.0)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, var) summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


def model_input(hits: torch.Tensor, velocity: torch.Tensor | None = None,
                offset: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 16, 27) encoder input: hits, velocities in [0, 1] and offsets x 2 (so [-1, 1)), each
    zero on rests. A missing velocity reads as a plain hit, a missing offset as on the grid."""
    vel = hits * DEFAULT_VELOCITY if velocity is None else velocity * hits
    off = torch.zeros_like(hits) if offset is None else 2.0 * offset * hits
    return torch.cat([hits, vel, off], dim=-1)


def transposed_conv(layer: nn.ConvTranspose1d, h: torch.Tensor,
                    kernel: tuple[torch.Tensor, torch.Tensor | None] | None = None) -> torch.Tensor:
    """`layer(h)` for a ConvTranspose1d(kernel 4, stride 2, padding 1), computed as one stride-1
    convolution whose 2*C_out channels are the even and odd output steps, then interleaved.

    Same linear map (equal to float rounding), but PyTorch's CPU transposed convolution takes a
    slow path: this form samples 1000 bars about 4x faster (benchmarks/bench_vae.py).
    `kernel` is `stride1_kernel(layer)` where the caller has it already (a loop of small calls).
    """
    weight, bias = stride1_kernel(layer) if kernel is None else kernel
    y = F.conv1d(h, weight, bias, padding=1)  # (B, 2*C_out, L)
    b, c2, length = y.shape
    return y.view(b, 2, c2 // 2, length).permute(0, 2, 3, 1).reshape(b, c2 // 2, 2 * length)


def stride1_kernel(layer: nn.ConvTranspose1d) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The stride-1 weight (2*C_out, C_in, 3) and bias of `transposed_conv`: output step 2j gets
    taps W[3] x[j-1] + W[1] x[j]; step 2j+1 gets W[2] x[j] + W[0] x[j+1]."""
    w = layer.weight  # (C_in, C_out, 4)
    zero = torch.zeros_like(w[:, :, 0])
    even = torch.stack([w[:, :, 3], w[:, :, 1], zero], dim=-1)  # taps at j-1, j, j+1
    odd = torch.stack([zero, w[:, :, 2], w[:, :, 0]], dim=-1)
    weight = torch.cat([even, odd], dim=1).transpose(0, 1)  # (2*C_out, C_in, 3)
    return weight, None if layer.bias is None else layer.bias.repeat(2)


class HierarchicalVAE(nn.Module):
    """Two-level VAE: z_high (style) above z_low (variation) above the 16x9 bar."""

    def __init__(self, cfg: HVAEConfig) -> None:
        super().__init__()
        if cfg.steps % 4:
            raise ValueError("steps must be divisible by 4 (two stride-2 convolutions)")
        self.cfg = cfg
        c, h, q = cfg.channels, cfg.hidden, cfg.steps // 4
        # Low encoder: 1-D convolutions over time, voices (x hit/velocity/offset) as channels.
        # (B, 27, 16) -> (B, c, 4)
        self.enc = nn.Sequential(
            nn.Conv1d(cfg.voices * (3 if cfg.dynamics_in else 1), c // 2, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c // 2, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        )
        self.enc_out = nn.Linear(c * q, 2 * cfg.z_low)
        # High encoder q(z_high | z_low): linear layers only, as in the study.
        self.enc_high = nn.Sequential(nn.Linear(cfg.z_low, h), nn.LeakyReLU(0.2), nn.Linear(h, 2 * cfg.z_high))
        # Conditional prior p(z_low | z_high).
        self.prior_low = nn.Sequential(nn.Linear(cfg.z_high, h), nn.LeakyReLU(0.2), nn.Linear(h, 2 * cfg.z_low))
        # Decoder: (z_high, z_low) -> (B, c, 4) -> transposed convs -> (B, c/2, 16) -> two heads.
        self.dec_in = nn.Linear(cfg.z_high + cfg.z_low, c * q)
        self.dec = nn.Sequential(  # applied in `decode` through `transposed_conv`
            nn.LeakyReLU(0.2),
            nn.ConvTranspose1d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.ConvTranspose1d(c, c // 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        )
        self.hit_head = nn.Conv1d(c // 2, cfg.voices, 3, padding=1)
        # Velocity head: sees the decoder features, predicts velocity/127 for every cell; the loss
        # only looks at cells that hold a hit, so rests do not drag velocities to zero.
        self.vel_head = nn.Conv1d(c // 2, cfg.voices, 3, padding=1)
        # Offset head: where each hit sits against its sixteenth, 0.5 * tanh -> (-0.5, 0.5);
        # masked to hit cells in the loss like velocities.
        self.offset_head = nn.Conv1d(c // 2, cfg.voices, 3, padding=1)
        # Auxiliary genre head on z_high (used only when the trainer gives it a weight).
        self.genre_head = nn.Linear(cfg.z_high, cfg.n_genres)

    # --- inference ---------------------------------------------------------------------------
    def encode_low(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z_low | x) for x of shape (B, 16, 27) (`model_input`) or (B, 16, 9) hits alone
        (plain velocities, on the grid): mean and log-variance, each (B, z_low)."""
        if self.cfg.dynamics_in and x.shape[-1] == self.cfg.voices:
            x = model_input(x)
        elif not self.cfg.dynamics_in:
            x = x[..., : self.cfg.voices]
        h = self.enc(x.transpose(1, 2))  # (B, c, 4)
        mu, logvar = self.enc_out(h.flatten(1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 6.0)

    def encode_high(self, z_low: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z_high | z_low): mean and log-variance, each (B, z_high)."""
        mu, logvar = self.enc_high(z_low).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 6.0)

    def prior(self, z_high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """p(z_low | z_high): mean and log-variance, each (B, z_low)."""
        mu, logvar = self.prior_low(z_high).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 6.0)

    def encode_mean(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Deterministic codes (posterior means): (z_high, z_low)."""
        mu_low, _ = self.encode_low(x)
        mu_high, _ = self.encode_high(mu_low)
        return mu_high, mu_low

    # --- generation --------------------------------------------------------------------------
    def decode(self, z_high: torch.Tensor, z_low: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hit logits, velocities in [0, 1] and offsets in (-0.5, 0.5) sixteenths, each (B, 16, 9)."""
        h = self.dec_in(torch.cat([z_high, z_low], dim=-1)).view(len(z_low), self.cfg.channels, -1)
        for layer in self.dec:  # (B, c, 4) -> (B, c, 8) -> (B, c/2, 16)
            h = transposed_conv(layer, h) if isinstance(layer, nn.ConvTranspose1d) else layer(h)
        return (self.hit_head(h).transpose(1, 2), torch.sigmoid(self.vel_head(h)).transpose(1, 2),
                0.5 * torch.tanh(self.offset_head(h)).transpose(1, 2))

    def sample_low(self, z_high: torch.Tensor, generator: torch.Generator | None,
                   temperature: float = 1.0) -> torch.Tensor:
        """z_low ~ p(z_low | z_high) with the prior's spread scaled by `temperature`."""
        mu, logvar = self.prior(z_high)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        return mu + temperature * (0.5 * logvar).exp() * eps

    def sample(self, n: int, generator: torch.Generator | None, temperature: float = 1.0,
               z_high: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Ancestral sampling: z_high ~ N(0, I) (unless given), z_low ~ p(z_low | z_high);
        returns binary hits (greedy at 0.5), velocities in [0, 1] and offsets, each (n, 16, 9)."""
        if z_high is None:
            z_high = temperature * torch.randn((n, self.cfg.z_high), generator=generator)
        z_low = self.sample_low(z_high, generator, temperature)
        logits, vel, off = self.decode(z_high, z_low)
        return (logits > 0).float(), vel, off

    # --- training ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One pass with the reparameterisation trick on x (B, 16, 27) or hits (B, 16, 9);
        returns what the loss needs."""
        mu_low, logvar_low = self.encode_low(x)
        z_low = mu_low + (0.5 * logvar_low).exp() * torch.randn(mu_low.shape, generator=generator).to(mu_low.device)
        mu_high, logvar_high = self.encode_high(z_low)
        z_high = mu_high + (0.5 * logvar_high).exp() * torch.randn(mu_high.shape, generator=generator).to(mu_high.device)
        mu_p, logvar_p = self.prior(z_high)
        logits, vel, off = self.decode(z_high, z_low)
        return {
            "logits": logits, "velocity": vel, "offset": off,
            "kl_high": gaussian_kl(mu_high, logvar_high),                 # (B, z_high)
            "kl_low": gaussian_kl(mu_low, logvar_low, mu_p, logvar_p),    # (B, z_low)
            "mu_high": mu_high, "mu_low": mu_low, "genre_logits": self.genre_head(mu_high),
        }


def reconstruction_losses(out: dict[str, torch.Tensor], hits: torch.Tensor, velocities: torch.Tensor,
                          temperature: float = 1.0, offsets: torch.Tensor | None = None
                          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(BCE summed over the 144 cells, mean over the batch; velocity MSE and offset MSE over
    hit cells only, so rests do not drag velocities or timing towards zero).

    `temperature` divides the logits (output-temperature annealing): a high T early on keeps
    the decoder's probabilities soft, a T falling to 1 sharpens them into near-binary grids.
    Offsets missing (a straight corpus) count as on the grid.
    """
    bce = F.binary_cross_entropy_with_logits(out["logits"] / temperature, hits, reduction="sum") / len(hits)
    mask = hits > 0
    if offsets is None:
        offsets = torch.zeros_like(hits)
    if mask.any():
        vel = F.mse_loss(out["velocity"][mask], velocities[mask])
        off = F.mse_loss(out["offset"][mask], offsets[mask])
    else:
        vel = out["velocity"].sum() * 0.0
        off = out["offset"].sum() * 0.0
    return bce, vel, off
