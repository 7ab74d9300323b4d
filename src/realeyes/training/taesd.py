"""Plain-torch FLUX.2 tiny autoencoder (TAEF2, TAESD family) for synthesising "AI-like" reconstructions of real photos.

Why: passing a real photo through a latent-diffusion style encoder -> decoder keeps its content but leaves the
decoder's fingerprints (8x8 latent grid, upsampling and texture-synthesis traces). Pairs of (real photo,
reconstruction) teach a real-vs-AI classifier to look at those traces instead of at content.

Written from the architecture notes in ``shared/data/weights/taesd/MANIFEST.txt``; module layout and nn.Sequential
indices follow the published state dicts so they load with ``strict=True``. The weights (MIT, (c) Ollin Boer Bohan)
are never copied into this repository: they are read at run time from a directory (see :func:`default_weights_dir`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

ENV_VAR = "REALEYES_TAESD_DIR"
ENCODER_FILE = "taef2_encoder.pth"
DECODER_FILE = "taef2_decoder.pth"
LATENT_CHANNELS = 32
SCALE = 8  # spatial down/up-sampling factor of the autoencoder
WIDTH = 64  # feature channels everywhere inside the networks

__all__ = [
    "DECODER_FILE",
    "ENCODER_FILE",
    "ENV_VAR",
    "Block",
    "Clamp",
    "TinyAutoencoder",
    "build_decoder",
    "build_encoder",
    "default_weights_dir",
    "load_taef2",
    "reconstruct",
]


def _conv(n_in: int, n_out: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    """3x3 'same' convolution, the only spatial operator in TAESD-style networks."""
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class Clamp(nn.Module):
    """Soft clamp of raw latents to (-3, 3): the decoder was trained on latents in that range, and the smooth
    3*tanh(x/3) keeps out-of-range latents from producing blown-out colours while staying ~identity near 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    """Residual block: ``relu(conv3(relu(conv2(relu(conv1(x))))) + skip(x))``.

    With ``pool=True`` (only the FLUX.2 variant, in the lowest-resolution blocks) a GroupNorm branch first adds
    ``x + pool(x)``: the GroupNorm statistics span the whole feature map, which gives these otherwise purely local
    networks a cheap global (image-wide) signal such as overall brightness/colour balance.
    """

    def __init__(self, n_in: int, n_out: int, *, pool: bool = False) -> None:
        super().__init__()
        self.pool: nn.Sequential | None = None
        if pool:
            hidden = 4 * n_in
            self.pool = nn.Sequential(
                nn.Conv2d(n_in, hidden, 1, bias=False),
                nn.GroupNorm(4, hidden),
                nn.ReLU(),
                nn.Conv2d(hidden, n_in, 1, bias=False),
            )
        self.conv = nn.Sequential(_conv(n_in, n_out), nn.ReLU(), _conv(n_out, n_out), nn.ReLU(), _conv(n_out, n_out))
        self.skip: nn.Module = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        out: torch.Tensor = self.fuse(self.conv(x) + self.skip(x))
        return out


def build_encoder(latent_channels: int = LATENT_CHANNELS) -> nn.Sequential:
    """TAEF2 encoder: RGB in [0, 1], (N, 3, H, W) -> raw latents (N, latent_channels, H/8, W/8), roughly in [-3, 3].

    Three stride-2 convolutions each followed by three blocks; the last three (1/8 resolution) carry GroupNorm pools.
    """
    return nn.Sequential(
        _conv(3, WIDTH),
        Block(WIDTH, WIDTH),
        _conv(WIDTH, WIDTH, stride=2, bias=False),
        *(Block(WIDTH, WIDTH) for _ in range(3)),
        _conv(WIDTH, WIDTH, stride=2, bias=False),
        *(Block(WIDTH, WIDTH) for _ in range(3)),
        _conv(WIDTH, WIDTH, stride=2, bias=False),
        *(Block(WIDTH, WIDTH, pool=True) for _ in range(3)),
        _conv(WIDTH, latent_channels),
    )


