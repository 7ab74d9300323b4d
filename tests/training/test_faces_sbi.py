"""Self-blended images: the blend stays inside the face mask, and the mask sits where face_crop puts the face."""

from __future__ import annotations

import numpy as np
import pytest

from realeyes.training.faces.sbi import BlendConfig, face_mask, self_blend


def toy_face(seed: int, side: int = 128) -> np.ndarray:
    """A textured background with a skin-coloured ellipse and two dark eyes in the middle."""
    rng = np.random.default_rng(seed)
    image = rng.integers(40, 200, (side, side, 3)).astype(np.uint8)
    y, x = np.mgrid[0:side, 0:side]
    image[((x - side / 2) / 30) ** 2 + ((y - side / 2) / 40) ** 2 < 1] = (200, 160, 130)
    for eye_x in (side / 2 - 12, side / 2 + 12):
        image[(x - eye_x) ** 2 + (y - side / 2 + 8) ** 2 < 16] = (30, 20, 20)
    return image


@pytest.mark.parametrize("seed", range(8))
def test_self_blend_changes_only_pixels_inside_the_mask(seed: int) -> None:
    face = toy_face(seed)
    blended, mask = self_blend(face, np.random.default_rng(seed))
    changed = np.any(blended != face, axis=2)
    assert blended.shape == face.shape and blended.dtype == np.uint8
    assert changed.sum() > 100  # the blend is visible
    assert (mask[changed] > 0).all()


def test_face_mask_covers_the_centre_and_leaves_the_corners() -> None:
    for seed in range(20):
        mask = face_mask(128, BlendConfig(), np.random.default_rng(seed))
        assert mask.dtype == np.float32 and mask.min() >= 0.0 and mask.max() <= 1.0
        assert mask[64, 64] > 0.9
        assert mask[:8, :8].max() == 0.0 and mask[-8:, -8:].max() == 0.0


def test_self_blend_is_reproducible_with_the_same_seed() -> None:
    face = toy_face(0)
    first, _ = self_blend(face, np.random.default_rng(5))
    second, _ = self_blend(face, np.random.default_rng(5))
    third, _ = self_blend(face, np.random.default_rng(6))
    assert np.array_equal(first, second)
    assert not np.array_equal(first, third)
