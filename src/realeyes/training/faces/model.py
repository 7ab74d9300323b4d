"""The face-forgery CNN, in plain torch (training only; serving uses the ONNX export).

Blending seams are local evidence along the face border, so the body is a plain strided CNN (no pre-trained
backbone: nothing may be downloaded) that ends in global average pooling, so a seam anywhere in the crop counts.
It is small (~0.97M parameters: a batch of eight 128 px crops takes about 18 ms on one ONNX Runtime thread); a
full-resolution stem cost five times as much.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional

from realeyes.training.model import strided_body


@dataclass(frozen=True)
class FaceNetConfig:
    widths: tuple[int, ...] = (24, 48, 96, 128, 192)  # the stem, then one stride-2 stage each
    dropout: float = 0.2


class FaceForgeryNet(nn.Module):
    """RGB / 255 face crop -> strided CNN -> one logit (positive = blended / manipulated face)."""

    def __init__(self, config: FaceNetConfig = FaceNetConfig()) -> None:
        super().__init__()
        self.config = config
        self.body, previous = strided_body(config.widths)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(previous, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.body(x * 2.0 - 1.0)
        pooled = functional.adaptive_avg_pool2d(features, 1).flatten(1)
        return torch.as_tensor(self.head(self.dropout(pooled)))
