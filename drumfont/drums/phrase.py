"""The phrase level above the bar: a conductor over bar codes (MusicVAE's hierarchical decoder,
Roberts et al. 2018) with a phrase latent for the player's feel, conditioned on genre, position in
the phrase and fill. Math only: no I/O.

A phrase of L bars (L <= 8), each bar the seed's grid (16 steps x 9 voices; hits, velocities,
offsets):

    q(z_p | bars)          phrase latent ("the drummer's feel", z_phrase dims) from the mean of the
                           bars' summaries; prior p(z_p | genre), one learned Gaussian per genre
    q(z_i | bar i, ctx)    each bar's code (z_bar dims): the seed's conv encoder, reading the bar's
                           hits, velocities and offsets (27 channels) beside those of its context,
                           the bar before it and the phrase's first bar: a code says what changes
    conductor              a GRU over the bars; its state starts from (z_p, genre); step i reads the
                           bar before (a linear summary of its grid) and the condition c_i
                           (position, bars to the phrase's end, fill flags of this and the
                           previous bar), with the genre, and gives p(z_i | bars < i, z_p, c), a
                           Gaussian: the learned, autoregressive prior of the bar codes
    bar decoder            the seed's transposed-conv decoder from (z_i, conductor state, z_p), joined
                           at full resolution by the grids of the bar before and of the phrase's
                           first bar, to hit logits, velocities and offsets

The seed's bar VAE split a bar into z_high (style) and z_low (variation) with p(z_low | z_high);
here the same two roles sit one level up: z_p holds what stays through a phrase (style, feel),
the bar codes what changes from bar to bar, with a prior conditioned on the bars before them.

How it got here (each step measured on 4-bar phrases sampled at the prior's own spread; the
drummers' bars 2-3 are 0.44 and 0.43 (Jaccard) from bar 1 in rock's training phrases):
1. Each bar decoded from its code and the conductor's state alone (MusicVAE's bar decoder). It
   reconstructed well (val 4-bar hit F1 0.94 with 32-dim codes) but its phrases fell apart:
   bars 2-3 0.71-0.72 from bar 1, 0.50-0.56 even at temperature 0, since a Gaussian prior over
   codes that decode sharply lands between them.
2. The decoder reads the bar before and bar 1 as grids (playing the groove again becomes a copy),
   bars drawn one by one, each decoded before the next reads it: 0.68-0.71.
3. Codes relative to their context (the encoder reads the bar beside the bar before and bar 1,
   a conditional VAE) and the conductor reading bars, not codes: 0.59-0.65 (beta 0.2).
4. A mixture of 8 Gaussians as the codes' prior ("repeat" and "change" are different modes):
   0.58-0.62, the fill bar departing more (toms in 63 % of bar 4, 25 % of bars 1-3).
Under teacher forcing the prior's draws were still noisier than the drummers' bars (validation
phrases, all genres: a sampled bar 2 0.53 from the true bar 1, the drummer's 0.44, the prior's
mode 0.43), and greedy decoding dropped the cells the decoder is unsure of (rock at a lower
spread: 13 hits a bar against the drummers' 17). So after training each
genre gets a code spread and a hit threshold fitted on training phrases (trainers/train_phrase.py
`calibrate`); the report measures on the validation split.

Step 0 reads the grid of the bar *before* the phrase (zeros when there is none), so
phrases chain: a song or a continuation is a run of phrases of at most 8 bars, each starting from
the last bar of the one before, with one z_p throughout.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from drumfont.drums.hvae import gaussian_kl, gaussian_log_density, model_input, stride1_kernel, transposed_conv
from drumfont.drums.phrase_net import PhraseConfig as PhraseConfig  # one definition: the numpy twin's


def conditions(fill: torch.Tensor, prev_fill: torch.Tensor, has_prev: torch.Tensor, max_bars: int,
               start: int = 0, length: int | None = None) -> torch.Tensor:
    """(B, L, 2 * max_bars + 3) condition of each bar of phrases: one-hot position in the phrase,
    one-hot bars to its end, the bar's fill flag, the previous bar's fill flag, and whether there
    is a previous bar. fill (B, L) are the flags of bars start..start+L-1 of a phrase of `length`
    bars (default L); prev_fill / has_prev (B,) are those of the bar before bar `start`."""
    b, n = fill.shape
    length = n + start if length is None else length
    pos = torch.arange(start, start + n, device=fill.device)
    one_pos = F.one_hot(pos, max_bars).float()
    one_end = F.one_hot(length - 1 - pos, max_bars).float()
    f = fill.float()
    before = torch.cat([prev_fill.float()[:, None], f[:, :-1]], dim=1)
    had = torch.cat([has_prev.float()[:, None], torch.ones(b, n - 1, device=fill.device)], dim=1)
    return torch.cat([one_pos.expand(b, n, max_bars), one_end.expand(b, n, max_bars),
                      f[..., None], before[..., None], had[..., None]], dim=-1)


class Prior:
    """The conductor's prior of bar codes: a mixture of diagonal Gaussians per bar, weights
    (..., K) as logits, means and log-variances (..., K, z_bar). With K = 1 it is one Gaussian."""

    def __init__(self, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> None:
        self.logits, self.mu, self.logvar = logits, mu, logvar

    def log_density(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) of codes z (..., z_bar): (...)."""
        comp = gaussian_log_density(z.unsqueeze(-2), self.mu, self.logvar)  # (..., K)
        return torch.logsumexp(F.log_softmax(self.logits, -1) + comp, dim=-1)

    def kl(self, z: torch.Tensor, mu_q: torch.Tensor, logvar_q: torch.Tensor) -> torch.Tensor:
        """KL(q || p) of each bar, (...): in closed form for one Gaussian, else estimated by
        log q(z) - log p(z) at the posterior sample z (no closed form for a mixture)."""
        if self.mu.shape[-2] == 1:
            return gaussian_kl(mu_q, logvar_q, self.mu[..., 0, :], self.logvar[..., 0, :]).sum(-1)
        return gaussian_log_density(z, mu_q, logvar_q) - self.log_density(z)

    def sample(self, generator: torch.Generator | None, temperature: float | torch.Tensor = 1.0) -> torch.Tensor:
        """A code per bar: a component by its weight, then its Gaussian with the spread scaled by
        `temperature`, one number or one per row of the batch (0: the mean of the heaviest
        component)."""
        lead = self.logits.shape[:-1]
        t = torch.as_tensor(temperature, dtype=self.mu.dtype)
        t = t.reshape(t.shape + (1,) * (len(lead) - t.dim()))  # broadcasts over lead
        probs = F.softmax(self.logits, -1)
        k = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator).view(lead)
        k = torch.where(t == 0, self.logits.argmax(-1), k)
        idx = k[..., None, None].expand(*k.shape, 1, self.mu.shape[-1])
        mu, logvar = self.mu.gather(-2, idx)[..., 0, :], self.logvar.gather(-2, idx)[..., 0, :]
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        return mu + t[..., None] * (0.5 * logvar).exp() * eps


