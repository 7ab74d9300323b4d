"""Autoencoder reconstruction distance (AEROBLADE's idea, Ricker et al., CVPR 2024): a benchmark entry only.

A latent-diffusion image was decoded by an autoencoder in the first place, so encoding and decoding it again
changes it less than it changes a real photo. The autoencoder here is TAEF2, the FLUX.2 tiny autoencoder of
../shared/data/weights/taesd (`training/taesd.py`); the distance is measured in pixels (AEROBLADE's LPIPS needs VGG
weights we do not have). Those weights were not trained here, so the product may not ship them: this detector is
scored on the benchmark to say whether the idea holds on unseen sources, and is never fused or served.

The distance is chosen on the validation set (`validation.py`) before any benchmark source is scored; the scores
live in their own file beside the engine's (RECONSTRUCTION_FILE), so rescoring the served analyzers keeps them.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from realeyes.training.generalisation import launder
from realeyes.training.generalisation.catalog import BenchImage
from realeyes.training.generalisation.scores import condition_inputs
from realeyes.training.generalisation.validation import VALIDATION_SOURCES, ValidationSet, validation_set
from realeyes.training.pipeline import PipelineError

log = logging.getLogger(__name__)

COLUMN = "score_reconstruction"
RECONSTRUCTION_FILE = "reconstruction.csv"
CHOICE_FILE = "reconstruction.json"
WEIGHTS = "weights/taesd"  # under the data folder
CROP = 256
LUMA = np.array([0.299, 0.587, 0.114])  # BT.601, as imaging.to_luma, in double precision (the cached scores)


# Candidate distances between a crop's luma and its reconstruction's (0-255): the validation set picks one.
DISTANCES: dict[str, Callable[[np.ndarray], float]] = {
    "luma MAE": lambda diff: float(np.mean(np.abs(diff))),
    "luma RMSE": lambda diff: float(np.sqrt(np.mean(diff**2))),
    "high-frequency MAE": lambda diff: float(np.mean(np.abs(diff - cv2.blur(diff, (3, 3))))),
}


def centre_crop(rgb: np.ndarray, side: int = CROP) -> np.ndarray:
    """The central square of `side` px, or the largest multiple of 8 that fits (the autoencoder's grid)."""
    return launder.centre_crop(rgb, min(side, *rgb.shape[:2]) // 8 * 8)


def score(distance: float) -> float:
    """Higher = closer to the autoencoder's output = more likely generated."""
    return 1.0 / (1.0 + distance)


class Reconstructor:
    """An autoencoder on one thread (a worker process each), returning every candidate distance of an image's crop."""

    def __init__(self, model: Any) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        # channels-last runs these 64-channel convolutions ~1.7x faster on CPU (oneDNN)
        self.model = model.to(memory_format=torch.channels_last)

    @classmethod
    def from_shared(cls, shared: Path) -> Reconstructor:
        from realeyes.training import taesd

        return cls(taesd.load_taef2(shared / WEIGHTS))

    def distances(self, rgb: np.ndarray) -> dict[str, float]:
        crop = centre_crop(rgb)
        x = self.torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)[None]).astype(np.float32) / 255.0)
        with self.torch.inference_mode():
            y = self.model(x.contiguous(memory_format=self.torch.channels_last)).clamp(0.0, 1.0)
        rebuilt = np.rint(y[0].numpy().transpose(1, 2, 0) * 255.0)  # as it would be saved: 8-bit
        diff = (crop.astype(np.float64) - rebuilt) @ LUMA
        return {name: distance(diff) for name, distance in DISTANCES.items()}


def require_weights(shared: Path) -> None:
    """A clear error, before any work, when the data folder lacks TAEF2's weights."""
    from realeyes.training import taesd

    files = (taesd.ENCODER_FILE, taesd.DECODER_FILE)
    if not all((shared / WEIGHTS / name).is_file() for name in files):
        raise PipelineError(f"the autoencoder distance needs TAEF2's {' and '.join(files)} in {shared / WEIGHTS}")


def choose_distance(validation: ValidationSet, distances: list[dict[str, float]]) -> dict[str, Any]:
    """The candidate distance with the best selection figure on the validation set (`distances`: every candidate
    of each of its images), with every figure."""
    figures = {name: validation.figures(np.array([score(row[name]) for row in distances])) for name in DISTANCES}
    chosen = max(figures, key=lambda name: figures[name]["selection"] or 0.0)
    rule = "the best mean of the laundered and hard AUCs"
    return {"distance": chosen, "crop": CROP, "rule": rule, "data": validation.data, "figures": figures}


_WORKER: Reconstructor | None = None


def _init_worker(shared: Path) -> None:
    global _WORKER
    _WORKER = Reconstructor.from_shared(shared)


def _worker() -> Reconstructor:
    if _WORKER is None:
        raise RuntimeError("runs in a worker started by score_benchmark")
    return _WORKER


def _distances(rgb: np.ndarray) -> dict[str, float]:
    return _worker().distances(rgb)


def _score_image(job: tuple[BenchImage, str]) -> list[dict[str, object]]:
    image, distance = job
    rows: list[dict[str, object]] = []
    for item in condition_inputs(image):
        value = _worker().distances(launder.read_oriented(item.data))[distance]
        rows.append({"key": image.key, "condition": item.condition, COLUMN: round(score(value), 6)})
    return rows


def score_benchmark(images: list[BenchImage], shared: Path, out: Path, workers: int = 2) -> dict[str, Any]:
    """Choose the distance on the validation set, then score every benchmark image outside it (each condition);
    write out/RECONSTRUCTION_FILE and the choice's record out/CHOICE_FILE, and return the record."""
    require_weights(shared)
    validation = validation_set(shared)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(shared,)) as pool:
        choice = choose_distance(validation, list(pool.map(_distances, validation.images, chunksize=4)))
        jobs = [(image, choice["distance"]) for image in images if image.source not in VALIDATION_SOURCES]
        rows = [row for image_rows in pool.map(_score_image, jobs, chunksize=2) for row in image_rows]
    out.mkdir(parents=True, exist_ok=True)
    with (out / RECONSTRUCTION_FILE).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["key", "condition", COLUMN])
        writer.writeheader()
        writer.writerows(rows)
    (out / CHOICE_FILE).write_text(json.dumps(choice, indent=2) + "\n")
    return choice


def with_reconstruction(rows: list[dict[str, str]], out: Path) -> list[dict[str, str]]:
    """The engine's score rows with the reconstruction score of out/RECONSTRUCTION_FILE added; unchanged when
    there is no such file, or when it lacks a row the detector is tested on (a catalogue that grew since: figures
    from part of the images would be wrong, so the entry is left out with a warning)."""
    path = out / RECONSTRUCTION_FILE
    if not path.is_file():
        return rows
    with path.open(newline="") as handle:
        scores = {(r["key"], r["condition"]): r[COLUMN] for r in csv.DictReader(handle)}
    tested = [(row["key"], row["condition"]) for row in rows if row["source"] not in VALIDATION_SOURCES]
    missing = sum(1 for key in tested if key not in scores)
    if missing:
        log.warning(
            "%s lacks %d of the %d rows it is tested on: left out (rerun with --reconstruction)",
            path,
            missing,
            len(tested),
        )
        return rows
    return [{**row, COLUMN: scores.get((row["key"], row["condition"]), "")} for row in rows]
