"""DCGAN-style letter GAN with the study's stabilisers and three more, each a switch.

Generator: linear projection -> transposed convolutions with batch norm -> sigmoid (28×28 in
[0, 1]). Discriminator: strided convolutions, LeakyReLU, dropout, a linear head; it returns its
last conv features too (feature matching uses them). Conditional models concatenate the one-hot
letter to z and, as one constant plane per class, to D's input image; D adds a projection term
<embed(letter), features> (Miyato & Koyama 2018), without which it ignored the letter.

Stabilisers: feature matching (Salimans et al. 2016), unrolled D (Metz et al. 2017, through
torch.func.functional_call so G's gradient flows through the look-ahead), minibatch
discrimination (Salimans et al. 2016), minibatch standard deviation (Karras et al. 2018),
DiffAugment (Zhao et al. 2020: translation + cutout, on real and fake alike), the R1
gradient penalty (Mescheder et al. 2018) and an InfoGAN categorical code (Chen et al. 2016):
K categories drawn uniformly into G's latent and read back from the fake image by a head on D's
features. It uses no labels, so the model stays unconditional, but every category must stay
recognisable and each is drawn 1/K of the time, which pushes G to spread its output over K
distinct kinds of image instead of piling onto a few.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from drumfont.checkpoint import build_model
from drumfont.letters.nets import N_LETTERS as N_LETTERS  # re-exported: trainers and tests read them here
from drumfont.letters.nets import GanConfig as GanConfig
from drumfont.nn import preset as presets


def one_hot(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """(B,) glyph indices -> (B, classes) float one-hot."""
    return F.one_hot(labels.long(), classes).float()


class Generator(nn.Module):
    """z (and the letter) -> (B, 1, 28, 28) image in [0, 1]."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.g_width
        in_dim = self.latent_dim + (cfg.classes if cfg.conditional else 0)
        self.project = nn.Sequential(nn.Linear(in_dim, 2 * w * 7 * 7, bias=False),
                                     nn.BatchNorm1d(2 * w * 7 * 7), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),   # (B, w, 14, 14)
            nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Sigmoid(),                                   # (B, 1, 28, 28)
        )

    @property
    def latent_dim(self) -> int:
        """Size of G's latent: Gaussian z, then the one-hot InfoGAN code when there is one."""
        return self.cfg.z_dim + self.cfg.info_codes

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latents: z ~ N(0, I), plus a uniformly drawn one-hot code (InfoGAN)."""
        z = torch.randn(n, self.cfg.z_dim, generator=generator)
        if self.cfg.info_codes:
            z = self.with_codes(z, torch.randint(0, self.cfg.info_codes, (n,), generator=generator))
        return z

    def with_codes(self, z: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """Latents from Gaussian parts z (B, z_dim) and InfoGAN categories (B,)."""
        return torch.cat([z, F.one_hot(codes.long(), self.cfg.info_codes).float()], dim=1)

    def codes(self, latent: torch.Tensor) -> torch.Tensor | None:
        """The InfoGAN category of each latent (None without a code)."""
        return latent[:, self.cfg.z_dim:].argmax(1) if self.cfg.info_codes else None

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, latent_dim) from `latent` (or a blend of such)."""
        if self.cfg.conditional:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, one_hot(labels, self.cfg.classes)], dim=1)
        h = self.project(z).view(len(z), 2 * self.cfg.g_width, 7, 7)
        return self.deconv(h)

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n images from seeded latents (in eval mode: batch-norm running statistics)."""
        dev = next(self.parameters()).device
        return self(self.latent(n, generator).to(dev), None if labels is None else labels.to(dev))


@torch.no_grad()
def recalibrate_batchnorm(g: Generator, generator: torch.Generator, batches: int = 16, size: int = 256) -> None:
    """Reset G's batch-norm running statistics to the plain average over `batches` fresh batches.
    An EMA of G's weights never ran forward itself, so the statistics it inherits belong to other
    weights; measured on its own outputs they match what it draws."""
    bns = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    was = g.training
    dev = next(g.parameters()).device
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    g.train()
    for _ in range(batches):
        labels = torch.randint(0, g.cfg.classes, (size,), generator=generator).to(dev) if g.cfg.conditional else None
        g(g.latent(size, generator).to(dev), labels)
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    g.train(was)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016: per sample, B features that say how close it is to the rest of the
    batch, under C-dimensional learned projections; a collapsed batch is easy to spot."""

    def __init__(self, in_features: int, b: int, c: int) -> None:
        super().__init__()
        self.b, self.c = b, c
        self.T = nn.Parameter(torch.randn(in_features, b * c) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = (x @ self.T).view(-1, self.b, self.c)                    # (N, B, C)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(dim=3)      # (N, N, B)
        o = torch.exp(-l1).sum(dim=1) - 1.0                          # exclude self (exp(0) = 1)
        return torch.cat([x, o], dim=1)                              # (N, in + B)


def minibatch_stddev(h: torch.Tensor) -> torch.Tensor:
    """Karras et al. 2018: append the batch's mean feature standard deviation as a channel."""
    std = torch.sqrt(h.var(dim=0, unbiased=False) + 1e-8).mean()
    return torch.cat([h, std.expand(h.size(0), 1, h.size(2), h.size(3))], dim=1)


class Discriminator(nn.Module):
    """Image (and letter) -> (logit, last conv features)."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.d_width
        in_ch = 1 + (cfg.classes if cfg.conditional else 0)
        self.convs = nn.Sequential(
            nn.Conv2d(in_ch, w, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(cfg.dropout),           # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(cfg.dropout),       # (B, 2w, 7, 7)
        )
        flat = (2 * w + (1 if cfg.mbstd else 0)) * 7 * 7
        self.mbd = MinibatchDiscrimination(flat, cfg.mbd_b, cfg.mbd_c) if cfg.mbd else None
        self.head = nn.Linear(flat + (cfg.mbd_b if cfg.mbd else 0), 1)
        # Projection (Miyato & Koyama 2018) beside the one-hot input planes: with the planes alone
        # D learned to ignore the letter and G drew whatever letter its z chose (measured agreement
        # ~1/26 after 10 epochs); <embed(y), features> makes the label part of every decision.
        self.project = nn.Embedding(cfg.classes, flat + (cfg.mbd_b if cfg.mbd else 0)) if cfg.conditional else None
        if self.project is not None:
            nn.init.normal_(self.project.weight, std=0.01)
        # InfoGAN's Q head shares D's body (as in Chen et al.): the code is read from D's features
        self.info = nn.Linear(2 * w * 7 * 7, cfg.info_codes) if cfg.info_codes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if self.cfg.conditional:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            planes = one_hot(labels, self.cfg.classes)[:, :, None, None].expand(-1, -1, x.size(2), x.size(3))
            x = torch.cat([x, planes], dim=1)
        h = self.convs(x)
        feats = h.flatten(1)
        if self.cfg.mbstd:
            h = minibatch_stddev(h)
        flat = h.flatten(1)
        if self.mbd is not None:
            flat = self.mbd(flat)
        logit = self.head(flat).squeeze(1)
        if self.project is not None:
            logit = logit + (self.project(labels.long()) * flat).sum(1)
        return logit, feats


# --- losses ----------------------------------------------------------------------------------

def diff_augment(x: torch.Tensor, generator: torch.Generator | None = None,
                 shift: float = 0.125, cutout: float = 0.25) -> torch.Tensor:
    """Zhao et al. 2020's translation + cutout, differentiable in x; applied to real and fake
    images alike so D cannot tell them apart by the augmentation."""
    b, _, h, w = x.shape
    dev = x.device
    # translation by up to shift*size pixels with zero fill, via integer-index gather
    sy = torch.randint(-int(h * shift), int(h * shift) + 1, (b, 1, 1), generator=generator).to(dev)
    sx = torch.randint(-int(w * shift), int(w * shift) + 1, (b, 1, 1), generator=generator).to(dev)
    gy, gx = torch.meshgrid(torch.arange(h, device=dev), torch.arange(w, device=dev), indexing="ij")
    yy, xx = gy.unsqueeze(0) - sy, gx.unsqueeze(0) - sx                      # source pixel of each target
    valid = ((yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)).unsqueeze(1).to(x.dtype)
    idx = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).view(b, 1, h * w).expand(-1, x.size(1), -1)
    x = x.flatten(2).gather(2, idx).view_as(x) * valid
    # cutout: one square of cutout*size zeroed at a random place
    ch, cw = int(h * cutout), int(w * cutout)
    cy = torch.randint(0, h - ch + 1, (b, 1, 1), generator=generator).to(dev)
    cx = torch.randint(0, w - cw + 1, (b, 1, 1), generator=generator).to(dev)
    hole = (gy.unsqueeze(0) >= cy) & (gy.unsqueeze(0) < cy + ch) & (gx.unsqueeze(0) >= cx) & (gx.unsqueeze(0) < cx + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def info_loss(d: nn.Module, feats: torch.Tensor, codes: torch.Tensor | None, cfg: GanConfig,
              params: dict | None = None) -> torch.Tensor | float:
    """InfoGAN: weight x cross-entropy of D's reading of the fake images' code (0 without a code).
    Minimised by D's head and body and by G alike: a lower bound on the code's mutual
    information with the image."""
    if not cfg.info_codes or codes is None:
        return 0.0
    head = getattr(d, "module", d).info  # d may be DDP-wrapped
    logits = head(feats) if params is None else F.linear(feats, params["info.weight"], params["info.bias"])
    return cfg.info_weight * F.cross_entropy(logits, codes)


def d_loss(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None,
           fake_labels: torch.Tensor | None, cfg: GanConfig, generator: torch.Generator | None = None,
           params: dict | None = None, codes: torch.Tensor | None = None) -> torch.Tensor:
    """BCE of D on real (target 1) and fake (target 0) images, plus R1 on the real ones and the
    InfoGAN term on the fakes' `codes`. With `params`, D runs through functional_call on those
    weights (the unrolled copy)."""
    run = (lambda x, l: functional_call(d, params, (x, l))) if params is not None else d
    if cfg.r1 > 0 and params is None:
        real = real.detach().requires_grad_(True)
    r_in, f_in = (diff_augment(real, generator), diff_augment(fake, generator)) if cfg.diffaug else (real, fake)
    real_logit, _ = run(r_in, labels)
    fake_logit, fake_feats = run(f_in, fake_labels)
    loss = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
            + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
            + info_loss(d, fake_feats, codes, cfg, params))
    if cfg.r1 > 0 and params is None:
        grad, = torch.autograd.grad(real_logit.sum(), real, create_graph=True)
        loss = loss + 0.5 * cfg.r1 * grad.pow(2).flatten(1).sum(1).mean()
    return loss


def g_loss(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None,
           fake_labels: torch.Tensor | None, cfg: GanConfig, generator: torch.Generator | None = None,
           params: dict | None = None, codes: torch.Tensor | None = None) -> torch.Tensor:
    """Non-saturating BCE (fake -> target 1) plus feature matching on D's last conv features:
    ||mean f(real) - mean f(fake)||², pushing G's batch statistics towards the data's; plus the
    InfoGAN term (G must draw each code so D can read it back)."""
    run = (lambda x, l: functional_call(d, params, (x, l))) if params is not None else d
    r_in, f_in = (diff_augment(real, generator), diff_augment(fake, generator)) if cfg.diffaug else (real, fake)
    fake_logit, fake_feats = run(f_in, fake_labels)
    loss = (F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
            + info_loss(d, fake_feats, codes, cfg, params))
    if cfg.feature_matching > 0:
        with torch.no_grad():
            _, real_feats = run(r_in, labels)
        loss = loss + cfg.feature_matching * (real_feats.mean(0) - fake_feats.mean(0)).pow(2).sum()
    return loss


def unrolled_g_loss(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None,
                    fake_labels: torch.Tensor | None, cfg: GanConfig, generator: torch.Generator | None = None,
                    k: int | None = None, codes: torch.Tensor | None = None) -> torch.Tensor:
    """G's loss against D after k SGD steps on a functional copy of its weights. The steps keep
    their graph (create_graph) and see the same fake batch, so G's gradient accounts for how D
    would react to it: the look-ahead of Metz et al. 2017. D itself is not changed."""
    k = cfg.unrolled if k is None else k
    params = {name: p for name, p in d.named_parameters()}
    for _ in range(k):
        loss = d_loss(d, real, fake, labels, fake_labels, cfg, generator, params=params, codes=codes)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {name: p - cfg.unrolled_lr * g for (name, p), g in zip(params.items(), grads)}
    return g_loss(d, real, fake, labels, fake_labels, cfg, generator, params=params, codes=codes)


def load_generator(path) -> tuple[Generator, dict]:
    """(the torch Generator in eval mode, checkpoint dict) of a preset or .pt checkpoint: for
    training and reports; what plays uses letters.engine.load_generator (numpy)."""
    blob = presets.load(path, "letters_gan")
    return build_model(blob, Generator, GanConfig, path), blob