class PhraseVAE(nn.Module):
    """Bar encoder, phrase encoder, conductor (the bar codes' prior) and bar decoder."""

    def __init__(self, cfg: PhraseConfig) -> None:
        super().__init__()
        if cfg.steps % 4:
            raise ValueError("steps must be divisible by 4 (two stride-2 convolutions)")
        self.cfg = cfg
        c, q, v3 = cfg.channels, cfg.steps // 4, 3 * cfg.voices
        # Bar encoder, the seed's convolutions over time: the bar beside its context (the bar
        # before it and the phrase's first bar), (B, 81, 16) -> (B, c, 4) -> q(z_i | bar, context).
        self.enc = nn.Sequential(
            nn.Conv1d(3 * v3, c // 2, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c // 2, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        )
        self.enc_out = nn.Linear(c * q, 2 * cfg.z_bar)
        # A bar as the conductor and the phrase encoder read it: one linear map of its grid.
        self.summary = nn.Sequential(nn.Linear(cfg.steps * v3, cfg.hidden), nn.LeakyReLU(0.2))
        # Phrase encoder: mean of the bars' summaries -> q(z_p | bars).
        self.enc_phrase = nn.Linear(cfg.hidden, 2 * cfg.z_phrase)
        # p(z_p | genre): a Gaussian per genre (index n_genres: unlabelled), N(0, I) at the start.
        self.phrase_prior = nn.Embedding(cfg.n_genres + 1, 2 * cfg.z_phrase)
        nn.init.zeros_(self.phrase_prior.weight)
        self.genre_emb = nn.Embedding(cfg.n_genres + 1, cfg.genre_dim)
        # Conductor: reads the bar before (its summary), the condition and the genre.
        self.init = nn.Linear(cfg.z_phrase + cfg.genre_dim, cfg.hidden)
        self.gru = nn.GRU(cfg.hidden + cfg.cond_dim + cfg.genre_dim, cfg.hidden, batch_first=True)
        self.prior_out = nn.Linear(cfg.hidden, cfg.mixture * (2 * cfg.z_bar + 1))
        self.to_context = nn.Linear(cfg.hidden, cfg.context)
        # Bar decoder, the seed's: (z_i, conductor context, z_p) -> (B, c, 4) -> (B, c/2, 16),
        # joined at full resolution by the context grids, -> hit logits, velocities, offsets.
        self.dec_in = nn.Linear(cfg.z_bar + cfg.context + cfg.z_phrase, c * q)
        self.dec = nn.Sequential(  # applied in `decode` through `transposed_conv`
            nn.LeakyReLU(0.2),
            nn.ConvTranspose1d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.ConvTranspose1d(c, c // 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        )
        self.ctx_conv = nn.Sequential(nn.Conv1d(2 * v3, c // 2, 3, padding=1), nn.LeakyReLU(0.2))
        self.mix = nn.Sequential(nn.Conv1d(c, c // 2, 3, padding=1), nn.LeakyReLU(0.2))
        self.heads = nn.Conv1d(c // 2, v3, 3, padding=1)  # hits, velocities, offsets: 9 channels each

    # --- encoders ----------------------------------------------------------------------------
    def genre_index(self, genre: torch.Tensor) -> torch.Tensor:
        """Genre labels with -1 (unlabelled) mapped to the extra index."""
        return torch.where(genre < 0, torch.full_like(genre, self.cfg.n_genres), genre)

    def bar_summary(self, x: torch.Tensor) -> torch.Tensor:
        """(..., hidden) summaries of bars x (..., 16, 27)."""
        return self.summary(x.flatten(-2))

    def encode_bars(self, x: torch.Tensor, ctx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z_i | bar, context) of bars x (..., 16, 27) with their context grids ctx (..., 16, 54):
        mean and log-variance (..., z_bar)."""
        lead = x.shape[:-2]
        h = torch.cat([x, ctx], dim=-1).reshape(-1, *x.shape[-2:-1], x.shape[-1] + ctx.shape[-1])
        h = self.enc(h.transpose(1, 2)).flatten(1)  # (N, c * 4)
        mu, logvar = self.enc_out(h).view(*lead, -1).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 6.0)

    def encode_phrase(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z_p | bars) of phrases x (B, L, 16, 27): mean and log-variance (B, z_phrase)."""
        mu, logvar = self.enc_phrase(self.bar_summary(x).mean(1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 6.0)

    def prior_phrase(self, genre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """p(z_p | genre): mean and log-variance (B, z_phrase)."""
        mu, logvar = self.phrase_prior(self.genre_index(genre)).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 6.0)

    # --- conductor ---------------------------------------------------------------------------
    def start(self, z_p: torch.Tensor, genre: torch.Tensor) -> torch.Tensor:
        """The conductor's first state (1, B, hidden) from the phrase latent and the genre."""
        return torch.tanh(self.init(torch.cat([z_p, self.genre_emb(self.genre_index(genre))], -1)))[None]

    def conduct(self, before: torch.Tensor, cond: torch.Tensor, genre: torch.Tensor, h: torch.Tensor
                ) -> tuple[torch.Tensor, Prior, torch.Tensor]:
        """Conductor over bars whose previous bars `before` (B, n, 16, 27) are known: states
        (B, n, hidden), the prior of each bar's code, and the last state."""
        g = self.genre_emb(self.genre_index(genre))[:, None].expand(-1, before.shape[1], -1)
        hs, h = self.gru(torch.cat([self.bar_summary(before), cond, g], dim=-1), h)
        out = self.prior_out(hs)
        k, d = self.cfg.mixture, self.cfg.z_bar
        logits, params = out[..., :k], out[..., k:].unflatten(-1, (k, 2 * d))
        mu, logvar = params.chunk(2, dim=-1)
        return hs, Prior(logits, mu, logvar.clamp(-10.0, 6.0)), h

    # --- decoder -----------------------------------------------------------------------------
    def decode(self, z: torch.Tensor, hs: torch.Tensor, z_p: torch.Tensor, ctx: torch.Tensor,
               kernels: list | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hit logits, velocities in [0, 1] and offsets in (-0.5, 0.5), each (B, L, 16, 9), of bar
        codes z (B, L, z_bar) under conductor states hs (B, L, hidden), phrase latent z_p and the
        context grids ctx (B, L, 16, 54) (`context_grids`). `kernels`: `decoder_kernels()`, for a
        loop that decodes one bar at a time."""
        b, n, _ = z.shape
        zp = z_p[:, None].expand(b, n, -1)
        h = self.dec_in(torch.cat([z, self.to_context(hs), zp], -1)).view(b * n, self.cfg.channels, -1)
        kernels = iter(self.decoder_kernels() if kernels is None else kernels)
        for layer in self.dec:  # (N, c, 4) -> (N, c, 8) -> (N, c/2, 16)
            h = transposed_conv(layer, h, next(kernels)) if isinstance(layer, nn.ConvTranspose1d) else layer(h)
        g = self.ctx_conv(ctx.reshape(b * n, *ctx.shape[-2:]).transpose(1, 2))  # (N, c/2, 16)
        out = self.heads(self.mix(torch.cat([h, g], dim=1))).transpose(1, 2)  # (N, 16, 27)
        logits, vel, off = out.reshape(b, n, self.cfg.steps, -1).chunk(3, dim=-1)
        return logits, torch.sigmoid(vel), 0.5 * torch.tanh(off)

    def decoder_kernels(self) -> list:
        """The stride-1 kernels of the decoder's transposed convolutions (see hvae.transposed_conv)."""
        return [stride1_kernel(layer) for layer in self.dec if isinstance(layer, nn.ConvTranspose1d)]

    def generate(self, z_p: torch.Tensor, genre: torch.Tensor, cond: torch.Tensor, x_prev: torch.Tensor,
                 generator: torch.Generator | None, temperature: float | torch.Tensor = 1.0,
                 forced_x: torch.Tensor | None = None, threshold: float | torch.Tensor = 0.0
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One phrase, bar by bar: the first k bars are given (`forced_x` (B, k, 16, 27): a
        player's bars being continued), each later bar's code is drawn from the conductor's prior
        (spread scaled by `temperature`) and decoded (a hit where the logit passes `threshold`)
        before the next bar reads it.
        x_prev is the bar before the phrase (zeros if none); temperature and threshold are one
        number or one per row (B,). Returns the new bars' hits (B, L - k, 16, 9) bool, velocities
        and offsets."""
        h = self.start(z_p, genre)
        thr = torch.as_tensor(threshold, dtype=x_prev.dtype)
        thr = thr.reshape(thr.shape + (1, 1)) if thr.dim() else thr
        b, n = cond.shape[:2]
        k = 0 if forced_x is None else forced_x.shape[1]
        first = torch.zeros_like(x_prev)
        prev_x = x_prev
        kernels = self.decoder_kernels()  # once for the whole phrase, not once a bar
        hits, vels, offs = [], [], []
        if k:  # the known bars in one pass
            before = torch.cat([prev_x[:, None], forced_x[:, :-1]], dim=1)
            _, _, h = self.conduct(before, cond[:, :k], genre, h)
            prev_x, first = forced_x[:, -1], forced_x[:, 0]
        for i in range(k, n):
            hs, prior, h = self.conduct(prev_x[:, None], cond[:, i:i + 1], genre, h)
            z = prior.sample(generator, temperature)
            logits, vel, off = self.decode(z, hs, z_p, torch.cat([prev_x, first], dim=-1)[:, None], kernels)
            hit = logits[:, 0] > thr
            prev_x = model_input(hit.float(), vel[:, 0], off[:, 0])
            if i == 0:
                first = prev_x
            hits.append(hit)
            vels.append(vel[:, 0])
            offs.append(off[:, 0])
        if not hits:
            empty = torch.zeros(b, 0, self.cfg.steps, self.cfg.voices)
            return empty.bool(), empty, empty
        return torch.stack(hits, 1), torch.stack(vels, 1), torch.stack(offs, 1)

    def sample_phrase_latent(self, genre: torch.Tensor, generator: torch.Generator | None,
                             temperature: float = 1.0) -> torch.Tensor:
        """z_p ~ p(z_p | genre), its spread scaled by `temperature`."""
        mu, logvar = self.prior_phrase(genre)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        return mu + temperature * (0.5 * logvar).exp() * eps

    # --- training ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, genre: torch.Tensor, fill: torch.Tensor, x_prev: torch.Tensor,
                has_prev: torch.Tensor, prev_fill: torch.Tensor, generator: torch.Generator | None = None
                ) -> dict[str, torch.Tensor]:
        """One pass over phrases x (B, L, 16, 27) with the bar before each (B, 16, 27; zeros and
        has_prev False where none), genre (B,), fill flags (B, L) and the previous bar's (B,),
        everything reading the true bars before each bar (teacher forcing); returns what the
        loss needs."""
        def noise(t: torch.Tensor) -> torch.Tensor:
            return torch.randn(t.shape, generator=generator).to(t.device)

        x_prev = x_prev * has_prev.float()[:, None, None]
        ctx = context_grids(x, x_prev)
        mu, logvar = self.encode_bars(x, ctx)
        z = mu + (0.5 * logvar).exp() * noise(mu)
        mu_p, logvar_p = self.encode_phrase(x)
        z_p = mu_p + (0.5 * logvar_p).exp() * noise(mu_p)
        cond = conditions(fill, prev_fill, has_prev, self.cfg.max_bars)
        hs, prior, _ = self.conduct(ctx[..., : x.shape[-1]], cond, genre, self.start(z_p, genre))
        logits, vel, off = self.decode(z, hs, z_p, ctx)
        pm, plv = self.prior_phrase(genre)
        return {"logits": logits, "velocity": vel, "offset": off,
                "kl_bar": prior.kl(z, mu, logvar),                       # (B, L)
                "kl_phrase": gaussian_kl(mu_p, logvar_p, pm, plv),       # (B, z_phrase)
                "mu": mu, "mu_phrase": mu_p}

    def reconstruct(self, x: torch.Tensor, genre: torch.Tensor, fill: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Phrases x (B, L, 16, 27) played back from their posterior means (bar codes and z_p),
        without a bar before the phrase: bar by bar, the conductor and the decoder reading the
        decoder's own bars before it (never the true ones). Hits (B, L, 16, 9) bool, velocities,
        offsets."""
        b, n = x.shape[:2]
        none = torch.zeros(b, dtype=torch.bool, device=x.device)
        zero = torch.zeros_like(x[:, 0])
        mu, _ = self.encode_bars(x, context_grids(x, zero))
        mu_p, _ = self.encode_phrase(x)
        cond = conditions(fill, none, none, self.cfg.max_bars)
        h = self.start(mu_p, genre)
        prev_x, first = zero, zero
        kernels = self.decoder_kernels()
        hits, vels, offs = [], [], []
        for i in range(n):
            hs, _, h = self.conduct(prev_x[:, None], cond[:, i:i + 1], genre, h)
            logits, vel, off = self.decode(mu[:, i:i + 1], hs, mu_p, torch.cat([prev_x, first], dim=-1)[:, None],
                                           kernels)
            hit = logits[:, 0] > 0
            prev_x = model_input(hit.float(), vel[:, 0], off[:, 0])
            if i == 0:
                first = prev_x
            hits.append(hit)
            vels.append(vel[:, 0])
            offs.append(off[:, 0])
        return torch.stack(hits, 1), torch.stack(vels, 1), torch.stack(offs, 1)


def context_grids(x: torch.Tensor, x_prev: torch.Tensor) -> torch.Tensor:
    """(B, L, 16, 54) each bar's context under teacher forcing: the bar before it (x_prev for the
    first) and the phrase's first bar (zeros for the first itself)."""
    before = torch.cat([x_prev[:, None], x[:, :-1]], dim=1)
    first = torch.cat([torch.zeros_like(x[:, :1]), x[:, :1].expand(-1, x.shape[1] - 1, -1, -1)], dim=1)
    return torch.cat([before, first], dim=-1)


def phrase_input(hits: torch.Tensor, velocity: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """(..., 16, 27) encoder input of bars: hits, velocities in [0, 1], offsets (see hvae.model_input)."""
    shape = hits.shape
    flat = model_input(hits.reshape(-1, *shape[-2:]), velocity.reshape(-1, *shape[-2:]),
                       offset.reshape(-1, *shape[-2:]))
    return flat.view(*shape[:-1], -1)


def phrase_losses(out: dict[str, torch.Tensor], hits: torch.Tensor, velocities: torch.Tensor,
                  offsets: torch.Tensor, temperature: float = 1.0
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per bar: BCE summed over the 144 cells and averaged over bars; velocity and offset MSE on
    hit cells only (as the bar VAE's `reconstruction_losses`)."""
    n_bars = hits.shape[0] * hits.shape[1]
    bce = F.binary_cross_entropy_with_logits(out["logits"] / temperature, hits, reduction="sum") / n_bars
    mask = hits > 0
    if mask.any():
        vel = F.mse_loss(out["velocity"][mask], velocities[mask])
        off = F.mse_loss(out["offset"][mask], offsets[mask])
    else:
        vel = out["velocity"].sum() * 0.0
        off = out["offset"].sum() * 0.0
    return bce, vel, off
