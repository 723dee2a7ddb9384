"""The letter models as they run: the GAN's and the letter classifier's configs (what a
checkpoint's config rebuilds) and the forward passes a user command calls, on numpy, no torch.

`GeneratorNet` is letters/gan.py's Generator in eval mode (batch norm on its running statistics),
with its gradient with respect to the latent (`fit`: GAN inversion, for `--style-from`);
`ClassifierNet` is letters/classifier.py's LetterClassifier. The torch files import their configs
from here; tests/test_parity.py holds each shipped preset's two forwards to each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from drumfont.nn.layers import BatchNorm, Conv2d, ConvTranspose2d, Linear, State, max_pool2d, relu, sigmoid
from drumfont.nn.torch_random import TorchGenerator

F32 = np.float32
N_LETTERS = 26  # A-Z: the class count of checkpoints from before digits and punctuation


@dataclass
class GanConfig:
    """Architecture and stabiliser switches (those that change the networks or the losses)."""

    z_dim: int = field(default=64, metadata={"help": "latent size"})
    conditional: bool = field(default=False, metadata={"help": "condition G and D on the letter"})
    classes: int = field(default=N_LETTERS, metadata={"help": "glyphs learned: the first N of A-Z, 0-9, "
                                                               ". , ! ? - ' & : ( ) (26 = A-Z, 46 = all)"})
    g_width: int = field(default=64, metadata={"help": "channels of G's 14x14 layer (7x7 has twice)"})
    d_width: int = field(default=32, metadata={"help": "channels of D's first conv (second has twice)"})
    dropout: float = field(default=0.3, metadata={"help": "dropout in D"})
    feature_matching: float = field(default=0.0, metadata={"help": "weight of the feature-matching term in G's loss (0 = off)"})
    unrolled: int = field(default=0, metadata={"help": "unrolled D steps in G's update (0 = off)"})
    unrolled_lr: float = field(default=0.05, metadata={"help": "SGD step size of the unrolled D copy"})
    mbd: bool = field(default=False, metadata={"help": "minibatch discrimination layer in D"})
    mbd_b: int = field(default=16, metadata={"help": "minibatch discrimination: number of kernels B"})
    mbd_c: int = field(default=8, metadata={"help": "minibatch discrimination: kernel dimension C"})
    mbstd: bool = field(default=False, metadata={"help": "minibatch standard deviation channel in D"})
    diffaug: bool = field(default=False, metadata={"help": "DiffAugment (translation, cutout) on D's inputs"})
    r1: float = field(default=0.0, metadata={"help": "R1 gradient penalty weight gamma (0 = off)"})
    info_codes: int = field(default=0, metadata={"help": "InfoGAN categorical code with K categories, no labels used (0 = off)"})
    info_weight: float = field(default=1.0, metadata={"help": "weight of the InfoGAN code-recovery term (D and G)"})

    def to_dict(self) -> dict:
        """Plain values for a checkpoint."""
        return asdict(self)


@dataclass
class ClassifierConfig:
    """Architecture of the letter classifier."""

    width: int = field(default=32, metadata={"help": "channels of the first conv block (doubled in the second)"})
    features: int = field(default=128, metadata={"help": "size of the penultimate (feature) layer"})
    dropout: float = field(default=0.3, metadata={"help": "dropout before the output layer"})
    n_classes: int = field(default=46, metadata={"help": "glyphs: the first N of A-Z, 0-9, . , ! ? - ' & : ( ) "
                                                             "(26 = the letters-only classifier of earlier presets)"})

    def to_dict(self) -> dict:
        """Plain values for a checkpoint."""
        return asdict(self)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    labels = np.asarray(labels, np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}")
    return np.eye(classes, dtype=F32)[labels]


class GeneratorNet:
    """letters.gan.Generator in eval mode: z (and the glyph) -> (B, 28, 28) ink in [0, 1]."""

    def __init__(self, cfg: GanConfig, state: State) -> None:
        self.cfg = cfg
        w = cfg.g_width
        self.in_dim = self.latent_dim + (cfg.classes if cfg.conditional else 0)
        self.project = Linear(state, "project.0", self.in_dim, 2 * w * 7 * 7)
        self.bn0 = BatchNorm(state, "project.1", 2 * w * 7 * 7)
        self.deconv0 = ConvTranspose2d(state, "deconv.0", 2 * w, w, 4, stride=2, padding=1)   # (B, 14, 14, w)
        self.bn1 = BatchNorm(state, "deconv.1", w)
        self.deconv1 = ConvTranspose2d(state, "deconv.3", w, 1, 4, stride=2, padding=1)       # (B, 28, 28, 1)

    @property
    def latent_dim(self) -> int:
        """Size of G's latent: Gaussian z, then the one-hot InfoGAN code when there is one."""
        return self.cfg.z_dim + self.cfg.info_codes

    def latent(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n latents: z ~ N(0, I) (n, z_dim), then a uniformly drawn one-hot code (InfoGAN)."""
        z = rng.standard_normal((n, self.cfg.z_dim), dtype=F32)
        if self.cfg.info_codes:
            codes = rng.integers(0, self.cfg.info_codes, n)
            z = np.concatenate([z, _one_hot(codes, self.cfg.info_codes)], axis=1)
        return z

    def seeded_latent(self, seed: int) -> np.ndarray:
        """The latent (1, latent_dim) of a style seed: the one torch's `Generator.latent(1,
        torch.Generator().manual_seed(seed))` drew, so a seed keeps its style (nn/torch_random.py)."""
        gen = TorchGenerator(seed)
        z = gen.randn(self.cfg.z_dim)[None]
        if self.cfg.info_codes:
            z = np.concatenate([z, _one_hot(np.array([gen.randint(self.cfg.info_codes)]), self.cfg.info_codes)], axis=1)
        return z

    def _input(self, z: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        z = np.asarray(z, F32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"latents are (B, {self.latent_dim}), got {z.shape}")
        if self.cfg.conditional:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = np.concatenate([z, _one_hot(labels, self.cfg.classes)], axis=1)
        return z

    def _forward(self, z: np.ndarray, labels: np.ndarray | None):
        x = self._input(z, labels)
        w = self.cfg.g_width
        a0 = self.bn0(self.project(x))                               # (B, 2w*49), channel-major as torch views it
        h0 = relu(a0).reshape(len(x), 2 * w, 7, 7).transpose(0, 2, 3, 1)   # (B, 7, 7, 2w)
        a1 = self.bn1(self.deconv0(h0))                              # (B, 14, 14, w)
        h1 = relu(a1)
        out = sigmoid(self.deconv1(h1))[..., 0]                      # (B, 28, 28)
        return out, (a0, a1)

    def __call__(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """(B, 28, 28) images of latents z (B, latent_dim) (and glyph indices for a conditional G)."""
        return self._forward(z, labels)[0]

    def grad(self, z: np.ndarray, labels: np.ndarray | None, d_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(images, d loss / d z) for d loss / d images `d_out` (B, 28, 28): backpropagation by hand
        through sigmoid, the transposed convolutions, batch norm's affine map and the ReLUs."""
        out, (a0, a1) = self._forward(z, labels)
        b, w = len(out), self.cfg.g_width
        g = (d_out * out * (1 - out))[..., None]                     # through the sigmoid
        g = self.deconv1.backward(g, 14, 14)                         # (B, 14, 14, w)
        g = g * (a1 > 0) * self.bn1.scale
        g = self.deconv0.backward(g, 7, 7)                           # (B, 7, 7, 2w)
        g = g.transpose(0, 3, 1, 2).reshape(b, 2 * w * 49) * (a0 > 0) * self.bn0.scale
        g = g @ self.project.w.T                                     # (B, in_dim)
        return out, g[:, : self.latent_dim]


def fit_latent(g: GeneratorNet, targets: np.ndarray, labels: np.ndarray, z0: np.ndarray, steps: int,
               lr: float = 0.05, weight: float = 1e-3) -> np.ndarray:
    """One latent (1, latent_dim) whose glyphs look most like `targets` (B, 28, 28): Adam (PyTorch's
    defaults besides lr) on mean squared pixel error + weight * mean(z^2), from z0."""
    z = np.array(z0, F32).reshape(1, -1)
    m, v = np.zeros_like(z), np.zeros_like(z)
    b1, b2, eps = 0.9, 0.999, 1e-8
    n = targets.size
    for t in range(1, steps + 1):
        zz = np.repeat(z, len(targets), axis=0)
        out, _ = g._forward(zz, labels)
        _, gz = g.grad(zz, labels, F32(2.0 / n) * (out - targets))
        grad = gz.sum(0, keepdims=True) + F32(2 * weight / z.size) * z
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        step = lr / (1 - b1 ** t)
        z = (z - step * m / (np.sqrt(v / (1 - b2 ** t)) + eps)).astype(F32)
    return z


class ClassifierNet:
    """letters.classifier.LetterClassifier in eval mode: images -> features -> glyph logits."""

    def __init__(self, cfg: ClassifierConfig, state: State) -> None:
        self.cfg = cfg
        w = cfg.width
        self.blocks = []
        for conv, bn, cin, cout in ((0, 1, 1, w), (3, 4, w, w), (7, 8, w, 2 * w), (10, 11, 2 * w, 2 * w)):
            self.blocks.append((Conv2d(state, f"convs.{conv}", cin, cout, 3, padding=1),
                                BatchNorm(state, f"convs.{bn}", cout)))
        self.feature = Linear(state, "feature.1", 2 * w * 7 * 7, cfg.features)
        self.head = Linear(state, "head.1", cfg.features, cfg.n_classes)

    def features(self, x: np.ndarray) -> np.ndarray:
        """(B, 28, 28) or (B, 1, 28, 28) images in [0, 1] -> (B, features) penultimate activations."""
        x = np.asarray(x, F32)
        if x.ndim == 4:
            x = x[:, 0]
        if x.shape[1:] != (28, 28):
            raise ValueError(f"images are (B, 28, 28), got {x.shape}")
        h = x[..., None]
        for i, (conv, bn) in enumerate(self.blocks):
            h = relu(bn(conv(h)))
            if i in (1, 3):
                h = max_pool2d(h)                                    # (B, 14, 14, w), (B, 7, 7, 2w)
        flat = h.transpose(0, 3, 1, 2).reshape(len(h), -1)           # torch flattens channel-major
        return relu(self.feature(flat))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Images -> (B, n_classes) logits."""
        return self.head(self.features(x))

    def classify(self, images: np.ndarray, batch: int = 1024, classes: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labels, confidences, features) of a stack of images, batched; with `classes`, only the
        first that many glyphs are candidates (letters.classifier.classify)."""
        labels, confs, feats = [], [], []
        for i in range(0, len(images), batch):
            f = self.features(images[i:i + batch])
            logits = self.head(f)[:, :classes]
            logits = logits - logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            labels.append(p.argmax(1))
            confs.append(p.max(1))
            feats.append(f)
        if not labels:
            return np.zeros(0, np.int64), np.zeros(0, F32), np.zeros((0, self.cfg.features), F32)
        return np.concatenate(labels), np.concatenate(confs), np.concatenate(feats)