def build_decoder(latent_channels: int = LATENT_CHANNELS) -> nn.Sequential:
    """TAEF2 decoder: raw latents (N, latent_channels, h, w) -> RGB (N, 3, 8h, 8w), nominally [0, 1] (not clamped).

    Mirror of the encoder: soft clamp, three blocks (with GroupNorm pools) at 1/8 resolution, then three
    nearest-neighbour x2 upsamplings each followed by a convolution and blocks.
    """

    def upsample() -> list[nn.Module]:
        return [nn.Upsample(scale_factor=2, mode="nearest"), _conv(WIDTH, WIDTH, bias=False)]

    return nn.Sequential(
        Clamp(),
        _conv(latent_channels, WIDTH),
        nn.ReLU(),
        *(Block(WIDTH, WIDTH, pool=True) for _ in range(3)),
        *upsample(),
        *(Block(WIDTH, WIDTH) for _ in range(3)),
        *upsample(),
        *(Block(WIDTH, WIDTH) for _ in range(3)),
        *upsample(),
        Block(WIDTH, WIDTH),
        _conv(WIDTH, 3),
    )


class TinyAutoencoder(nn.Module):
    """Encoder + decoder pair; ``forward`` is the full round trip (image in [0, 1] -> reconstruction)."""

    def __init__(self, latent_channels: int = LATENT_CHANNELS) -> None:
        super().__init__()
        self.encoder = build_encoder(latent_channels)
        self.decoder = build_decoder(latent_channels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.encoder(x)
        return out

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.decoder(z)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def default_weights_dir() -> Path:
    """``$REALEYES_TAESD_DIR`` if set, else ``<repo>/../shared/data/weights/taesd`` (the repo's sibling ``shared``)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3]  # src/realeyes/training/taesd.py -> repo root
    return repo.parent / "shared" / "data" / "weights" / "taesd"


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a fp16 state dict (tensors only, hence ``weights_only``) and cast it to float32 for CPU inference."""
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise ValueError(f"{path} is not a state dict of tensors")
    return {str(k): v.to(torch.float32) for k, v in loaded.items()}


def load_taef2(weights_dir: Path | None = None) -> TinyAutoencoder:
    """Build TAEF2 and load ``taef2_encoder.pth`` / ``taef2_decoder.pth`` from ``weights_dir`` (strictly).

    Returns a float32 model in eval mode on the CPU. Raises FileNotFoundError when a weight file is missing.
    """
    directory = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    paths = {name: directory / name for name in (ENCODER_FILE, DECODER_FILE)}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"TAEF2 weights not found: looked for {', '.join(missing)} in {directory}; "
            f"set {ENV_VAR} to the directory holding {ENCODER_FILE} and {DECODER_FILE}"
        )
    model = TinyAutoencoder()
    model.encoder.load_state_dict(_load_state_dict(paths[ENCODER_FILE]), strict=True)
    model.decoder.load_state_dict(_load_state_dict(paths[DECODER_FILE]), strict=True)
    return model.to(torch.float32).eval()


