"""The phrase model as it runs: its config (what a checkpoint's `config.model` rebuilds) and the
forward passes the phrase engine calls, on numpy (drumfont.nn.layers), no torch.

`PhraseNet` mirrors drums/phrase.py's PhraseVAE line for line: the bar and phrase encoders, the
conductor (a GRU over the bars, its mixture prior of each bar's code), the bar decoder, and the
bar-by-bar `generate` and `reconstruct`. Random draws come in from a `numpy.random.Generator` in a
fixed order (a mixture component by one uniform, then the code's normal noise), so
tests/test_parity.py can drive the torch model with the same draws and get the same bars.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from drumfont.drums.nets import model_input
from drumfont.errors import CheckpointError
from drumfont.nn.layers import GRU, Conv1d, ConvTranspose1d, Embedding, Linear, State, leaky_relu, sigmoid

F32 = np.float32


@dataclass
class PhraseConfig:
    """Architecture of the phrase model."""

    steps: int = field(default=16, metadata={"help": "sixteenth steps per bar (divisible by 4)"})
    voices: int = field(default=9, metadata={"help": "drum voices"})
    z_bar: int = field(default=16, metadata={"help": "dimensions of each bar's code"})
    z_phrase: int = field(default=8, metadata={"help": "dimensions of the phrase latent (feel)"})
    channels: int = field(default=64, metadata={"help": "conv channels of the bar encoder and decoder"})
    hidden: int = field(default=128, metadata={"help": "width of the conductor GRU"})
    genre_dim: int = field(default=8, metadata={"help": "size of the genre embedding"})
    context: int = field(default=32, metadata={"help": "conductor state passed to the bar decoder"})
    n_genres: int = field(default=7, metadata={"help": "genres (one more index stands for 'unlabelled')"})
    max_bars: int = field(default=8, metadata={"help": "longest phrase (size of the position one-hots)"})
    mixture: int = field(default=8, metadata={"help": "Gaussians in the prior of each bar code (1 = one Gaussian)"})

    def to_dict(self) -> dict:
        """Plain values, for the checkpoint."""
        return asdict(self)

    @property
    def cond_dim(self) -> int:
        """Size of a bar's condition vector (see `conditions`)."""
        return 2 * self.max_bars + 3


def conditions(fill: np.ndarray, prev_fill: np.ndarray, has_prev: np.ndarray, max_bars: int,
               start: int = 0, length: int | None = None) -> np.ndarray:
    """(B, L, 2 * max_bars + 3) condition of each bar (drums.phrase.conditions): one-hot position,
    one-hot bars to the phrase's end, the bar's fill flag, the previous bar's, and whether there is
    a previous bar."""
    fill = np.asarray(fill, bool)
    b, n = fill.shape
    length = n + start if length is None else length
    pos = np.arange(start, start + n)
    eye = np.eye(max_bars, dtype=F32)
    f = fill.astype(F32)
    before = np.concatenate([np.asarray(prev_fill, F32).reshape(b, 1), f[:, :-1]], axis=1)
    had = np.concatenate([np.asarray(has_prev, F32).reshape(b, 1), np.ones((b, n - 1), F32)], axis=1)
    return np.concatenate([np.broadcast_to(eye[pos], (b, n, max_bars)),
                           np.broadcast_to(eye[length - 1 - pos], (b, n, max_bars)),
                           f[..., None], before[..., None], had[..., None]], axis=-1)


def context_grids(x: np.ndarray, x_prev: np.ndarray) -> np.ndarray:
    """(B, L, 16, 54) each bar's context: the bar before it (x_prev for the first) and the
    phrase's first bar (zeros for the first itself) (drums.phrase.context_grids)."""
    before = np.concatenate([x_prev[:, None], x[:, :-1]], axis=1)
    first = np.concatenate([np.zeros_like(x[:, :1]), np.repeat(x[:, :1], x.shape[1] - 1, axis=1)], axis=1)
    return np.concatenate([before, first], axis=-1)


