"""Copy-move search: a copied region is found where it was pasted (and where it came from); nothing else is."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from realeyes import samples
from realeyes.analyzers._copy_move import find_duplicates


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A photo-like image with fine texture everywhere (keypoints need detail, as real photos have)."""
    grain = np.random.default_rng(11).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(grain, (0, 0), 1.5).astype(np.float32)
    mixed = 0.5 * samples.photo_like(320, 240, seed=11) + 0.5 * texture
    return np.asarray(np.clip(np.round(mixed), 0, 255), dtype=np.uint8)


def union(rgb: np.ndarray) -> np.ndarray:
    found = np.zeros(rgb.shape[:2], bool)
    for duplicate in find_duplicates(rgb):
        found |= duplicate.region
    return found


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_a_moved_block_is_found_at_its_copy_and_its_source(photo: np.ndarray) -> None:
    forged = photo.copy()
    forged[140:220, 200:290] = photo[20:100, 30:120]
    target, source = np.zeros(photo.shape[:2], bool), np.zeros(photo.shape[:2], bool)
    target[140:220, 200:290] = True
    source[20:100, 30:120] = True
    found = union(forged)
    assert iou(found, target | source) > 0.6
    assert not (found & ~cv2.dilate((target | source).astype(np.uint8), np.ones((15, 15))).astype(bool)).any()


def test_a_rotated_and_rescaled_copy_is_found(photo: np.ndarray) -> None:
    patch = np.ascontiguousarray(photo[10:170, 20:180])
    turned = cv2.warpAffine(patch, cv2.getRotationMatrix2D((80, 80), 20, 1.1), (160, 160), flags=cv2.INTER_CUBIC)
    forged = photo.copy()
    inner = (slice(130, 230), slice(200, 300))
    forged[inner] = turned[30:130, 30:130]  # the rotated patch's centre: no black corners
    target = np.zeros(photo.shape[:2], bool)
    target[inner] = True
    found = union(forged)
    assert (found & target).sum() > 0.5 * target.sum()


def test_an_untouched_photo_and_a_flat_image_have_no_duplicates(photo: np.ndarray) -> None:
    assert find_duplicates(photo) == []
    assert find_duplicates(np.full((64, 64, 3), 128, np.uint8)) == []


def test_vectorised_matching_keeps_the_pairs_of_a_brute_force_g2nn_search() -> None:
    from realeyes.analyzers._copy_move import MIN_SHIFT, RATIO, _g2nn_pairs

    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 128)).astype(np.float32)
    # Near-copies of a few descriptors make clear matches; the rest are ambiguous or far.
    descriptors = np.vstack([base, base[:10] + rng.normal(scale=0.05, size=(10, 128)).astype(np.float32)])
    points = rng.uniform(0, 400, size=(50, 2)).astype(np.float32)
    expected = set()
    for index, candidates in enumerate(cv2.BFMatcher(cv2.NORM_L2).knnMatch(descriptors, descriptors, k=4)):
        others = [m for m in candidates if m.trainIdx != index]
        for match, following in itertools.pairwise(others):
            if match.distance >= RATIO * following.distance:
                break
            if np.linalg.norm(points[index] - points[match.trainIdx]) > MIN_SHIFT:
                expected.add((index, match.trainIdx))
    source, target = _g2nn_pairs(descriptors, points)
    index_of = {tuple(point): i for i, point in enumerate(points.tolist())}
    found = {(index_of[tuple(s)], index_of[tuple(t)]) for s, t in zip(source.tolist(), target.tolist(), strict=True)}
    assert found == expected and len(expected) >= 10
