"""The coder network: per-pixel discretised-logistic parameters of a 2x2 phase from the half-resolution image."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

from realeyes.models.coding_cost import IN_CHANNELS

LOG_255 = math.log(255.0)
# Predicted scales between 0.05 and 255 grey levels (normalised units: divided by 255).
LOG_SCALE_RANGE = (math.log(0.05) - LOG_255, 0.0)


class Coder(nn.Module):
    """A few 3x3 convolutions at half resolution; the mean is predicted as a correction of the block mean."""

    def __init__(self, width: int = 24, depth: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(IN_CHANNELS, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        head = nn.Conv2d(width, 2, 1)
        with torch.no_grad():  # start from a plausible prediction: the block mean, give or take 4 grey levels
            head.weight.mul_(0.1)
            head.bias.copy_(torch.tensor([0.0, math.log(4.0) - LOG_255]))  # type: ignore[union-attr]
        self.net = nn.Sequential(*layers, head)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 6, H, W) inputs -> (N, 2, H, W): mean and log scale, both in normalised units."""
        out = self.net(image)
        mean = image[:, :1] + out[:, :1]
        log_scale = out[:, 1:].clamp(*LOG_SCALE_RANGE)
        return torch.cat([mean, log_scale], dim=1)


def nll_bits(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-pixel -log2 P(target) for integer targets 0..255 (N, H, W); the same likelihood as the numpy coder."""
    mean = (outputs[:, 0] + 0.5) * 255.0
    scale = torch.exp(outputs[:, 1] + LOG_255)
    upper = (targets + 0.5 - mean) / scale
    lower = (targets - 0.5 - mean) / scale
    log_cdf_upper = torch.where(targets >= 255, torch.zeros_like(upper), functional.logsigmoid(upper))
    log_cdf_lower = functional.logsigmoid(lower)
    gap = (log_cdf_lower - log_cdf_upper).clamp(max=-1e-6)
    log_p = log_cdf_upper + torch.log(-torch.expm1(gap))
    log_p = torch.where(targets <= 0, log_cdf_upper, log_p)
    return -log_p / math.log(2.0)
