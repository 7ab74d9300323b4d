"""Fit the fusion (bias + one coefficient per analyzer on logit(score)) on validation images.

The pixel analyzers' scores are collected through the real Engine, then a small logistic regression with an L2
penalty and non-negative coefficients is fitted. The result is written next to the classifier bundle as
fusion.json, which the engine uses when that bundle is served; REALEYES_FUSION_PATH still overrides it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from realeyes.engine import Engine
from realeyes.errors import RealEyesError
from realeyes.fusion import logit
from realeyes.training.dataset import Sample

PIXEL_ANALYZERS = ["spectrum", "ela", "noise", "classifier"]
FUSION_FILE = "fusion.json"


def collect_logits(engine: Engine, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One row of logit(score) per image (0 where an analyzer had no opinion), its label, and the column names."""
    names = [analyzer.name for analyzer in engine.analyzers]
    rows, labels = [], []
    for sample in samples:
        try:
            verdict = engine.analyze(sample.path)
        except RealEyesError:  # an unreadable validation image is skipped, the rest still counts
            continue
        scores = {e.analyzer: e.score for e in verdict.evidence if e.ok and e.score is not None}
        rows.append([logit(scores[name]) if name in scores else 0.0 for name in names])
        labels.append(sample.label)
    return np.array(rows), np.array(labels), names


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    l2: float = 0.01,
    weights: np.ndarray | None = None,
    nonnegative: bool = True,
) -> tuple[float, np.ndarray]:
    """(bias, coefficients) minimising the (weighted) mean binary NLL + l2 * |coefficients|^2.

    For the fusion the coefficients may not be negative: every analyzer's score means "higher is less authentic",
    and a fitted sign flip would only encode a quirk of the validation data (and make its reasons read backwards).
    """

    w = np.ones(labels.shape) if weights is None else weights / weights.mean()

    def loss(params: np.ndarray) -> float:
        z = params[0] + features @ params[1:]
        return float(np.mean(w * (np.logaddexp(0.0, z) - labels * z)) + l2 * np.sum(params[1:] ** 2))

    bounds = [(None, None)] + [(0.0, None) if nonnegative else (None, None)] * features.shape[1]
    result = minimize(loss, x0=np.zeros(features.shape[1] + 1), method="L-BFGS-B", bounds=bounds)
    return float(result.x[0]), result.x[1:]


def fit_fusion(engine: Engine, samples: list[Sample], data: str) -> dict[str, Any]:
    features, labels, names = collect_logits(engine, samples)
    bias, coefficients = fit_logistic(features, labels.astype(np.float64))
    return {
        "bias": round(bias, 5),
        "coefficients": {name: round(float(c), 5) for name, c in zip(names, coefficients, strict=True)},
        "fitted_on": f"{data} ({len(labels)} images)",
    }


def write_fusion(bundle: Path, fusion: dict[str, Any]) -> Path:
    path = bundle / FUSION_FILE
    path.write_text(json.dumps(fusion, indent=2) + "\n")
    return path
