"""Fusion rules: decisive provenance wins, weak evidence stays inconclusive, fitted coefficients apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realeyes.analyzers import ErrorInfo, Evidence
from realeyes.fusion import FusionModel, Thresholds, decide


def ev(name: str, score: float | None, weight: float = 1.0, **fields: object) -> Evidence:
    return Evidence(analyzer=name, version="1", score=score, weight=weight, summary=f"{name} says {score}", **fields)  # type: ignore[arg-type]


def run(*evidence: Evidence, model: FusionModel | None = None) -> tuple[str, float, list[str]]:
    decision = decide(list(evidence), model or FusionModel(), Thresholds(ai_generated=0.6, authentic=0.25))
    return decision.label, decision.p_fake, decision.reasons


def test_decisive_ai_declaration_overrides_pixel_evidence() -> None:
    label, p_fake, reasons = run(
        ev("pixels", 0.01, weight=5.0, label="authentic"),
        ev("c2pa", 0.99, label="ai-generated", decisive=True),
    )
    assert (label, p_fake) == ("ai-generated", 0.99)
    assert reasons[0] == "c2pa says 0.99"


def test_ai_claim_outranks_a_decisive_capture_claim() -> None:
    label, _, reasons = run(
        ev("c2pa", 0.03, label="authentic", decisive=True),
        ev("metadata", 0.97, label="ai-generated", decisive=True),
    )
    assert label == "ai-generated" and reasons[0] == "metadata says 0.97"


def test_trusted_capture_claim_alone_is_authentic() -> None:
    assert run(ev("c2pa", 0.03, label="authentic", decisive=True))[:2] == ("authentic", 0.03)


def test_weak_evidence_is_inconclusive() -> None:
    uncalibrated = [ev(name, 0.7, weight=0.1, label="manipulated") for name in ("ela", "noise", "spectrum")]
    label, p_fake, reasons = run(*uncalibrated)
    assert label == "inconclusive" and 0.5 < p_fake < 0.6
    assert reasons[0].startswith("Inconclusive: the pixel evidence gives 5") and "short of the 60% needed" in reasons[0]
    assert "no provenance" in reasons[0]


def test_no_opinion_at_all_is_inconclusive() -> None:
    assert run(ev("c2pa", None), ev("metadata", None)) == (
        "inconclusive",
        0.5,
        ["No analyzer had an opinion on this file."],
    )


def test_strong_combined_evidence_takes_the_label_of_the_strongest_pusher() -> None:
    label, p_fake, reasons = run(
        ev("ela", 0.9, weight=2.0, label="manipulated"), ev("spectrum", 0.6, weight=1.0, label="ai-generated")
    )
    assert label == "manipulated" and p_fake > 0.9
    assert reasons[0] == "ela says 0.9"


def test_low_scores_make_authentic() -> None:
    label, p_fake, _ = run(ev("classifier", 0.05, weight=1.0), ev("localizer", 0.1, weight=1.0))
    assert label == "authentic" and p_fake < 0.01


def test_errored_evidence_is_ignored() -> None:
    broken = ev("broken", 0.99, decisive=True, label="ai-generated", error=ErrorInfo("analyzer_failed", "boom"))
    assert run(broken)[0] == "inconclusive"


def test_fitted_coefficients_override_self_reported_weights(tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps({"bias": -1.0, "coefficients": {"ela": 3.0}, "fitted_on": "validation split"}))
    model = FusionModel.load(path)
    _, p_default, _ = run(ev("ela", 0.7, weight=0.1))
    _, p_fitted, _ = run(ev("ela", 0.7, weight=0.1), model=model)
    assert p_default == pytest.approx(0.521, abs=1e-3)
    assert p_fitted == pytest.approx(1 / (1 + 2.718281828 ** -(-1.0 + 3.0 * 0.8473)), abs=1e-3)


def test_fusion_file_with_unknown_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps({"bias": 0, "coefficients": {}, "bais": 1}))
    with pytest.raises(ValueError, match="unknown fusion keys"):
        FusionModel.load(path)


def test_fusion_file_with_a_negative_coefficient_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps({"bias": 0, "coefficients": {"classifier": 0.5, "ela": -0.2}}))
    with pytest.raises(ValueError, match=r"must be >= 0, not for \['ela'\]"):
        FusionModel.load(path)


def test_label_comes_from_evidence_that_argues_for_it() -> None:
    # A fitted negative weight turns a low "manipulated" score into a push; the label must not follow it.
    model = FusionModel(coefficients={"noise": -2.0, "classifier": 1.0})
    label, p_fake, _ = run(
        ev("noise", 0.1, label="manipulated"), ev("classifier", 0.7, label="ai-generated"), model=model
    )
    assert label == "ai-generated" and p_fake > 0.6


def test_a_not_ai_classifier_cannot_cancel_evidence_of_manipulation() -> None:
    # A manifest broken after signing stays "manipulated" even when the AI classifier is confident "not AI".
    label, p_fake, reasons = run(
        ev("c2pa", 0.75, weight=0.6, label="manipulated"),
        ev("classifier", 0.05, weight=1.0, label="ai-generated"),
    )
    assert label == "manipulated" and p_fake == pytest.approx(1 / (1 + 3**-0.6), abs=1e-3)
    assert reasons[0] == "c2pa says 0.75"


def test_weak_manipulation_views_alone_do_not_make_a_manipulation_verdict() -> None:
    label, _, _ = run(ev("ela", 0.7, weight=0.1, label="manipulated"), ev("classifier", 0.05, label="ai-generated"))
    assert label == "authentic"


def test_fusion_file_carries_calibrated_thresholds_and_votes(tmp_path: Path) -> None:
    path = tmp_path / "fusion.json"
    fitted = {"ai_generated": 0.85, "authentic": 0.2}
    path.write_text(json.dumps({"bias": 0, "coefficients": {}, "thresholds": fitted, "votes": {"localizer": 0.9}}))
    model = FusionModel.load(path)
    assert model.thresholds == Thresholds(ai_generated=0.85, authentic=0.2)
    assert model.votes == {"localizer": 0.9}


def test_thresholds_that_leave_no_inconclusive_band_are_refused() -> None:
    with pytest.raises(ValueError, match="authentic < ai_generated"):
        Thresholds(ai_generated=0.3, authentic=0.4)


def test_a_calibrated_threshold_turns_a_weak_accusation_into_inconclusive() -> None:
    evidence = [ev("classifier", 0.75, label="ai-generated")]
    assert decide(evidence, FusionModel(), Thresholds()).label == "ai-generated"
    strict = decide(evidence, FusionModel(), Thresholds(ai_generated=0.9, authentic=0.2))
    assert strict.label == "inconclusive" and "short of the 90% needed" in strict.reasons[0]


def test_a_learned_vote_below_its_calibrated_score_does_not_make_a_manipulation_verdict() -> None:
    mask = ev("localizer", 0.8, label="manipulated")
    assert decide([mask], FusionModel(), Thresholds()).label == "manipulated"
    gated = FusionModel(votes={"localizer": 0.95})
    assert decide([mask], gated, Thresholds()).label != "manipulated"
    # Other manipulation evidence (a manifest broken after signing) is not gated by the localizer's calibration.
    broken = ev("c2pa", 0.75, weight=0.6, label="manipulated")
    assert decide([broken], gated, Thresholds()).label == "manipulated"