def _tile_spans(cells: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Tiles along one axis of ``cells`` latent cells (8 px each); ``tile`` and ``overlap`` are in cells too.

    Returns ``(start, stop, keep_start, keep_stop)`` per tile: the span to run and the part of its output to keep.
    It uses as few tiles of at most ``tile`` cells as give overlaps of at least ``overlap``, spread evenly with equal
    lengths (1024 px, 512 px tiles, 128 px overlap -> 3 x 432 px rather than 3 x 512 px), so less work is repeated.
    Each tile keeps up to the middle of its overlaps, so every kept position has context on both sides.
    """
    if cells <= tile:
        return [(0, cells, 0, cells)]
    count = -(-(cells - overlap) // (tile - overlap))
    length = -(-(cells + (count - 1) * overlap) // count)
    # consecutive starts differ by the floor or ceil of the mean spacing, which is at most length - overlap
    starts = [i * (cells - length) // (count - 1) for i in range(count)]
    cuts = [0, *((current + previous + length) // 2 for previous, current in itertools.pairwise(starts)), cells]
    return [(start, start + length, cuts[i], cuts[i + 1]) for i, start in enumerate(starts)]


def _run_tiled(
    stage: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, px_in: int, px_out: int, tile: int, overlap: int
) -> torch.Tensor:
    """Apply a purely local ``stage`` to overlapping tiles of ``x`` (1, C, H, W) and stitch the kept parts.

    ``px_in`` / ``px_out`` are the pixels per latent cell at the stage's input / output (8 at image resolution, 1 at
    latent resolution); tiles start and end on the cell grid, so the stitched output keeps one consistent 8x8 grid.
    """
    rows, cols = x.shape[-2] // px_in, x.shape[-1] // px_in
    out: torch.Tensor | None = None
    for y0, y1, ky0, ky1 in _tile_spans(rows, tile, overlap):
        for x0, x1, kx0, kx1 in _tile_spans(cols, tile, overlap):
            # channels-last is ~17% faster for these 64-channel 3x3 convolutions on CPU (oneDNN)
            piece = x[..., y0 * px_in : y1 * px_in, x0 * px_in : x1 * px_in]
            y = stage(piece.contiguous(memory_format=torch.channels_last))
            if out is None:
                out = y.new_empty((*y.shape[:-2], rows * px_out, cols * px_out))
            out[..., ky0 * px_out : ky1 * px_out, kx0 * px_out : kx1 * px_out] = y[
                ..., (ky0 - y0) * px_out : (ky1 - y0) * px_out, (kx0 - x0) * px_out : (kx1 - x0) * px_out
            ]
    if out is None:  # unreachable: _tile_spans always yields at least one tile
        raise ValueError("empty input")
    return out


def _split(network: nn.Sequential, *, after_pools: bool) -> tuple[nn.Sequential, nn.Sequential]:
    """Split before the first (encoder) or after the last (decoder) GroupNorm-pooled block; shares the layers."""
    layers = list(network)
    pooled = [i for i, layer in enumerate(layers) if isinstance(layer, Block) and layer.pool is not None]
    at = (pooled[-1] + 1 if after_pools else pooled[0]) if pooled else len(layers)
    return nn.Sequential(*layers[:at]), nn.Sequential(*layers[at:])


def reconstruct(model: TinyAutoencoder, rgb: np.ndarray, *, tile: int = 512, overlap: int = 128) -> np.ndarray:
    """Encode and decode an RGB uint8 image (H, W, 3); returns an RGB uint8 image of the same size.

    The image is scaled to [0, 1] and reflect-padded (bottom/right) to a multiple of 8. Memory stays bounded by
    running the full-resolution layers in tiles of at most ``tile`` px that overlap by ``overlap`` px (cropped at
    the middle of the overlaps, not blended, so every output pixel is one genuine decoder output).

    Why the split: the GroupNorm pools (1/8 resolution, end of the encoder and start of the decoder) normalise over
    the whole feature map, so naive image tiles would each get their own statistics - per-tile colour shifts of
    1-3/255 and seams, a spurious cue for a classifier. Those layers therefore run once on the whole 1/8-resolution
    map (64 channels, 1/64 of the pixels: cheap), and only the purely local convolutions before and after are tiled.
    The default 128 px overlap gives each kept pixel 64 px of context, about the receptive field of those local
    layers, so the result matches a whole-image pass (measured: off by 1/255 on 0.02% of pixels); 64 px is ~15%
    faster on 1024 px images but leaves faint seams (up to 6/255).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise ValueError(f"expected a non-empty RGB uint8 array of shape (H, W, 3), got {rgb.dtype} {rgb.shape}")
    if tile % SCALE or overlap % SCALE or not 0 <= overlap < tile:
        raise ValueError(f"tile ({tile}) and overlap ({overlap}) must be multiples of {SCALE} with overlap < tile")
    height, width = rgb.shape[:2]
    padded = np.pad(rgb, ((0, -height % SCALE), (0, -width % SCALE), (0, 0)), mode="reflect")
    parameter = next(model.parameters())
    image = torch.from_numpy(padded).permute(2, 0, 1).unsqueeze(0)  # uint8; scaled per tile to save memory
    encoder_local, encoder_rest = _split(model.encoder, after_pools=False)  # full -> 1/8 res | pools + latent conv
    decoder_rest, decoder_local = _split(model.decoder, after_pools=True)  # clamp + pools | 1/8 -> full res
    tiles = {"tile": tile // SCALE, "overlap": overlap // SCALE}

    def encode_head(x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = encoder_local(x.to(device=parameter.device, dtype=parameter.dtype) / 255)
        return out

    with torch.inference_mode():
        features = _run_tiled(encode_head, image, px_in=SCALE, px_out=1, **tiles)
        features = decoder_rest(encoder_rest(features))  # whole 1/8-res map: exact GroupNorm statistics
        decoded = _run_tiled(decoder_local, features, px_in=1, px_out=SCALE, **tiles)
        result = decoded[0].clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(result[:height, :width])
