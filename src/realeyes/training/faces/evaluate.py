"""Evaluate a face-forgery bundle on held-out crops, each comparison reported separately with its counts.

(a) self-blended: real crops of held-out people vs self-blends of the same crops (synthetic fakes);
(b) labelled fakes: real face-swap / DFDC fake crops vs real crops of the same data set (test people only);
(c) extra: the Ecuador set's FLUX fakes (whole generated images, not swaps) vs the validation person's real crops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.models.face_forgery import FaceForgeryModel
from realeyes.training import plots
from realeyes.training.augment import jpeg_roundtrip
from realeyes.training.dataset import FAKE, REAL
from realeyes.training.faces.heldout import VAL_VARIANTS, Crop, load_crops, self_blended_set
from realeyes.training.metrics import binary_report

SAME_REENCODE_QUALITY = 90


def self_blended_report(
    model: FaceForgeryModel, reals: list[Crop], variants: int, seed: int, data: str
) -> dict[str, Any]:
    images, labels = self_blended_set(reals, variants, seed)
    groups = [crop.sample.source for _ in range(variants) for crop in reals for _ in (REAL, FAKE)]
    p_fake = model.probabilities(images)
    return {"data": data, **binary_report(labels, p_fake, model.threshold, groups=groups), "_scores": (labels, p_fake)}


def labelled_report(model: FaceForgeryModel, reals: list[Crop], fakes: list[Crop], data: str) -> dict[str, Any]:
    """As served, and after the same JPEG re-encode of both classes (compression must not be what it detects)."""
    crops = reals + fakes
    labels = np.array([crop.sample.label for crop in crops])
    groups = [f"{'fake' if c.sample.label else 'real'}: {c.sample.source}" for c in crops]
    served = model.probabilities([crop.rgb for crop in crops])
    reencoded = model.probabilities([jpeg_roundtrip(crop.rgb, SAME_REENCODE_QUALITY) for crop in crops])
    return {
        "data": data,
        "as_served": binary_report(labels, served, model.threshold, groups=groups),
        f"same_reencode_jpeg{SAME_REENCODE_QUALITY}": binary_report(labels, reencoded, model.threshold),
        "_scores": (labels, served),
    }


def people(crops: list[Crop], listed: int = 6) -> str:
    """The groups (people or source videos) of some crops: their names when few, else how many."""
    groups = sorted({crop.sample.group for crop in crops})
    return str(groups) if len(groups) <= listed else f"({len(groups)} groups)"


def dataset_of(source: str) -> str:
    return source.split("/")[0]


def evaluate_faces(model: FaceForgeryModel, manifest: Path, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Every comparison the card reports, keyed by name; `_scores` hold raw values for plots (popped on write)."""
    val_real, test_real = load_crops(manifest, "val", REAL), load_crops(manifest, "test", REAL)
    test_fake, extra_fake = load_crops(manifest, "test", FAKE), load_crops(manifest, "extra", FAKE)
    reports = {
        "val_self_blended": self_blended_report(
            model,
            val_real,
            VAL_VARIANTS,
            seed,
            f"(a) validation people {people(val_real)}: {len(val_real)} real crops x {VAL_VARIANTS} "
            "variants, each as itself and self-blended, same JPEG q70-95 for both (model selection and calibration)",
        ),
        "test_self_blended": self_blended_report(
            model,
            test_real,
            1,
            seed + 1,
            f"(a) test people {people(test_real)}: {len(test_real)} real crops, each "
            "as itself and self-blended, same JPEG q70-95 for both",
        ),
    }
    for dataset in sorted({dataset_of(c.sample.source) for c in test_fake}):
        reals = [c for c in test_real if dataset_of(c.sample.source) == dataset]
        fakes = [c for c in test_fake if dataset_of(c.sample.source) == dataset]
        reports[f"test_labelled_{dataset}"] = labelled_report(
            model,
            reals,
            fakes,
            f"(b) {dataset}: {len(fakes)} labelled fake crops vs {len(reals)} real crops of the "
            "same data set (test split; never trained on)",
        )
    if test_fake:
        reports["test_labelled_all"] = labelled_report(
            model, test_real, test_fake, "(b) all labelled fakes vs all real crops of the test split"
        )
    if extra_fake:
        reports["extra_flux_vs_validation_person"] = labelled_report(
            model,
            val_real,
            extra_fake,
            f"(c) extra, not face swaps: {len(extra_fake)} FLUX-generated whole images of "
            f"validation person(s) {people(val_real)} vs their {len(val_real)} real crops",
        )
    return reports


def write_reports(reports: dict[str, dict[str, Any]], folder: Path) -> dict[str, dict[str, Any]]:
    """reports.json plus a ROC and a reliability plot per comparison; returns the reports without raw scores."""
    folder.mkdir(parents=True, exist_ok=True)
    clean = {}
    for name, report in reports.items():
        labels, p_fake = report["_scores"]
        clean[name] = {key: value for key, value in report.items() if key != "_scores"}
        if len(set(labels.tolist())) == 2:
            plots.save_roc(folder / f"{name}-roc.png", labels, p_fake)
            plots.save_reliability(folder / f"{name}-reliability.png", labels, p_fake)
    (folder / "report.json").write_text(json.dumps(clean, indent=2) + "\n")
    return clean
