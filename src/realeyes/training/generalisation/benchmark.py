"""The whole generalisation benchmark: detectors side by side, the fused verdict, and the calibration to ship.

Which sources each shipped model saw comes from its model card (training_data); those sources are never in its
test universe. The fused verdict is tested on the sources none of its inputs saw.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.training.generalisation.catalog import benchmark_catalog
from realeyes.training.generalisation.protocol import (
    Detector,
    FoldResult,
    Ranking,
    Table,
    Targets,
    calibrate,
    file_feature_baseline,
    fit_fusion_params,
    fixed,
    fusion,
    rankings,
    run_protocol,
)
from realeyes.training.generalisation.reconstruction import COLUMN as RECONSTRUCTION_COLUMN
from realeyes.training.generalisation.reconstruction import require_weights, score_benchmark, with_reconstruction
from realeyes.training.generalisation.report import write_report
from realeyes.training.generalisation.scores import CONDITIONS, read_rows, rescore_columns, score_catalog
from realeyes.training.generalisation.summary import auc_difference, condition_figures
from realeyes.training.generalisation.validation import VALIDATION_SOURCES

# Sources each shipped model trained on, read off its card's training_data (never tested on).
CLASSIFIER_SEEN = frozenset(
    {"imagenet-sample", "camera-exif", "ecuador-news-photos", "flux1-dev-lora", "dalle2", "kolors", "midjourney"}
    | {"pixart-alpha", "sd1", "sd2", "sdxl", "stylegan1"}
)
LOCALIZER_SEEN = frozenset({"imagenet-sample", "camera-exif"})
# The coder trained on these real photos; the FLUX face set chose its statistic (validation).
SURPRISAL_SEEN = frozenset({"imagenet-sample", "camera-exif"}) | VALIDATION_SOURCES
# The autoencoder distance trained on nothing here; the FLUX face set chose its distance.
SEEN = {
    "classifier": CLASSIFIER_SEEN,
    "localizer": LOCALIZER_SEEN,
    "surprisal": SURPRISAL_SEEN,
    "reconstruction": VALIDATION_SOURCES,
}
FUSED_INPUTS = ("classifier", "surprisal", "spectrum", "ela", "noise")
# Scored for the record, never fused: its autoencoder's weights were not trained here (reconstruction.py).
RECONSTRUCTION = "autoencoder distance (benchmark only)"
SCORES_FILE = "scores.csv"
VERDICT = "verdict (fused + localizer vote)"
LOCALIZER_VOTE = "localizer (manipulation vote)"
MANIPULATION_TARGETS = Targets(accuse=0.01, miss=0.0)  # the localizer's share of the 5 % (the fusion takes 4 %)


def detectors(table: Table) -> list[Detector]:
    """Every detector whose score is in the table, the fusion of them, and the file-feature baseline."""
    present = [name for name in FUSED_INPUTS if f"score_{name}" in table.columns]
    found = [fixed(name, f"score_{name}", SEEN.get(name, frozenset())) for name in present]
    seen = frozenset().union(*(SEEN.get(name, frozenset()) for name in present))
    found.append(fusion("fused", [f"score_{name}" for name in present], seen))
    if RECONSTRUCTION_COLUMN in table.columns:
        found.append(fixed(RECONSTRUCTION, RECONSTRUCTION_COLUMN, SEEN["reconstruction"]))
    found.append(file_feature_baseline())
    return found


def _verdict(fused: FoldResult, localizer: FoldResult | None) -> FoldResult:
    """The engine's rule on both: accused when the fusion or the localizer's manipulation vote accuses."""
    if localizer is None:
        return FoldResult(VERDICT, fused.universe, fused.scores, fused.labels, fused.thresholds)
    universe = [s for s in fused.universe if s in localizer.universe]
    inside = np.isin(fused.labels, ["accused", "authentic", "inconclusive"]) & (localizer.labels != "")
    labels = np.where(inside, fused.labels, "")
    labels = np.where(inside & (localizer.labels == "accused"), "accused", labels)
    return FoldResult(VERDICT, universe, fused.scores, labels, fused.thresholds)


def shipped_calibration(
    fused: FoldResult, localizer: FoldResult | None, table: Table, targets: Targets
) -> dict[str, Any]:
    """Thresholds to ship, from every source's out-of-fold score (never one scored by a model fitted on it)."""
    accuse = calibrate(fused.scores, table, np.isin(table.source, fused.universe), targets)
    ai_generated = min(_above(accuse.accuse), 0.9999)
    # Keep an inconclusive band (and a valid one when a class is missing from a partial data folder).
    authentic = min(max(round(accuse.authentic, 4), 0.0001), round(ai_generated - 0.01, 4))
    votes = {}
    if localizer is not None:
        vote = calibrate(localizer.scores, table, np.isin(table.source, localizer.universe), MANIPULATION_TARGETS)
        votes["localizer"] = _above(vote.accuse)
    return {"thresholds": {"ai_generated": ai_generated, "authentic": authentic}, "votes": votes}


