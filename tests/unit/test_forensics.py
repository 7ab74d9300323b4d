"""Forensic views respond to the traces they are built for: periodic spectra, recompression, noise mismatch."""

from __future__ import annotations

import io

import numpy as np
import pytest
import scipy.fft
from PIL import Image

from realeyes import samples
from realeyes.analyzers import create
from realeyes.analyzers.ela import jpeg_round_trip
from realeyes.analyzers.spectrum import power_spectrum
from realeyes.media import load_media


@pytest.fixture(scope="module")
def base() -> np.ndarray:
    return samples.photo_like(512, 512, seed=11)


def analyze(name: str, data: bytes):  # type: ignore[no-untyped-def]
    return create(name).analyze(load_media(data))


def test_spectrum_finds_a_checkerboard_up_sampling_artifact(base: np.ndarray) -> None:
    # Transposed convolutions leave a faint checkerboard: a copy of the spectrum shifted to (0.5, 0.5).
    y, x = np.mgrid[0:512, 0:512]
    checkered = np.clip(base * (1 + 0.04 * (-1.0) ** (x + y))[:, :, None], 0, 255).astype(np.uint8)
    clean = analyze("spectrum", samples.png_bytes(base))
    artifact = analyze("spectrum", samples.png_bytes(checkered))
    assert artifact.details["peak_to_background_db"] > clean.details["peak_to_background_db"] + 10
    assert artifact.score is not None and clean.score is not None and artifact.score > clean.score
    top = artifact.details["strongest_peaks"][0]
    assert abs(abs(top["fy"]) - 0.5) < 0.01 and abs(abs(top["fx"]) - 0.5) < 0.01


@pytest.mark.parametrize("size", [64, 130, 512])
def test_the_power_spectrum_from_the_half_spectrum_is_the_full_ones(size: int) -> None:
    tile = np.random.default_rng(size).normal(size=(size, size)).astype(np.float32)
    full = np.abs(scipy.fft.fft2(tile)) ** 2
    assert np.allclose(power_spectrum(tile), full, rtol=1e-4, atol=1e-6 * full.max())


@pytest.mark.parametrize(("height", "width"), [(1, 1), (7, 13), (31, 17), (64, 64), (333, 501)])
def test_the_jpeg_round_trip_gives_pillows_pixels(height: int, width: int) -> None:
    rgb = samples.photo_like(max(height, 32), max(width, 32), seed=height)[:height, :width]
    rgb[::3] = np.random.default_rng(width).integers(0, 256, rgb[::3].shape, dtype=np.uint8)  # noise too
    for quality in (75, 90):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
        assert np.array_equal(jpeg_round_trip(rgb, quality), np.asarray(Image.open(buffer).convert("RGB")))


def test_spectrum_ignores_the_jpeg_block_grid(base: np.ndarray) -> None:
    evidence = analyze("spectrum", samples.jpeg_bytes(base, quality=60))
    assert evidence.details["jpeg_grid_peak_db"] > evidence.details["peak_to_background_db"]
    assert evidence.score is not None and evidence.score < 0.5


def test_spectrum_radial_profile_has_one_value_per_bin(base: np.ndarray) -> None:
    profile = analyze("spectrum", samples.png_bytes(base)).details["radial_profile_db"]
    assert len(profile) == 32 and profile[0] > profile[-1]  # natural images lose power with frequency


def test_ela_highlights_a_region_that_was_never_compressed(base: np.ndarray) -> None:
    compressed = np.asarray(Image.open(io.BytesIO(samples.jpeg_bytes(base, quality=75))).convert("RGB")).copy()
    compressed[128:256, 128:256] = base[128:256, 128:256]  # paste an uncompressed patch
    evidence = analyze("ela", samples.png_bytes(compressed))
    ela = evidence.maps["ela"].values  # one value per 8x8 block
    inside, outside = ela[16:32, 16:32].mean(), np.delete(ela, np.s_[15:33], axis=0).mean()
    assert inside > 2 * outside
    assert evidence.details["inconsistency"] > analyze("ela", samples.png_bytes(base)).details["inconsistency"]


def test_noise_map_and_statistics_find_a_noisier_patch(base: np.ndarray) -> None:
    tampered = base.astype(np.float32)
    tampered[256:448, 64:256] += np.random.default_rng(0).normal(0, 12, size=(192, 192, 3))
    tampered_bytes = samples.png_bytes(np.clip(tampered, 0, 255).astype(np.uint8))
    clean, noisy = analyze("noise", samples.png_bytes(base)), analyze("noise", tampered_bytes)
    noise_map = noisy.maps["noise"].values  # 1/4 resolution of the 512 px image
    assert noise_map[64:112, 16:64].mean() > 2 * noise_map[:48, 64:].mean()
    assert noisy.details["outlier_block_fraction"] > clean.details["outlier_block_fraction"]
    assert noisy.score is not None and clean.score is not None and noisy.score > clean.score


@pytest.mark.parametrize("name", ["spectrum", "ela", "noise"])
def test_uncalibrated_views_never_sound_confident(base: np.ndarray, name: str) -> None:
    evidence = analyze(name, samples.png_bytes(base))
    assert evidence.weight <= 0.1
    assert evidence.score is None or 0.3 <= evidence.score <= 0.7