def gaussian_log_density(z: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """log N(z; mu, var) summed over the last dimension."""
    return -0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / np.exp(logvar)).sum(-1)


def _logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    top = a.max(axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis, keepdims=True))).squeeze(axis)


@dataclass
class Prior:
    """The conductor's prior of bar codes: a mixture of diagonal Gaussians per bar, weights
    (..., K) as logits, means and log-variances (..., K, z_bar) (drums.phrase.Prior)."""

    logits: np.ndarray
    mu: np.ndarray
    logvar: np.ndarray

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """log p(z) of codes z (..., z_bar): (...)."""
        comp = gaussian_log_density(z[..., None, :], self.mu, self.logvar)
        log_w = self.logits - _logsumexp(self.logits)[..., None]
        return _logsumexp(log_w + comp)

    def sample(self, rng: np.random.Generator, temperature: np.ndarray | float = 1.0) -> np.ndarray:
        """A code per bar: a component by its weight (one uniform each), then its Gaussian with the
        spread scaled by `temperature` (one number or one per row; 0: the heaviest component's mean)."""
        lead = self.logits.shape[:-1]
        t = np.asarray(temperature, F32).reshape(np.shape(temperature) + (1,) * (len(lead) - np.ndim(temperature)))
        w = np.exp(self.logits - self.logits.max(-1, keepdims=True))
        cdf = np.cumsum(w / w.sum(-1, keepdims=True), -1)
        u = rng.random(lead)
        k = np.minimum((cdf < u[..., None]).sum(-1), self.logits.shape[-1] - 1)
        k = np.where(np.broadcast_to(t == 0, lead), self.logits.argmax(-1), k)
        idx = k[..., None, None]
        mu = np.take_along_axis(self.mu, idx, -2)[..., 0, :]
        logvar = np.take_along_axis(self.logvar, idx, -2)[..., 0, :]
        eps = rng.standard_normal(mu.shape, dtype=F32)
        return (mu + t[..., None] * np.exp(F32(0.5) * logvar) * eps).astype(F32)


