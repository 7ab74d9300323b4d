"""Synthetic manipulations: every edit kind yields an exact mask, untouched pixels stay untouched."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from realeyes import samples
from realeyes.training.localizer.regions import (
    _DRAW,
    AREA_RANGE,
    MAX_FEATHER_SIGMA,
    SHAPES,
    feathered,
    random_region,
)
from realeyes.training.localizer.synthesis import AUTHENTIC, KINDS, SynthesisConfig, manipulate, synthesize

LOSSLESS = SynthesisConfig(jpeg_probability=0.0)


def fake_autoencoder(photo: np.ndarray, region: np.ndarray) -> np.ndarray:
    """A cheap stand-in for TAEF2: a visible, deterministic change of every pixel."""
    return np.asarray(255 - photo)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return samples.photo_like(256, 192, seed=3)


@pytest.fixture(scope="module")
def donor() -> np.ndarray:
    return samples.photo_like(200, 160, seed=4)  # smaller than the photo: splicing must still work


@pytest.mark.parametrize("seed", range(6))
def test_regions_cover_the_stated_share_of_the_image(seed: int) -> None:
    region = random_region(120, 200, np.random.default_rng(seed))
    assert region.dtype == bool and AREA_RANGE[0] <= region.mean() <= AREA_RANGE[1]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_can_be_drawn(shape: str) -> None:
    rng = np.random.default_rng(1)
    canvas = np.zeros((120, 200), np.uint8)
    _DRAW[shape](canvas, 0.1 * canvas.size, rng)
    assert 0.02 <= canvas.mean() <= 0.3


def test_a_platform_resize_keeps_the_mask_where_the_edit_went(photo: np.ndarray, donor: np.ndarray) -> None:
    config = SynthesisConfig(jpeg_probability=0.0)
    full = synthesize(photo, donor, fake_autoencoder, np.random.default_rng(3), config, "blur")
    half = synthesize(photo, donor, fake_autoencoder, np.random.default_rng(3), config, "blur", (96, 128))
    assert half.rgb.shape == (96, 128, 3) and half.mask.shape == (96, 128)
    expected = cv2.resize(full.mask.astype(np.float32), (128, 96), interpolation=cv2.INTER_AREA) >= 0.5
    assert np.array_equal(half.mask, expected) and half.mask.any()


def test_feathering_leaves_far_pixels_at_exactly_zero() -> None:
    region = np.zeros((64, 64), bool)
    region[24:40, 24:40] = True
    weight = feathered(region, 2.0)
    assert weight[:10].max() == 0.0 and weight[32, 32] == pytest.approx(1.0, abs=1e-3)
    assert 0.0 < weight[32, 23] < 1.0  # the seam is soft


@pytest.mark.parametrize("kind", KINDS)
def test_each_edit_changes_exactly_the_pixels_its_mask_claims(kind: str, photo: np.ndarray, donor: np.ndarray) -> None:
    edited, mask = manipulate(photo, kind, donor, fake_autoencoder, np.random.default_rng(7), hard_seam_probability=1.0)
    changed = (edited != photo).any(axis=2)
    # Hard seams: the mask is precisely the set of changed pixels, and the edit is substantial.
    assert mask.any() and np.array_equal(mask, changed)
    assert np.abs(edited.astype(int) - photo)[mask].mean() >= 2.0


@pytest.mark.parametrize("kind", KINDS)
def test_feathered_edits_touch_nothing_beyond_the_seam(kind: str, photo: np.ndarray, donor: np.ndarray) -> None:
    edited, mask = manipulate(photo, kind, donor, fake_autoencoder, np.random.default_rng(8), hard_seam_probability=0)
    changed = (edited != photo).any(axis=2)
    assert mask.any() and not (mask & ~changed).any()  # every masked pixel changed
    # Changes outside the mask are the seam's soft edge: within 3 sigma of the mask, nowhere else.
    reach = 2 * math.ceil(3 * MAX_FEATHER_SIGMA) + 1
    seam = cv2.dilate(mask.astype(np.uint8), np.ones((reach, reach), np.uint8)).astype(bool)
    assert not (changed & ~seam).any()


def test_authentic_images_get_the_same_recompression_and_an_empty_mask(photo: np.ndarray) -> None:
    config = SynthesisConfig(jpeg_probability=1.0, jpeg_quality=(70, 70))
    made = synthesize(photo, photo, fake_autoencoder, np.random.default_rng(0), config, AUTHENTIC)
    edited = synthesize(photo, photo, fake_autoencoder, np.random.default_rng(0), config, "blur")
    assert not made.mask.any() and made.compression == edited.compression == "jpeg70"
    assert not np.array_equal(made.rgb, photo)  # recompressed, not passed through


def test_synthesis_is_deterministic_for_a_seed(photo: np.ndarray, donor: np.ndarray) -> None:
    first = synthesize(photo, donor, fake_autoencoder, np.random.default_rng(5), LOSSLESS)
    second = synthesize(photo, donor, fake_autoencoder, np.random.default_rng(5), LOSSLESS)
    assert first.kind == second.kind and np.array_equal(first.rgb, second.rgb)
    assert np.array_equal(first.mask, second.mask)
