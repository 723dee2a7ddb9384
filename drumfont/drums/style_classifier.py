"""Genre classifier on 16x9 hit grids, for evaluation only (classifier agreement, transfer
success). It is trained on its own and never used to train the VAE."""

from __future__ import annotations

import torch
import torch.nn as nn

from drumfont.drums.nets import StyleClassifierConfig

__all__ = ["StyleClassifier", "StyleClassifierConfig"]


class StyleClassifier(nn.Module):
    """Two 1-D convolutions over the steps, pooled over time, then a linear layer to genre logits."""

    def __init__(self, cfg: StyleClassifierConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.net = nn.Sequential(
            nn.Conv1d(cfg.voices, c, 3, padding=1), nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=1), nn.ReLU(),
        )
        # Mean- and max-pool over time keep where-in-the-bar information only through the
        # convolutions; a flat linear layer on all 16 steps as well keeps exact positions.
        self.pos = nn.Linear(cfg.steps * cfg.voices, c)
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(3 * c, cfg.n_genres))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Genre logits (B, n_genres) of hit grids x (B, 16, 9)."""
        h = self.net(x.transpose(1, 2))  # (B, c, 16)
        feats = torch.cat([h.mean(-1), h.amax(-1), torch.relu(self.pos(x.flatten(1)))], dim=-1)
        return self.head(feats)