def _chunk(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = y.shape[-1] // 2
    return y[..., :n], np.clip(y[..., n:], -10.0, 6.0)


class PhraseNet:
    """drums.phrase.PhraseVAE at run time, on numpy."""

    def __init__(self, cfg: PhraseConfig, state: State) -> None:
        if cfg.steps % 4:
            raise CheckpointError("steps must be divisible by 4 (two stride-2 convolutions)")
        self.cfg = cfg
        c, q, v3 = cfg.channels, cfg.steps // 4, 3 * cfg.voices
        self.enc = [Conv1d(state, "enc.0", 3 * v3, c // 2, 3, padding=1),
                    Conv1d(state, "enc.2", c // 2, c, 4, stride=2, padding=1),
                    Conv1d(state, "enc.4", c, c, 4, stride=2, padding=1)]
        self.enc_out = Linear(state, "enc_out", c * q, 2 * cfg.z_bar)
        self.summary = Linear(state, "summary.0", cfg.steps * v3, cfg.hidden)
        self.enc_phrase = Linear(state, "enc_phrase", cfg.hidden, 2 * cfg.z_phrase)
        self.phrase_prior = Embedding(state, "phrase_prior", cfg.n_genres + 1, 2 * cfg.z_phrase)
        self.genre_emb = Embedding(state, "genre_emb", cfg.n_genres + 1, cfg.genre_dim)
        self.init = Linear(state, "init", cfg.z_phrase + cfg.genre_dim, cfg.hidden)
        self.gru = GRU(state, "gru", cfg.hidden + cfg.cond_dim + cfg.genre_dim, cfg.hidden)
        self.prior_out = Linear(state, "prior_out", cfg.hidden, cfg.mixture * (2 * cfg.z_bar + 1))
        self.to_context = Linear(state, "to_context", cfg.hidden, cfg.context)
        self.dec_in = Linear(state, "dec_in", cfg.z_bar + cfg.context + cfg.z_phrase, c * q)
        self.dec = [ConvTranspose1d(state, "dec.1", c, c, 4, stride=2, padding=1),
                    ConvTranspose1d(state, "dec.3", c, c // 2, 4, stride=2, padding=1)]
        self.ctx_conv = Conv1d(state, "ctx_conv.0", 2 * v3, c // 2, 3, padding=1)
        self.mix = Conv1d(state, "mix.0", c, c // 2, 3, padding=1)
        self.heads = Conv1d(state, "heads", c // 2, v3, 3, padding=1)

    # --- encoders ----------------------------------------------------------------------------
    def genre_index(self, genre: np.ndarray) -> np.ndarray:
        g = np.asarray(genre, np.int64)
        return np.where(g < 0, self.cfg.n_genres, g)

    def bar_summary(self, x: np.ndarray) -> np.ndarray:
        return leaky_relu(self.summary(x.reshape(*x.shape[:-2], -1)))

    def encode_bars(self, x: np.ndarray, ctx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """q(z_i | bar, context): mean and log-variance (..., z_bar)."""
        lead = x.shape[:-2]
        h = np.concatenate([x, ctx], axis=-1).reshape(-1, x.shape[-2], x.shape[-1] + ctx.shape[-1])
        for conv in self.enc:
            h = leaky_relu(conv(h))                                 # (N, 4, c)
        return _chunk(self.enc_out(h.transpose(0, 2, 1).reshape(len(h), -1)).reshape(*lead, -1))

    def encode_phrase(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """q(z_p | bars) of phrases (B, L, 16, 27): mean and log-variance (B, z_phrase)."""
        return _chunk(self.enc_phrase(self.bar_summary(x).mean(1)))

    def prior_phrase(self, genre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p(z_p | genre): mean and log-variance (B, z_phrase)."""
        return _chunk(self.phrase_prior(self.genre_index(genre)))

    # --- conductor and decoder ------------------------------------------------------------------
    def start(self, z_p: np.ndarray, genre: np.ndarray) -> np.ndarray:
        """The conductor's first state (B, hidden)."""
        return np.tanh(self.init(np.concatenate([z_p, self.genre_emb(self.genre_index(genre))], -1)))

    def conduct(self, before: np.ndarray, cond: np.ndarray, genre: np.ndarray, h: np.ndarray
                ) -> tuple[np.ndarray, Prior, np.ndarray]:
        """States (B, n, hidden), the prior of each bar's code and the last state, for bars whose
        previous bars `before` (B, n, 16, 27) are known."""
        n = before.shape[1]
        g = np.broadcast_to(self.genre_emb(self.genre_index(genre))[:, None], (len(h), n, self.cfg.genre_dim))
        hs, h = self.gru(np.concatenate([self.bar_summary(before), np.asarray(cond, F32), g], axis=-1), h)
        out = self.prior_out(hs)
        k, d = self.cfg.mixture, self.cfg.z_bar
        params = out[..., k:].reshape(*out.shape[:-1], k, 2 * d)
        return hs, Prior(out[..., :k], params[..., :d], np.clip(params[..., d:], -10.0, 6.0)), h

    def decode(self, z: np.ndarray, hs: np.ndarray, z_p: np.ndarray, ctx: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hit logits, velocities and offsets (B, L, 16, 9) of bar codes z (B, L, z_bar)."""
        b, n, _ = z.shape
        zp = np.broadcast_to(z_p[:, None], (b, n, z_p.shape[-1]))
        h = self.dec_in(np.concatenate([z, self.to_context(hs), zp], -1)).reshape(b * n, self.cfg.channels, -1)
        h = leaky_relu(h.transpose(0, 2, 1))                         # (N, 4, c)
        for deconv in self.dec:                                     # (N, 8, c) -> (N, 16, c/2)
            h = leaky_relu(deconv(h))
        g = leaky_relu(self.ctx_conv(ctx.reshape(b * n, *ctx.shape[-2:])))
        out = self.heads(leaky_relu(self.mix(np.concatenate([h, g], axis=-1)))).reshape(b, n, self.cfg.steps, -1)
        v = self.cfg.voices
        return out[..., :v], sigmoid(out[..., v: 2 * v]), F32(0.5) * np.tanh(out[..., 2 * v:])

    def _bars(self, h: np.ndarray, z_p, genre, cond, prev_x, first, codes, set_first: bool) -> tuple:
        """Bar by bar from conductor state h: each bar's code and threshold from `codes(i, prior)`,
        decoded before the next reads it (the first becomes the phrase's first bar where
        `set_first`). Returns hits, velocities, offsets (B, n, 16, 9)."""
        hits, vels, offs = [], [], []
        for i in range(cond.shape[1]):
            hs, prior, h = self.conduct(prev_x[:, None], cond[:, i:i + 1], genre, h)
            z, thr = codes(i, prior)
            logits, vel, off = self.decode(z, hs, z_p, np.concatenate([prev_x, first], axis=-1)[:, None])
            hit = logits[:, 0] > thr
            prev_x = model_input(hit, vel[:, 0], off[:, 0])
            if i == 0 and set_first:
                first = prev_x
            hits.append(hit)
            vels.append(vel[:, 0])
            offs.append(off[:, 0])
        shape = (len(h), 0, self.cfg.steps, self.cfg.voices)
        if not hits:
            return np.zeros(shape, bool), np.zeros(shape, F32), np.zeros(shape, F32)
        return np.stack(hits, 1), np.stack(vels, 1), np.stack(offs, 1)

    def generate(self, z_p: np.ndarray, genre: np.ndarray, cond: np.ndarray, x_prev: np.ndarray,
                 rng: np.random.Generator, temperature: np.ndarray | float = 1.0,
                 forced_x: np.ndarray | None = None, threshold: np.ndarray | float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One phrase, bar by bar (PhraseVAE.generate): the first k bars given (`forced_x`), each
        later bar's code drawn from the conductor's prior and decoded (a hit where the logit passes
        `threshold`) before the next reads it."""
        h = self.start(z_p, genre)
        thr = np.asarray(threshold, F32)
        thr = thr.reshape(thr.shape + (1, 1)) if thr.ndim else thr
        k = 0 if forced_x is None else forced_x.shape[1]
        first, prev_x = np.zeros_like(x_prev), x_prev
        if k:  # the known bars in one pass
            before = np.concatenate([prev_x[:, None], forced_x[:, :-1]], axis=1)
            _, _, h = self.conduct(before, cond[:, :k], genre, h)
            prev_x, first = forced_x[:, -1], forced_x[:, 0]
        return self._bars(h, z_p, genre, cond[:, k:], prev_x, first,
                          lambda i, prior: (prior.sample(rng, temperature), thr), set_first=k == 0)

    def sample_phrase_latent(self, genre: np.ndarray, rng: np.random.Generator,
                             temperature: float = 1.0) -> np.ndarray:
        """z_p ~ p(z_p | genre), its spread scaled by `temperature`."""
        mu, logvar = self.prior_phrase(genre)
        return (mu + F32(temperature) * np.exp(F32(0.5) * logvar) * rng.standard_normal(mu.shape, dtype=F32)
                ).astype(F32)

    def reconstruct(self, x: np.ndarray, genre: np.ndarray, fill: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Phrases x (B, L, 16, 27) played back from their posterior means, bar by bar, the
        decoder reading its own bars (PhraseVAE.reconstruct)."""
        b = x.shape[0]
        none = np.zeros(b, bool)
        zero = np.zeros_like(x[:, 0])
        mu, _ = self.encode_bars(x, context_grids(x, zero))
        mu_p, _ = self.encode_phrase(x)
        cond = conditions(fill, none, none, self.cfg.max_bars)
        return self._bars(self.start(mu_p, genre), mu_p, genre, cond, zero, zero,
                          lambda i, prior: (mu[:, i:i + 1], F32(0)), set_first=True)
