"""Frequency spectrum: generators' up-sampling layers leave periodic peaks in the Fourier power spectrum."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import scipy.fft

from realeyes.analyzers._registry import register
from realeyes.analyzers._scoring import UNCALIBRATED_WEIGHT, provisional_score
from realeyes.analyzers.base import Analyzer, Evidence, Map
from realeyes.imaging import to_luma
from realeyes.media import Media

_TILE = 512
_MIN_TILE = 64
_MAX_TILES = 4
_RADIAL_BINS = 32
_LOW_FREQUENCY = 0.06  # cycles/pixel below which image content, not processing, dominates
_PEAKS_REPORTED = 5


@register
class SpectrumAnalyzer(Analyzer):
    """Log-magnitude FFT spectrum and periodic up-sampling peaks."""

    name = "spectrum"
    version = "1.1"  # 1.1: the summary no longer claims a weight (the verdict's own is on the evidence)

    def analyze(self, media: Media) -> Evidence:
        rgb = media.pixels
        log_power = average_log_power(rgb)
        grid = _grid(log_power.shape[0])
        residual = log_power - cv2.blur(log_power, (9, 9), borderType=cv2.BORDER_REFLECT)
        candidates = grid.candidates_jpeg if media.format.name == "jpeg" else grid.candidates
        peak_db = float(residual[candidates].max()) if candidates.any() else 0.0
        details = {
            "tile_size": log_power.shape[0],
            "peak_to_background_db": round(peak_db, 2),
            "jpeg_grid_peak_db": round(float(residual[grid.jpeg_grid].max(initial=0.0)), 2),
            "strongest_peaks": _strongest_peaks(residual, candidates & grid.upper_half, grid),
            "radial_profile_db": radial_profile(log_power, grid),
        }
        score = provisional_score(peak_db, centre=22.0, spread=3.0)
        strength = "strong" if score > 0.6 else "no strong"
        return self.evidence(
            score=score,
            weight=UNCALIBRATED_WEIGHT,
            label="ai-generated",
            details=details,
            maps={"spectrum": Map(_display(log_power), spatial=False)},
            summary=f"Spectrum shows {strength} periodic peaks (peak {peak_db:.1f} dB over background; uncalibrated).",
        )


def average_log_power(rgb: np.ndarray) -> np.ndarray:
    """Mean power spectrum (dB, zero frequency centred) of up to four Hann-windowed luma tiles."""
    tile = max(_MIN_TILE, min(_TILE, *rgb.shape[:2]) // 2 * 2)
    window = _window(tile)
    origins = _tile_origins(rgb.shape[:2], tile)
    power = np.zeros((tile, tile), dtype=np.float32)
    for top, left in origins:
        luma = to_luma(rgb[top : top + tile, left : left + tile])
        if luma.shape != (tile, tile):  # images smaller than the minimum tile are padded by reflection
            luma = np.pad(luma, [(0, tile - luma.shape[0]), (0, tile - luma.shape[1])], mode="reflect")
        power += power_spectrum((luma - luma.mean()) * window)
    return np.asarray(10.0 * np.log10(scipy.fft.fftshift(power / len(origins)) + 1e-6), dtype=np.float32)


def power_spectrum(tile: np.ndarray) -> np.ndarray:
    """|FFT|^2 of a real square tile of even side, from the half spectrum (a quarter of fft2's work): a real
    image's power is symmetric, P[-u, -v] = P[u, v]."""
    size = tile.shape[0]
    half = scipy.fft.rfft2(tile, workers=1)
    half_power = half.real**2 + half.imag**2
    power = np.empty((size, size), dtype=half_power.dtype)
    power[:, : size // 2 + 1] = half_power
    mirrored_rows = (-np.arange(size)) % size
    power[:, size // 2 + 1 :] = half_power[mirrored_rows, 1 : size // 2][:, ::-1]
    return power


def _tile_origins(shape: tuple[int, int], tile: int) -> list[tuple[int, int]]:
    """Up to _MAX_TILES tile corners spread evenly over the image."""
    height, width = shape
    rows = np.linspace(0, max(height - tile, 0), 2 if height >= 2 * tile else 1).astype(int)
    cols = np.linspace(0, max(width - tile, 0), 2 if width >= 2 * tile else 1).astype(int)
    return [(int(r), int(c)) for r in rows for c in cols][:_MAX_TILES]


@lru_cache(maxsize=8)
def _window(size: int) -> np.ndarray:
    return np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)


class _FrequencyGrid:
    """Per-size frequency coordinates and masks, computed once per tile size."""

    def __init__(self, size: int) -> None:
        axis = scipy.fft.fftshift(scipy.fft.fftfreq(size)).astype(np.float32)
        self.fy, self.fx = np.meshgrid(axis, axis, indexing="ij")
        radius = np.hypot(self.fy, self.fx)
        self.radial_bin = np.minimum((radius / 0.5 * _RADIAL_BINS).astype(np.int64), _RADIAL_BINS).ravel()
        self.radial_count = np.maximum(np.bincount(self.radial_bin, minlength=_RADIAL_BINS + 1), 1)
        # Up-sampling peaks: beyond the low band and off the axes (where image borders leak energy).
        self.candidates = (radius > _LOW_FREQUENCY) & (np.abs(self.fy) > 1.5 / size) & (np.abs(self.fx) > 1.5 / size)

        # JPEG's 8x8 blocks put peaks at k/8 cycles/pixel in both directions: excluded for JPEG inputs.
        def near_grid(f: np.ndarray) -> np.ndarray:
            return np.asarray(np.abs(f * 8 - np.round(f * 8)) * size < 12)

        self.jpeg_grid = near_grid(self.fy) & near_grid(self.fx) & (radius > _LOW_FREQUENCY)
        self.candidates_jpeg = self.candidates & ~self.jpeg_grid
        self.upper_half = self.fy >= 0  # the spectrum of a real image is symmetric


@lru_cache(maxsize=8)
def _grid(size: int) -> _FrequencyGrid:
    return _FrequencyGrid(size)


def _strongest_peaks(residual: np.ndarray, mask: np.ndarray, grid: _FrequencyGrid) -> list[dict[str, float]]:
    values = np.where(mask, residual, -np.inf).ravel()
    top = np.argpartition(values, -_PEAKS_REPORTED)[-_PEAKS_REPORTED:]
    top = top[np.argsort(values[top])[::-1]]
    return [
        {
            "fy": round(float(grid.fy.flat[i]), 4),
            "fx": round(float(grid.fx.flat[i]), 4),
            "db": round(float(values[i]), 2),
        }
        for i in top
        if np.isfinite(values[i])
    ]


def radial_profile(log_power: np.ndarray, grid: _FrequencyGrid) -> list[float]:
    """Azimuthally averaged power (dB) in equal radial bins from zero to the Nyquist frequency."""
    sums = np.bincount(grid.radial_bin, weights=log_power.ravel(), minlength=_RADIAL_BINS + 1)
    return [round(float(value), 2) for value in (sums / grid.radial_count)[:_RADIAL_BINS]]


def _display(log_power: np.ndarray) -> np.ndarray:
    flat = log_power.ravel()
    low = float(np.partition(flat, flat.size // 100)[flat.size // 100])
    high = float(flat.max())
    return np.clip((log_power - low) / max(high - low, 1e-6), 0.0, 1.0).astype(np.float32)