def _above(value: float) -> float:
    # Labels use score > threshold; the engine uses p >= threshold: ship the next value up at 4 decimals.
    return float(np.floor(value * 1e4) + 1) / 1e4


def fused_against_inputs(
    by_name: dict[str, Detector], fused: dict[str, Ranking], universe: Sequence[str], table: Table
) -> dict[str, dict[str, Any]]:
    """The fused verdict's AUC minus each input's alone, on the fused verdict's held-out images (paired: the same
    comparisons of real and generated images), per condition."""
    differences = {}
    for name in FUSED_INPUTS:
        if name in by_name:
            alone = rankings(by_name[name], table, universe, CONDITIONS)
            differences[name] = {c: auc_difference(fused[c].wins, alone[c].wins) for c in CONDITIONS}
    return differences


def fit_shipped_fusion(table: Table, universe: Sequence[str], inputs: Sequence[str]) -> dict[str, Any]:
    """The fusion fitted on every source of the universe: the engine's coefficients."""
    mask = np.isin(table.source, universe)
    bias, coefficients = fit_fusion_params(table, [f"score_{name}" for name in inputs], mask)
    return {
        "bias": round(bias, 5),
        "coefficients": {n: round(float(w), 5) for n, w in zip(inputs, coefficients, strict=True)},
    }


def run_benchmark(table: Table, targets: Targets, data: str) -> dict[str, Any]:
    by_name = {d.name: d for d in detectors(table)}
    results = {name: run_protocol(d, table, targets) for name, d in by_name.items()}
    localizer = None
    if "score_localizer" in table.columns:
        by_name[LOCALIZER_VOTE] = fixed("localizer", "score_localizer", LOCALIZER_SEEN)
        localizer = results[LOCALIZER_VOTE] = run_protocol(by_name[LOCALIZER_VOTE], table, MANIPULATION_TARGETS)
    results[VERDICT] = _verdict(results["fused"], localizer)
    by_name[VERDICT] = by_name["fused"]  # the vote changes labels, not the fused ranking
    report: dict[str, Any] = {
        "protocol": "generalisation (leave one source out; ../shared/docs/EVALUATION.md)",
        "data": data,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "targets": {
            "real_accused": targets.accuse,
            "generated_called_authentic": targets.miss,
            "manipulation_vote": MANIPULATION_TARGETS.accuse,
        },
        "detectors": {},
    }
    ranked = {}
    for name, result in results.items():
        detector = by_name[name]
        ranked[name] = rankings(detector, table, result.universe, CONDITIONS)
        report["detectors"][name] = {
            "universe": result.universe,
            "fitted_per_fold": detector.fitted,
            "conditions": {
                c: condition_figures(result, ranked[name][c], table, c, detector.fitted) for c in CONDITIONS
            },
        }
    inputs = [c for c in FUSED_INPUTS if f"score_{c}" in table.columns]
    report["fused_against_inputs"] = fused_against_inputs(by_name, ranked["fused"], results["fused"].universe, table)
    report["shipped"] = {
        **fit_shipped_fusion(table, results["fused"].universe, inputs),
        **shipped_calibration(results["fused"], localizer, table, targets),
        "fitted_on": f"generalisation benchmark, sources {', '.join(results['fused'].universe)} ({data})",
    }
    return report


def evaluate_generalisation(
    shared: Path,
    out: Path,
    targets: Targets,
    workers: int,
    rescore: bool,
    rescore_only: tuple[str, ...] = (),
    reconstruction: bool = False,
) -> dict[str, Any]:
    """Score the catalogue with the default engine (cached in out/scores.csv; `rescore_only` scores just those
    analyzers again; `reconstruction` scores the benchmark-only autoencoder distance into its own cache), run the
    protocol, write the report."""
    scores_csv = out / SCORES_FILE
    if reconstruction:
        require_weights(shared)  # before the engine's scoring, which takes minutes
    if rescore or not scores_csv.is_file():
        score_catalog(benchmark_catalog(shared), scores_csv, workers=workers)
    elif rescore_only:
        rescore_columns(benchmark_catalog(shared), scores_csv, rescore_only, workers=workers)
    if reconstruction:
        score_benchmark(benchmark_catalog(shared), shared, out, workers=workers)
    table = Table.from_rows(with_reconstruction(read_rows(scores_csv), out))
    report = run_benchmark(table, targets, f"{shared} ({len(set(table.source))} sources, {table.label.size} rows)")
    write_report(report, out)
    return report


def write_fusion(report: dict[str, Any], path: Path) -> Path:
    """The shipped calibration as the engine's fusion file."""
    path.write_text(json.dumps(report["shipped"], indent=2) + "\n")
    return path
