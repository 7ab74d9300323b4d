"""The real-vs-AI classifier architecture, in plain torch (training only; serving uses the ONNX export).

Generators up-sample latents with learned convolutions, which leaves fixed relationships between neighbouring
pixels. The network therefore looks at neighbouring-pixel residuals (as NPR does), not at image content: each
pixel minus the top-left pixel of its 2x2 cell. The body is a small strided CNN, fully convolutional, so it runs
on crops of any size, and ends in global average pooling.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional


@dataclass(frozen=True)
class ClassifierConfig:
    widths: tuple[int, ...] = (24, 32, 64, 96)  # channels of the stem and of each stride-2 stage
    residual_gain: float = 4.0  # residuals are small; scale them into a range BatchNorm likes from step one


def neighbour_residual(x: torch.Tensor) -> torch.Tensor:
    """x minus its nearest-neighbour 2x down-and-up-sampled copy (x in [0, 1], even height and width)."""
    coarse = x[:, :, ::2, ::2]
    return x - coarse.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def _conv(inputs: int, outputs: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


def strided_body(widths: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    """A stride-2 stem, then per width a stride-2 and a stride-1 convolution; returns it and its output width."""
    stem, *stages = widths
    layers = [_conv(3, stem, stride=2)]
    previous = stem
    for width in stages:
        layers += [_conv(previous, width, stride=2), _conv(width, width, stride=1)]
        previous = width
    return nn.Sequential(*layers), previous


class ResidualClassifier(nn.Module):
    """Neighbouring-pixel residuals -> strided CNN -> one logit (positive = AI-generated)."""

    def __init__(self, config: ClassifierConfig = ClassifierConfig()) -> None:
        super().__init__()
        self.config = config
        self.body, previous = strided_body(config.widths)
        self.head = nn.Linear(previous, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.body(neighbour_residual(x) * self.config.residual_gain)
        return torch.as_tensor(self.head(functional.adaptive_avg_pool2d(features, 1).flatten(1)))
