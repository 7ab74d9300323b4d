"""Evaluation metrics: hand-computed small cases, known identities, degenerate inputs and pixel-level scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from realeyes.training import metrics, pixel_metrics

# A symmetric example: every fake score is 1 - some real score.
SYM_LABELS = [1, 1, 1, 1, 0, 0, 0, 0]
SYM_SCORES = [0.9, 0.8, 0.6, 0.3, 0.1, 0.2, 0.4, 0.7]


# ---------------------------------------------------------------- ROC / AUC


def test_roc_curve_hand_example() -> None:
    fpr, tpr, thresholds = metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(fpr, [0.0, 0.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(tpr, [0.0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])


def test_roc_curve_groups_tied_scores() -> None:
    fpr, tpr, thresholds = metrics.roc_curve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    np.testing.assert_allclose(thresholds, [np.inf, 0.9, 0.5, 0.2])
    np.testing.assert_allclose(fpr, [0.0, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(tpr, [0.0, 0.5, 1.0, 1.0])


def test_roc_curve_rejects_one_class() -> None:
    with pytest.raises(ValueError, match="both"):
        metrics.roc_curve([1, 1], [0.2, 0.3])


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([0.1, 0.2, 0.8, 0.9], 1.0),  # perfect separation
        ([0.9, 0.8, 0.2, 0.1], 0.0),  # reversed
        ([0.5, 0.5, 0.5, 0.5], 0.5),  # all ties
        ([0.1, 0.4, 0.35, 0.8], 0.75),  # hand example: 3 of 4 (fake, real) pairs ordered correctly
        ([0.1, 0.5, 0.5, 0.8], 0.875),  # one tied pair counts one half
    ],
)
def test_roc_auc_known_values(scores: list[float], expected: float) -> None:
    assert metrics.roc_auc([0, 0, 1, 1], scores) == pytest.approx(expected)


def test_roc_auc_equals_mann_whitney_u_with_ties() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, size=500)
    scores = np.round(rng.normal(labels * 0.7, 1.0), 1)  # rounding creates many ties
    u = mannwhitneyu(scores[labels == 1], scores[labels == 0]).statistic
    expected = u / ((labels == 1).sum() * (labels == 0).sum())
    assert metrics.roc_auc(labels, scores) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_equals_trapezoidal_area_under_roc_curve() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=300)
    scores = np.round(rng.random(300), 2)
    fpr, tpr, _ = metrics.roc_curve(labels, scores)
    assert metrics.roc_auc(labels, scores) == pytest.approx(float(np.trapezoid(tpr, fpr)), abs=1e-12)


# ---------------------------------------------------------------- AP, EER, FPR@TPR


def test_average_precision_hand_example() -> None:
    # thresholds 0.8, 0.4, 0.35, 0.1 -> (P, R) = (1, .5), (.5, .5), (2/3, 1), (.5, 1): AP = .5*1 + .5*2/3
    assert metrics.average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(5 / 6)


def test_average_precision_ties_and_perfect() -> None:
    assert metrics.average_precision([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(1.0)
    assert metrics.average_precision([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)


def test_precision_recall_curve_hand_example() -> None:
    precision, recall, thresholds = metrics.precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(precision, [1.0, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(thresholds, [0.8, 0.4, 0.35, 0.1])


def test_equal_error_rate_symmetric_example() -> None:
    # at threshold 0.6: one of four fakes missed (0.3), one of four reals flagged (0.7)
    assert metrics.equal_error_rate(SYM_LABELS, SYM_SCORES) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([0.1, 0.2, 0.8, 0.9], 0.0), ([0.9, 0.8, 0.2, 0.1], 1.0), ([0.5, 0.5, 0.5, 0.5], 0.5)],
)
def test_equal_error_rate_extremes(scores: list[float], expected: float) -> None:
    assert metrics.equal_error_rate([0, 0, 1, 1], scores) == pytest.approx(expected)


def test_fpr_at_tpr() -> None:
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.35, 0.6, 0.5, 0.4, 0.1]
    assert metrics.fpr_at_tpr(labels, scores) == pytest.approx(0.75)  # catching all 4 fakes flags 3 of 4 reals
    assert metrics.fpr_at_tpr(labels, scores, tpr=0.75) == pytest.approx(0.0)
    assert metrics.fpr_at_tpr(labels, scores, tpr=0.0) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="tpr"):
        metrics.fpr_at_tpr(labels, scores, tpr=1.5)


# ---------------------------------------------------------------- threshold metrics


def test_confusion_balanced_accuracy_f1() -> None:
    labels = [1, 1, 1, 0, 0, 0, 0, 0]
    scores = [0.9, 0.6, 0.4, 0.6, 0.2, 0.1, 0.3, 0.5]
    assert metrics.confusion(labels, scores, 0.5) == {"tn": 3, "fp": 2, "fn": 1, "tp": 2}  # score == threshold is fake
    assert metrics.balanced_accuracy(labels, scores, 0.5) == pytest.approx((2 / 3 + 3 / 5) / 2)
    assert metrics.f1(labels, scores, 0.5) == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))
    assert metrics.accuracy(labels, scores, 0.5) == pytest.approx(5 / 8)


def test_threshold_metrics_undefined_cases() -> None:
    assert metrics.balanced_accuracy([0, 0], [0.1, 0.9], 0.5) is None
    assert metrics.f1([0, 0], [0.1, 0.2], 0.5) is None  # no fakes and none predicted
    assert metrics.f1([0, 0], [0.1, 0.9], 0.5) == 0.0
    assert metrics.accuracy([], [], 0.5) is None


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="differ"):
        metrics.roc_auc([0, 1], [0.1])
    with pytest.raises(ValueError, match="0 \\(real\\) or 1"):
        metrics.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        metrics.roc_auc([0, 1], [0.1, float("nan")])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.expected_calibration_error([0, 1], [0.1, 1.2])


# ---------------------------------------------------------------- calibration


def test_ece_zero_for_perfectly_calibrated_bins() -> None:
    # in each occupied bin the fraction of fakes equals the predicted p_fake
    probs = [0.25] * 4 + [0.75] * 4 + [0.05] * 20
    labels = [1, 0, 0, 0] + [1, 1, 1, 0] + [1] + [0] * 19
    assert metrics.expected_calibration_error(labels, probs) == pytest.approx(0.0, abs=1e-12)


def test_ece_hand_example() -> None:
    # bin [0.9, 1.0]: mean p 0.9, half are fake -> gap 0.4; bin [0.1, 0.2): mean p 0.1, none fake -> gap 0.1
    labels = [1, 0, 1, 0, 0, 0]
    probs = [0.9, 0.9, 0.9, 0.9, 0.1, 0.1]
    assert metrics.expected_calibration_error(labels, probs) == pytest.approx((4 * 0.4 + 2 * 0.1) / 6)


def test_reliability_bins() -> None:
    rows = metrics.reliability_bins([1, 0, 1, 0, 1], [0.05, 0.15, 0.95, 1.0, 0.92], bins=10)
    assert len(rows) == 10
    assert [r["count"] for r in rows] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 3]  # 1.0 falls in the last bin
    assert rows[0]["lower"] == 0.0
    assert rows[9]["upper"] == 1.0
    assert rows[0]["observed_frequency"] == 1.0
    assert rows[2]["mean_confidence"] is None
    assert rows[2]["observed_frequency"] is None
    assert rows[9]["mean_confidence"] == pytest.approx((0.95 + 1.0 + 0.92) / 3)
    assert rows[9]["observed_frequency"] == pytest.approx(2 / 3)


def test_ece_empty_is_none() -> None:
    assert metrics.expected_calibration_error([], []) is None


# ---------------------------------------------------------------- report


def test_binary_report_values_and_json() -> None:
    report = metrics.binary_report(SYM_LABELS, SYM_SCORES, 0.5)
    json.dumps(report, allow_nan=False)
    assert report["n"] == 8
    assert report["n_real"] == 4
    assert report["n_fake"] == 4
    assert report["eer"] == 0.25
    assert report["confusion"] == {"tn": 3, "fp": 1, "fn": 1, "tp": 3}
    assert report["accuracy"] == 0.75
    assert report["balanced_accuracy"] == 0.75
    assert report["f1"] == 0.75
    assert report["auc"] == round(metrics.roc_auc(SYM_LABELS, SYM_SCORES) or 0.0, 4)
    assert report["average_precision"] == round(metrics.average_precision(SYM_LABELS, SYM_SCORES) or 0.0, 4)
    assert report["fpr_at_tpr"] == 0.5  # catching all four fakes (down to 0.3) flags 0.4 and 0.7
    assert report["tpr_target"] == 0.95
    assert isinstance(report["ece"], float)
    assert len(report["reliability"]) == 10
    assert report["per_group"] is None


def test_binary_report_floats_are_rounded() -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, size=97)
    report = metrics.binary_report(labels, rng.random(97), 0.5)
    for key in ("auc", "average_precision", "eer", "fpr_at_tpr", "accuracy", "balanced_accuracy", "f1", "ece"):
        value = report[key]
        assert isinstance(value, float)
        assert value == round(value, 4)


def test_binary_report_per_group_breakdown() -> None:
    labels = [1, 0, 1, 0, 1, 1, 1]
    scores = [0.9, 0.2, 0.7, 0.6, 0.8, 0.3, 0.4]
    groups = ["camera", "camera", "sdxl", "camera", "sdxl", "mj", "mj"]
    per_group = metrics.binary_report(labels, scores, 0.5, groups)["per_group"]
    assert list(per_group) == ["camera", "mj", "sdxl"]
    assert per_group["camera"] == {
        "n": 3,
        "n_real": 2,
        "n_fake": 1,
        "auc": 1.0,
        "accuracy": round(2 / 3, 4),  # 0.6 real flagged as fake
        "mean_score": round((0.9 + 0.2 + 0.6) / 3, 4),
    }
    assert per_group["mj"] == {"n": 2, "n_real": 0, "n_fake": 2, "auc": None, "accuracy": 0.0, "mean_score": 0.35}
    assert per_group["sdxl"]["n_fake"] == 2
    assert per_group["sdxl"]["auc"] is None
    assert per_group["sdxl"]["accuracy"] == 1.0


def test_binary_report_rejects_mismatched_groups() -> None:
    with pytest.raises(ValueError, match="groups"):
        metrics.binary_report([0, 1], [0.1, 0.9], 0.5, ["a"])


def test_binary_report_one_class_is_none_without_warnings() -> None:
    report = metrics.binary_report([1, 1, 1], [0.9, 0.4, 0.7], 0.5, ["a", "b", "a"])
    json.dumps(report, allow_nan=False)
    assert report["auc"] is None
    assert report["eer"] is None
    assert report["fpr_at_tpr"] is None
    assert report["balanced_accuracy"] is None
    assert report["average_precision"] == 1.0  # defined: every flagged sample is fake
    assert report["f1"] == 0.8
    assert report["per_group"]["a"]["auc"] is None


def test_binary_report_only_reals() -> None:
    report = metrics.binary_report([0, 0], [0.1, 0.2], 0.5)
    assert report["average_precision"] is None
    assert report["f1"] is None
    assert report["accuracy"] == 1.0


def test_binary_report_empty() -> None:
    report = metrics.binary_report([], [], 0.5, [])
    json.dumps(report, allow_nan=False)
    assert report["n"] == 0
    assert report["confusion"] == {"tn": 0, "fp": 0, "fn": 0, "tp": 0}
    for key in ("auc", "average_precision", "eer", "fpr_at_tpr", "accuracy", "balanced_accuracy", "f1", "ece"):
        assert report[key] is None
    assert report["per_group"] == {}


def test_binary_report_scores_that_are_not_probabilities_skip_calibration() -> None:
    report = metrics.binary_report([0, 1], [-2.0, 3.0], 0.0)
    assert report["auc"] == 1.0
    assert report["ece"] is None
    assert report["reliability"] is None


# ---------------------------------------------------------------- pixel-level


def test_pixel_scores_tiny_masks() -> None:
    truth = [np.array([[1, 1], [0, 0]], dtype=np.uint8)]
    prob = [np.array([[0.9, 0.4], [0.6, 0.1]])]
    scores = pixel_metrics.pixel_scores(truth, prob)
    json.dumps(scores, allow_nan=False)
    assert scores["n_masks"] == 1
    assert scores["n_pixels"] == 4
    assert scores["fake_fraction"] == 0.5
    assert scores["f1_at_05"] == 0.5  # tp 1 (0.9), fp 1 (0.6), fn 1 (0.4)
    assert scores["iou_at_05"] == round(1 / 3, 4)
    assert scores["best_f1"] == 0.8  # any threshold in (0.1, 0.4]: tp 2, fp 1
    assert 0.1 < scores["best_threshold"] <= 0.4
    assert scores["auc"] == 0.75
    assert scores["auc_pixels"] == 4


def test_pixel_scores_pools_over_masks_and_averages_per_image() -> None:
    truth = [np.array([[True, False]]), np.array([[False, False, True, True]])]
    prob = [np.array([[0.8, 0.2]]), np.array([[0.7, 0.1, 0.9, 0.3]])]
    scores = pixel_metrics.pixel_scores(truth, prob)
    # image 1: tp 1; image 2: tp 1, fp 1, fn 1 -> pooled tp 2, fp 1, fn 1
    assert scores["f1_at_05"] == round(4 / 6, 4)
    assert scores["iou_at_05"] == 0.5
    assert scores["image_mean_f1_at_05"] == round((1.0 + 0.5) / 2, 4)
    assert scores["image_mean_iou_at_05"] == round((1.0 + 1 / 3) / 2, 4)


def test_per_image_best_picks_each_images_own_level() -> None:
    truth = [np.array([[True, False]]), np.array([[False, False, True, True]])]
    prob = [np.array([[0.8, 0.2]]), np.array([[0.7, 0.1, 0.9, 0.3]])]
    best = pixel_metrics.per_image_best(truth, prob)
    # image 1 is perfect at any level in (0.2, 0.8]; image 2's best: flag >= 0.3 -> tp 2, fp 1 -> F1 0.8, IoU 2/3
    assert best == {"mean_best_f1": 0.9, "mean_best_iou": round((1 + 2 / 3) / 2, 4)}


def test_pixel_scores_all_real_masks() -> None:
    scores = pixel_metrics.pixel_scores([np.zeros((3, 3), dtype=bool)], [np.full((3, 3), 0.2)])
    assert scores["auc"] is None
    assert scores["f1_at_05"] is None
    assert scores["iou_at_05"] is None
    assert scores["best_f1"] == 0.0  # threshold 0 flags everything: F1 is defined and zero


def test_pixel_scores_empty() -> None:
    scores = pixel_metrics.pixel_scores([], [])
    assert scores["n_pixels"] == 0
    assert scores["auc"] is None
    assert scores["best_f1"] is None
    assert scores["fake_fraction"] is None


def test_pixel_auc_subsampling_is_bounded_deterministic_and_close() -> None:
    rng = np.random.default_rng(2)
    truth = [rng.random((64, 64)) < 0.3 for _ in range(3)]
    prob = [np.clip(0.5 * t + rng.random(t.shape) * 0.7, 0.0, 1.0) for t in truth]
    exact = pixel_metrics.pixel_scores(truth, prob)
    sampled = pixel_metrics.pixel_scores(truth, prob, max_auc_pixels=3000)
    again = pixel_metrics.pixel_scores(truth, prob, max_auc_pixels=3000)
    assert exact["auc_pixels"] == 3 * 64 * 64
    assert sampled["auc_pixels"] == 3000
    assert sampled == again
    assert sampled["auc"] == pytest.approx(exact["auc"], abs=0.03)
    assert sampled["f1_at_05"] == exact["f1_at_05"]  # only the AUC is subsampled


def test_pixel_scores_validation() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        pixel_metrics.pixel_scores([np.zeros((2, 2))], [np.zeros((2, 3))])
    with pytest.raises(ValueError, match="true masks"):
        pixel_metrics.pixel_scores([np.zeros((2, 2))], [])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pixel_metrics.pixel_scores([np.zeros((1, 2))], [np.array([[0.5, 1.5]])])
    with pytest.raises(ValueError, match="0 or 1"):
        pixel_metrics.pixel_scores([np.array([[0, 2]])], [np.array([[0.5, 0.5]])])


# ---------------------------------------------------------------- plots


@pytest.mark.parametrize("name", ["save_roc", "save_pr", "save_reliability"])
def test_plots_write_png(tmp_path: Path, name: str) -> None:
    pytest.importorskip("matplotlib")
    from realeyes.training import plots

    out = tmp_path / "sub" / f"{name}.png"
    getattr(plots, name)(out, SYM_LABELS, SYM_SCORES)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000


@pytest.mark.parametrize("name", ["save_roc", "save_pr", "save_reliability"])
def test_plots_survive_degenerate_input(tmp_path: Path, name: str) -> None:
    pytest.importorskip("matplotlib")
    from realeyes.training import plots

    out = tmp_path / f"{name}.png"
    getattr(plots, name)(out, [0, 0], [0.1, 0.2])
    assert out.read_bytes().startswith(b"\x89PNG")


def test_auc_interval_covers_the_true_auc_about_as_often_as_it_claims() -> None:
    rng = np.random.default_rng(3)
    true_auc = 0.7602  # real ~ N(0, 1), fake ~ N(1, 1): AUC = Phi(1 / sqrt(2))
    labels = np.r_[np.zeros(60), np.ones(60)]
    covered, widths = 0, []
    for seed in range(150):
        scores = np.r_[rng.normal(0, 1, 60), rng.normal(1, 1, 60)]
        low, high = metrics.auc_interval(labels, scores, resamples=300, seed=seed)
        covered += low <= true_auc <= high
        widths.append(high - low)
    assert 0.88 <= covered / 150 <= 0.99
    large = np.r_[rng.normal(0, 1, 1500), rng.normal(1, 1, 1500)]
    large_low, large_high = metrics.auc_interval(np.r_[np.zeros(1500), np.ones(1500)], large, resamples=300)
    assert large_high - large_low < np.mean(widths) / 3  # 25x the data: about a fifth of the width
    assert metrics.auc_interval(labels, scores) == metrics.auc_interval(labels, scores)  # fixed seed: reproducible


def test_auc_interval_of_perfect_separation_and_of_one_class() -> None:
    assert metrics.auc_interval([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == (1.0, 1.0)
    assert metrics.auc_interval([1, 1, 1], [0.1, 0.2, 0.3]) is None
    assert metrics.binary_report([0, 1, 0, 1], [0.2, 0.7, 0.4, 0.6], 0.5)["auc_ci95"] == [1.0, 1.0]
