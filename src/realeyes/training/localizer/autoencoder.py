"""Autoencoder passes for local AI edits: only the window around the edit region goes through TAEF2 (it is slow)."""

from __future__ import annotations

import numpy as np

from realeyes.training import taesd
from realeyes.training.localizer.regions import MAX_FEATHER_SIGMA

# Context around the region: covers the feathered seam (3 sigma) and gives the encoder some surroundings.
MARGIN = 8 * (int(3 * MAX_FEATHER_SIGMA) // 8 + 3)


class WindowReconstructor:
    """Reconstruct the 8-aligned box around a region with the autoencoder; the rest of the photo is unchanged."""

    def __init__(self, autoencoder: taesd.TinyAutoencoder) -> None:
        self.autoencoder = autoencoder

    def __call__(self, photo: np.ndarray, region: np.ndarray) -> np.ndarray:
        rows, cols = np.nonzero(region)
        top, left = max(0, (rows.min() - MARGIN) // 8 * 8), max(0, (cols.min() - MARGIN) // 8 * 8)
        bottom, right = min(photo.shape[0], rows.max() + MARGIN + 1), min(photo.shape[1], cols.max() + MARGIN + 1)
        content = photo.copy()
        window = np.ascontiguousarray(photo[top:bottom, left:right])
        content[top:bottom, left:right] = taesd.reconstruct(self.autoencoder, window)
        return content
