"""The validation images detectors without a training set of generated images are chosen on.

ecuador-flux-faces (real news photos and FLUX fakes of four people) is held out of the benchmark universe of every
detector chosen on it. Its images are taken as users meet them: both classes laundered, and the real photos also
through one of the benchmark's hard pipelines before laundering (`condition_inputs`), so a choice is judged by the
mean of the laundered and hard AUCs (`condition_aucs`), as the classifier's recipes are (selection_source.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realeyes.training.dataset import FAKE, REAL
from realeyes.training.generalisation.catalog import BenchImage
from realeyes.training.generalisation.launder import read_oriented
from realeyes.training.generalisation.scores import condition_aucs, condition_inputs
from realeyes.training.pipeline import PipelineError

VALIDATION = "faces/ecuador-flux-faces"
VALIDATION_SOURCES = frozenset({"ecuador-news-photos", "flux1-dev-lora"})  # its benchmark sources
VALIDATION_PER_CLASS = 120
SELECTION_CONDITIONS = ("laundered", "hard")


@dataclass(frozen=True)
class ValidationSet:
    images: list[np.ndarray]
    labels: list[int]
    conditions: list[str]
    data: str  # what it is, for the record of a choice

    def figures(self, scores: np.ndarray) -> dict[str, float | None]:
        """AUC laundered and hard (against the laundered fakes), and `selection`, their mean."""
        rows: dict[str, list[tuple[int, float]]] = {}
        for label, condition, score in zip(self.labels, self.conditions, scores.tolist(), strict=True):
            rows.setdefault(condition, []).append((label, score))
        return condition_aucs(rows)


def validation_images(shared: Path) -> list[tuple[Path, str, int]]:
    """(path, key, label) of VALIDATION_PER_CLASS evenly spaced real photos and as many fakes."""
    folder = shared / VALIDATION
    picked = []
    for label, name in ((REAL, "real"), (FAKE, "fake")):
        paths = sorted((folder / name).glob("*/*.jpg"))
        step = max(1, len(paths) // VALIDATION_PER_CLASS)
        picked += [(p, p.relative_to(shared).as_posix(), label) for p in paths[::step][:VALIDATION_PER_CLASS]]
    return picked


def validation_set(shared: Path) -> ValidationSet:
    images, labels, conditions = [], [], []
    for path, key, label in validation_images(shared):
        for item in condition_inputs(BenchImage(path, key, label, VALIDATION)):
            if item.condition in SELECTION_CONDITIONS:
                images.append(read_oriented(item.data))
                labels.append(label)
                conditions.append(item.condition)
    if len(set(labels)) < 2:
        raise PipelineError(f"no real and generated validation images under {shared / VALIDATION}")
    real, generated = labels.count(REAL) // 2, labels.count(FAKE)  # each real photo enters twice: laundered and hard
    data = f"{VALIDATION}: {real} real and {generated} generated images, laundered; real also hard"
    return ValidationSet(images, labels, conditions, data)
