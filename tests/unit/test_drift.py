"""PSI/KS drift statistics on made-up feature records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realeyes.mlops.drift import build_reference, compare, features_of, psi


def record(p_fake: float, width: int = 1024, height: int = 768, fmt: str = "jpeg", quality: float | None = 90.0):  # type: ignore[no-untyped-def]
    media = {"format": fmt, "width": width, "height": height}
    if quality is not None:
        media["jpeg_quality_estimate"] = quality
    return {"p_fake": p_fake, "media": media}


def traffic(seed: int, n: int, p_mean: float = 0.3, fmt_png: float = 0.1, quality: float = 90.0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        record(
            float(np.clip(rng.normal(p_mean, 0.1), 0, 1)),
            width=int(rng.integers(800, 2000)),
            height=int(rng.integers(600, 1500)),
            fmt="png" if rng.random() < fmt_png else "jpeg",
            quality=quality,
        )
        for _ in range(n)
    ]


def test_psi_is_zero_for_identical_and_grows_with_the_shift() -> None:
    base = [0.25, 0.25, 0.25, 0.25]
    assert psi(base, base) == pytest.approx(0.0)
    assert 0 < psi(base, [0.3, 0.2, 0.25, 0.25]) < psi(base, [0.7, 0.1, 0.1, 0.1])


def test_features_of_a_record() -> None:
    features = features_of(record(0.42, 2000, 500, "jpeg", 83))
    assert features == {
        "p_fake": 0.42,
        "log10_megapixels": pytest.approx(0.0),
        "format": "jpeg",
        "jpeg_quality": "80-89",
    }
    png = features_of(record(0.1, fmt="png", quality=None))
    assert png["jpeg_quality"] == "n/a" and math.isclose(png["log10_megapixels"], math.log10(1024 * 768 / 1e6))


def test_same_traffic_is_not_drift_but_a_shifted_one_is() -> None:
    reference = build_reference(traffic(0, 400), "test traffic")
    assert reference["samples"] == 400 and set(reference["features"]) == {
        "p_fake", "log10_megapixels", "format", "jpeg_quality",
    }  # fmt: skip
    same = compare(reference, traffic(1, 300))
    assert same["status"] == "ok" and same["max_score"] < 0.1

    more_fakes = compare(reference, traffic(2, 300, p_mean=0.7))
    assert more_fakes["status"] == "drifted" and more_fakes["features"]["p_fake"]["psi"] > 0.25
    assert more_fakes["features"]["p_fake"]["ks"] > 0.5 and more_fakes["features"]["p_fake"]["ks_p_value"] < 1e-6

    new_format = compare(reference, traffic(3, 300, fmt_png=0.8))
    assert (
        new_format["status"] == "drifted"
        and max(new_format["features"], key=lambda f: new_format["features"][f]["psi"]) == "format"
    )

    recompressed = compare(reference, traffic(4, 300, quality=60.0))
    assert recompressed["features"]["jpeg_quality"]["psi"] > 0.25


def test_too_few_live_samples_give_no_verdict() -> None:
    reference = build_reference(traffic(0, 100), "test traffic")
    report = compare(reference, traffic(1, 10), min_samples=50)
    assert report["status"] == "insufficient_data" and report["max_score"] is None and "50" in report["message"]
