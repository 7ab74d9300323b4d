"""The localizer network, in plain torch (training only; serving uses the ONNX export).

A small U-Net: the stem reads every pixel of the colours and of fixed noise residuals, which keep the pixel-level
traces (JPEG grid, interpolation, noise) that edits disturb; stride-2 stages reach a coarse resolution for context
(is this patch unlike its surroundings?), and a light decoder with skip connections comes back to the resolution
of the second level; the logits are upsampled bilinearly to the input size. A stride-2 stem (3x3 kernels, so
every pixel still reaches it) makes the network about half as costly as a full-resolution one (bundles <= 0.3).
Any input size works (no padding: each upsampling targets its skip's size). The image score is the mean of the
top 1 % of pixel logits (global_logit), so a tiled image scores like a whole one and no extra head is needed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional

TOP_FRACTION = 0.01  # share of pixels whose logits make the image score
RESIDUAL_TRUNCATION = 3 / 255  # residuals beyond +-3 grey levels are scene edges, not noise: clipped
_SRM_KERNELS = (  # 5x5 "KV" kernel, 3x3 second order, 1-D second order (Fridrich & Kodovsky 2012; RGB-N)
    [[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]],
    [[0, 0, 0, 0, 0], [0, -1, 2, -1, 0], [0, 2, -4, 2, 0], [0, -1, 2, -1, 0], [0, 0, 0, 0, 0]],
    [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, -2, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
)
_SRM_NORMS = (12.0, 4.0, 2.0)
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class LocalizerConfig:
    encoder: tuple[int, ...] = (24, 32, 64, 96, 128)  # channels at 1/2, 1/4, 1/8, 1/16, 1/32 resolution
    decoder: tuple[int, ...] = (64, 32, 24)  # channels back at 1/16, 1/8, 1/4 resolution
    residuals: bool = True  # the stem also sees the fixed SRM residuals (False: colours only, bundles <= 0.2)
    stem_stride: int = 2  # 1: a full-resolution stem (bundles <= 0.3); each level then has twice the resolution

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> LocalizerConfig:
        """The config a checkpoint or card recorded; fields it predates take the values bundles had before them."""
        return cls(
            encoder=tuple(saved["encoder"]),
            decoder=tuple(saved["decoder"]),
            residuals=saved.get("residuals", False),
            stem_stride=saved.get("stem_stride", 1),
        )


def _conv(inputs: int, outputs: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class UpBlock(nn.Module):
    """Upsample coarse features to a skip connection's size and fuse them with it."""

    def __init__(self, coarse: int, skip: int, width: int) -> None:
        super().__init__()
        self.reduce = _conv(coarse, width, kernel=1)  # fewer channels before the (costlier) finer resolution
        self.fuse = _conv(width + skip, width)

    def forward(self, coarse: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = functional.interpolate(self.reduce(coarse), size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return torch.as_tensor(self.fuse(torch.cat([up, skip], dim=1)))


class NoiseResiduals(nn.Module):
    """RGB in [0, 1] -> the luma's three SRM residuals, truncated and scaled to [-1, 1] (fixed, not learned).

    Luma first, then the high-pass kernels with the truncation scale folded in: a third of the multiplications of
    one RGB conv, and no division (this runs at full resolution, in float, when served). The filters are
    constants, rebuilt here, not saved in checkpoints."""

    def __init__(self) -> None:
        super().__init__()
        kernels = torch.tensor(_SRM_KERNELS, dtype=torch.float32) / torch.tensor(_SRM_NORMS)[:, None, None]
        self.luma: torch.Tensor
        self.kernels: torch.Tensor
        self.register_buffer("luma", torch.tensor(_LUMA)[None, :, None, None], persistent=False)
        self.register_buffer("kernels", kernels[:, None] / RESIDUAL_TRUNCATION, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        luma = functional.conv2d(x, self.luma)
        return torch.clamp(functional.conv2d(luma, self.kernels, padding=2), -1.0, 1.0)


class ManipulationLocalizer(nn.Module):
    """RGB in [0, 1] (N, 3, H, W) -> per-pixel manipulation logits (N, 1, H, W)."""

    def __init__(self, config: LocalizerConfig = LocalizerConfig()) -> None:
        super().__init__()
        self.config = config
        widths = config.encoder
        self.residuals = NoiseResiduals() if config.residuals else None
        self.stem = _conv(6 if config.residuals else 3, widths[0], stride=config.stem_stride)
        stages = [_conv(widths[0], widths[1], stride=2)]  # one conv only at the finest stage: its costliest level
        for previous, width in itertools.pairwise(widths[1:]):
            stages.append(nn.Sequential(_conv(previous, width, stride=2), _conv(width, width)))
        self.stages = nn.ModuleList(stages)
        skips = list(reversed(widths[1:-1]))  # every level between the stem's and the coarsest
        coarse = [widths[-1], *config.decoder[:-1]]
        self.up = nn.ModuleList(
            UpBlock(c, skip, width) for c, skip, width in zip(coarse, skips, config.decoder, strict=True)
        )
        self.head = nn.Conv2d(config.decoder[-1], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stem_input = x - 0.5 if self.residuals is None else torch.cat([x - 0.5, self.residuals(x)], dim=1)
        features = [self.stem(stem_input)]
        for stage in self.stages:
            features.append(stage(features[-1]))
        y = features[-1]
        for block, skip in zip(self.up, reversed(features[1:-1]), strict=True):
            y = block(y, skip)
        logits = functional.interpolate(self.head(y), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.as_tensor(logits)


def global_logit(logits: torch.Tensor, fraction: float = TOP_FRACTION) -> torch.Tensor:
    """Image score logits (N,): the mean of the top `fraction` of each image's pixel logits."""
    flat = logits.flatten(1)
    k = max(1, round(flat.shape[1] * fraction))
    return flat.topk(k, dim=1).values.mean(dim=1)
