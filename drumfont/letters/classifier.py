"""A small CNN that names the letter in a 28×28 image: the GAN's mode-coverage judge.

Its penultimate layer is the feature space of the Fréchet distance, KID, precision/recall and
density/coverage figures, so it plays the role Inception plays for ImageNet GANs.
"""

from __future__ import annotations

import torch
from torch import nn

from drumfont.checkpoint import build_model
from drumfont.letters.nets import ClassifierConfig
from drumfont.nn import preset as presets
from drumfont.paths import preset_path

__all__ = ["ClassifierConfig", "LetterClassifier", "classify", "load_classifier"]


class LetterClassifier(nn.Module):
    """conv-conv-pool ×2, then a feature layer and the class logits."""

    def __init__(self, cfg: ClassifierConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.convs = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),      # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),  # (B, 2w, 7, 7)
        )
        self.feature = nn.Sequential(nn.Flatten(), nn.Linear(2 * w * 7 * 7, cfg.features), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.features, cfg.n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) or (B, 1, 28, 28) images in [0, 1] -> (B, features) penultimate activations."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        return self.feature(self.convs(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> (B, n_classes) logits."""
        return self.head(self.features(x))


@torch.no_grad()
def classify(model: LetterClassifier, images: torch.Tensor, batch: int = 1024,
             classes: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(labels, confidences, features) of a stack of images, in eval mode, batched. With
    `classes`, only the first that many glyphs are candidates (26: read as a letter, as the
    letters-only GAN's coverage figures need)."""
    was = model.training
    model.eval()
    labels, confs, feats = [], [], []
    for i in range(0, len(images), batch):
        f = model.features(images[i:i + batch])
        p = torch.softmax(model.head(f)[:, :classes], dim=1)
        c, l = p.max(dim=1)
        labels.append(l)
        confs.append(c)
        feats.append(f)
    model.train(was)
    if not labels:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0), torch.zeros(0, model.cfg.features)
    return torch.cat(labels), torch.cat(confs), torch.cat(feats)


def load_classifier(path=None) -> tuple[LetterClassifier, dict]:
    """(the torch LetterClassifier in eval mode, checkpoint dict); the shipped preset by default.
    For training and reports; what plays uses letters.engine.load_classifier (numpy)."""
    path = path or preset_path("letter_classifier.safetensors")
    blob = presets.load(path, "letter_classifier")
    return build_model(blob, LetterClassifier, ClassifierConfig, path), blob
