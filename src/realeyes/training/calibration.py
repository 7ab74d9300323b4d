"""Platt scaling: p = sigmoid(scale * logit + bias), fitted on validation data (never on training data)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def fit_platt(labels: np.ndarray, logits: np.ndarray) -> tuple[float, float]:
    """(scale, bias) minimising the binary negative log-likelihood on held-out labels and logits."""
    y = labels.astype(np.float64)
    x = logits.astype(np.float64)

    def loss(params: np.ndarray) -> float:
        z = params[0] * x + params[1]
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    result = minimize(loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B", bounds=[(1e-3, 100.0), (-50.0, 50.0)])
    return float(result.x[0]), float(result.x[1])
