"""Copy-move search: regions of an image that repeat another region of it, pixel for pixel, after a move, a
rotation or a rescale (the classic keypoint method: Amerini et al. 2011, with a dense check).

SIFT keypoints are found on a small copy (the cost stays flat whatever the image size) and matched against the
image itself; a match must clearly beat the next candidate (g2NN) and join points at least MIN_SHIFT apart.
RANSAC fits an affine transform to the matches, and the dense check keeps only the pixels where the image and its
transformed copy correlate almost perfectly (two genuinely similar objects, two cans on a shelf, differ in noise
and light; a copied region does not), in connected regions that hold the transform's matched points. Each round
removes the matches it explained, so a copy and its source are found as two duplicates, one per direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 256  # keypoints are searched on a copy of at most this side
MAX_KEYPOINTS = 1000
OCTAVE_LAYERS = 3
CONTRAST = 0.02  # lower than SIFT's default 0.04: copies of low-contrast texture need keypoints too
MIN_SHIFT = 24.0  # px: closer matches are the same structure seen twice by the detector, not a copy
RATIO = 0.6  # g2NN: a match must be this much closer than the next candidate
MIN_MATCHES = 6
ROUNDS = 2
CORRELATION = 0.9  # local correlation with the transformed copy that counts as "the same pixels"
MIN_VARIANCE = 4.0  # flat areas correlate with anything: ignored
WINDOW_SIGMA = 3.0


@dataclass(frozen=True)
class Duplicate:
    region: np.ndarray  # bool, the pixels that repeat others after `transform`
    transform: np.ndarray  # 2x3 affine: from where the content also is to this region
    matches: int  # keypoint pairs consistent with the transform
    correlation: np.ndarray  # float32 local correlation with the transformed copy (the dense check)


def find_duplicates(rgb: np.ndarray) -> list[Duplicate]:
    """The repeated regions of `rgb` (uint8 RGB); empty when nothing repeats."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    source, target = _matched_points(grey)
    duplicates: list[Duplicate] = []
    for _ in range(ROUNDS):
        if len(source) < MIN_MATCHES:
            break
        transform, inliers = cv2.estimateAffine2D(source, target, ransacReprojThreshold=3.0)
        if transform is None or int(inliers.sum()) < MIN_MATCHES:
            break
        explained = inliers.ravel().astype(bool)
        correlation = _correlation(grey, transform)
        region = _verified_region(correlation, grey, target[explained])
        if region.any():
            duplicates.append(Duplicate(region, transform, int(explained.sum()), correlation))
        source, target = source[~explained], target[~explained]
    return duplicates


def _matched_points(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) point pairs in `grey`'s pixels whose descriptors match (each pair in both directions)."""
    factor = min(1.0, WORK_SIDE / max(grey.shape))
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else grey
    detector = cv2.SIFT_create(  # type: ignore[attr-defined]
        nfeatures=MAX_KEYPOINTS, nOctaveLayers=OCTAVE_LAYERS, contrastThreshold=CONTRAST
    )
    keypoints, descriptors = detector.detectAndCompute(small, None)
    empty = np.zeros((0, 2), np.float32)
    if descriptors is None or len(keypoints) < MIN_MATCHES:
        return empty, empty
    points = np.array([k.pt for k in keypoints], np.float32) / factor
    return _g2nn_pairs(descriptors, points)


def _g2nn_pairs(descriptors: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every keypoint's matches among its three nearest others, in order of distance, up to the first that is not
    clearly closer than the next (g2NN), kept when the two points are more than MIN_SHIFT apart."""
    features = descriptors.astype(np.float32)
    norms = np.einsum("ij,ij->i", features, features)
    squared = norms[:, None] + norms[None, :] - 2.0 * (features @ features.T)  # squared distances: same order
    np.fill_diagonal(squared, np.inf)
    nearest = np.argpartition(squared, 2, axis=1)[:, :3]
    nearest = np.take_along_axis(nearest, np.argsort(np.take_along_axis(squared, nearest, 1), axis=1), 1)
    ordered = np.sqrt(np.maximum(np.take_along_axis(squared, nearest, 1), 0.0))
    clear = np.cumprod(ordered[:, :-1] < RATIO * ordered[:, 1:], axis=1).astype(bool)
    rows, ranks = np.nonzero(clear)
    source, target = points[rows], points[nearest[rows, ranks]]
    apart = np.linalg.norm(source - target, axis=1) > MIN_SHIFT
    return source[apart], target[apart]


def _correlation(grey: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Local (Gaussian-window) correlation between the image and its copy moved by `transform`."""
    image = grey.astype(np.float32)
    moved = cv2.warpAffine(image, transform, image.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=0)

    def local(values: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.GaussianBlur(values, (0, 0), WINDOW_SIGMA))

    mean_image, mean_moved = local(image), local(moved)
    var_image = local(image * image) - mean_image**2
    var_moved = local(moved * moved) - mean_moved**2
    covariance = local(image * moved) - mean_image * mean_moved
    correlation = covariance / np.sqrt(np.maximum(var_image * var_moved, 1e-6))
    textured = (var_image > MIN_VARIANCE) & (var_moved > MIN_VARIANCE)
    return np.where(textured, correlation, 0.0).astype(np.float32)


def _verified_region(correlation: np.ndarray, grey: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The near-perfectly correlated pixels, cleaned, in the connected regions that hold matched points."""
    same = (correlation > CORRELATION).astype(np.uint8)
    opened = cv2.morphologyEx(same, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    _, labels = cv2.connectedComponents(closed)
    rows = np.clip(points[:, 1].astype(int), 0, grey.shape[0] - 1)
    cols = np.clip(points[:, 0].astype(int), 0, grey.shape[1] - 1)
    kept = np.setdiff1d(np.unique(labels[rows, cols]), [0])
    return np.isin(labels, kept)
