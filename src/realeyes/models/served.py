"""A learned model as every analyzer serves it: the promoted bundle (or a given one, to evaluate a candidate), its
card's input spec, calibration and threshold, and one ONNX Runtime session whose input is named `image`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from realeyes.config import Settings
from realeyes.errors import ModelUnavailable
from realeyes.models.bundle import Bundle, sigmoid
from realeyes.models.registry import Registry


@dataclass(frozen=True)
class Platt:
    """Platt scaling fitted on held-out data: logit -> calibrated probability."""

    scale: float
    bias: float

    def __call__(self, logits: np.ndarray | float) -> np.ndarray:
        return sigmoid(self.scale * np.asarray(logits, dtype=np.float64) + self.bias)


class ServedModel:
    """One task's model; raises ModelUnavailable when none is promoted, the bundle is damaged, or its card lacks
    an entry the analyzer `needs` (dotted paths such as "input.crop"): a card from another version of the task
    makes the analyzer unavailable with that reason, never a crash of the engine."""

    def __init__(
        self, task: str, settings: Settings, bundle: Bundle | None = None, needs: Collection[str] = ()
    ) -> None:
        self.bundle: Bundle = bundle or Registry(settings.models_dir).promoted(task)
        missing = [path for path in ("input", *needs) if not _has(self.bundle.card, path)]
        if missing:
            raise ModelUnavailable(
                f"The {task} model at {self.bundle.path} has an incomplete card: no {', '.join(missing)}."
            )
        self.input: dict[str, Any] = self.bundle.card["input"]

    @property
    def version(self) -> str:
        return f"{self.bundle.name}-{self.bundle.version}"

    @property
    def calibration(self) -> Platt:
        calibration = self.bundle.card["calibration"]
        return Platt(float(calibration["scale"]), float(calibration["bias"]))

    @property
    def threshold(self) -> float:
        return float(self.bundle.card["threshold"])

    @cached_property
    def session(self) -> Any:
        return self.bundle.session()  # built on first use: the service warms its workers with one analysis

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The model's first output for an NCHW float32 batch."""
        return np.asarray(self.session.run(None, {"image": batch})[0])


def _has(card: dict[str, Any], path: str) -> bool:
    node: Any = card
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True
