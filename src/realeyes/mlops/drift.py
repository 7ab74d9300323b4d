"""Input and score drift: the distribution the served model saw on held-out data (stored in its card) against
the live window of analyses, per feature, as PSI (population stability index) and, for numbers, KS.

PSI above 0.25 is the conventional "significant shift"; 0.1-0.25 a moderate one."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import stats

DEFAULT_THRESHOLD = 0.25
_EPSILON = 1e-4  # floor for empty bins, so PSI stays finite
MISSING = "n/a"

# Fixed bin edges make reports comparable over time and between models.
NUMERIC_EDGES: dict[str, list[float]] = {
    "p_fake": [i / 10 for i in range(11)],
    "log10_megapixels": [-math.inf, -1.0, -0.5, 0.0, 0.3, 0.6, 0.9, 1.2, math.inf],
}
QUALITY_EDGES = [0, 50, 70, 80, 90, 95, 101]
FEATURES = ("p_fake", "log10_megapixels", "format", "jpeg_quality")


def features_of(record: dict[str, Any]) -> dict[str, Any]:
    """The monitored features of one verdict record (docs/OUTPUT.md shape)."""
    media = record.get("media") or {}
    width, height = media.get("width"), media.get("height")
    quality = media.get("jpeg_quality_estimate")
    return {
        "p_fake": float(record["p_fake"]),
        "log10_megapixels": math.log10(width * height / 1e6) if width and height else None,
        "format": media.get("format") or MISSING,
        "jpeg_quality": _quality_bin(quality),
    }


def _quality_bin(quality: float | None) -> str:
    if quality is None:
        return MISSING
    index = int(np.searchsorted(QUALITY_EDGES, quality, side="right")) - 1
    index = min(max(index, 0), len(QUALITY_EDGES) - 2)
    return f"{QUALITY_EDGES[index]}-{QUALITY_EDGES[index + 1] - 1}"


def _histogram(values: list[float], edges: list[float]) -> list[float]:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]) if values else [], bins=np.array(edges))
    total = max(1, int(counts.sum()))
    return [round(float(c) / total, 6) for c in counts]


def _categorical(values: Iterable[str]) -> dict[str, float]:
    counts = Counter(values)
    total = max(1, sum(counts.values()))
    return {key: round(count / total, 6) for key, count in sorted(counts.items())}


def build_reference(records: list[dict[str, Any]], measured_on: str) -> dict[str, Any]:
    rows = [features_of(record) for record in records]
    reference: dict[str, Any] = {"measured_on": measured_on, "samples": len(rows), "features": {}}
    for name, edges in NUMERIC_EDGES.items():
        values = [row[name] for row in rows if row[name] is not None]
        reference["features"][name] = {
            "kind": "numeric",
            "edges": [e if math.isfinite(e) else None for e in edges],  # JSON has no infinity
            "proportions": _histogram(values, edges),
            "values": sorted(round(v, 4) for v in values),  # kept for the KS test
        }
    for name in ("format", "jpeg_quality"):
        reference["features"][name] = {"kind": "categorical", "proportions": _categorical(row[name] for row in rows)}
    return reference


def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=np.float64), _EPSILON)
    a = np.maximum(np.asarray(actual, dtype=np.float64), _EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def compare(
    reference: dict[str, Any],
    records: list[dict[str, Any]],
    threshold: float = DEFAULT_THRESHOLD,
    min_samples: int = 50,
) -> dict[str, Any]:
    """Per-feature PSI (and KS for numbers) of the live records against the reference; status and max score."""
    rows = [features_of(record) for record in records]
    if len(rows) < min_samples:
        return {
            "status": "insufficient_data",
            "samples": len(rows),
            "max_score": None,
            "threshold": threshold,
            "features": {},
            "message": f"{len(rows)} live analyses; at least {min_samples} are needed",
        }
    features: dict[str, Any] = {}
    for name, spec in reference["features"].items():
        if spec["kind"] == "numeric":
            edges = [e if e is not None else (-math.inf if i == 0 else math.inf) for i, e in enumerate(spec["edges"])]
            values = [row[name] for row in rows if row[name] is not None]
            live = _histogram(values, edges)
            ks = stats.ks_2samp(spec["values"], values) if spec["values"] and values else None
            features[name] = {
                "psi": round(psi(spec["proportions"], live), 4),
                "ks": None if ks is None else round(float(ks.statistic), 4),
                "ks_p_value": None if ks is None else float(ks.pvalue),
                "live": live,
            }
        else:
            live_shares = _categorical(row[name] for row in rows)
            keys = sorted(set(spec["proportions"]) | set(live_shares))
            expected = [spec["proportions"].get(key, 0.0) for key in keys]
            actual = [live_shares.get(key, 0.0) for key in keys]
            features[name] = {"psi": round(psi(expected, actual), 4), "live": live_shares}
    max_score = max(feature["psi"] for feature in features.values())
    return {
        "status": "drifted" if max_score > threshold else "ok",
        "samples": len(rows),
        "max_score": max_score,
        "threshold": threshold,
        "features": features,
    }
