"""The bundles shipped in models/: intact, documented honestly, and served by a default scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SHIPPED_MODELS
from realeyes import Engine, samples
from realeyes.cli import main
from realeyes.config import Settings
from realeyes.models import Registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(SHIPPED_MODELS)


def test_the_promoted_classifier_is_intact_and_small(registry: Registry) -> None:
    bundle = registry.promoted("classifier")  # checks the sha256 in the card
    assert (bundle.path / "model.onnx").stat().st_size < 20 * 1024 * 1024
    assert not list(bundle.path.glob("*.onnx.data"))  # one self-contained file


def test_the_card_reports_held_out_figures_and_where_they_come_from(registry: Registry) -> None:
    card = registry.promoted("classifier").card
    for split in ("val", "test"):
        metrics = card["metrics"][split]
        assert "held out from training" in metrics["data"]
        assert {"auc", "average_precision", "balanced_accuracy", "f1", "eer", "fpr_at_tpr", "ece", "confusion"} <= (
            metrics["as_served"].keys()
        )
        assert metrics["same_reencode_jpeg90"]["auc"] is not None  # the anti-confound check
    assert card["calibration"]["fitted_on"] == "validation split"
    assert card["training_data"] and card["synthetic"] and card["limitations"]
    assert card["onnx_parity_max_abs_diff"] < 1e-4


def test_a_default_scan_uses_the_shipped_classifier() -> None:
    engine = Engine(Settings(models_dir=SHIPPED_MODELS))
    verdict = engine.analyze(samples.jpeg_bytes(samples.photo_like(640, 480)))
    classifier = next(e for e in verdict.evidence if e.analyzer == "classifier")
    assert classifier.score is not None and classifier.weight == 1.0
    assert verdict.versions["classifier.model"] == "realeyes-npr-classifier-0.1.0"
    assert engine.fusion.coefficients["classifier"] > 0  # the fusion fitted with the bundle is in use


def test_models_list_marks_the_promoted_bundle() -> None:
    result = CliRunner().invoke(main, ["models", "list"], env={"REALEYES_MODELS_DIR": str(SHIPPED_MODELS)})
    assert result.exit_code == 0 and "* classifier" in result.stdout


def test_registry_records_who_promoted_what(registry: Registry) -> None:
    history = json.loads((SHIPPED_MODELS / "registry.json").read_text())["history"]
    assert history[-1]["task"] == "classifier" and history[-1]["promoted_at"]


def test_a_tampered_manifest_stays_manipulated_with_the_classifier_on(shared_data: Path) -> None:
    tampered = shared_data / "provenance" / "c2pa-rs-fixtures" / "XCA.jpg"
    if not tampered.is_file():
        pytest.skip(f"{tampered} not found")
    verdict = Engine(Settings(models_dir=SHIPPED_MODELS)).analyze(tampered)
    assert verdict.label == "manipulated" and verdict.reasons[0].startswith("Content credentials fail validation")
