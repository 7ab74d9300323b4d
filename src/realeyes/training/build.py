"""From a checkpoint to a shipped bundle: export, calibrate on validation, evaluate on test, write the card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.analyzers import create
from realeyes.analyzers.classifier import ClassifierAnalyzer
from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.errors import RealEyesError
from realeyes.fusion import Thresholds
from realeyes.models.bundle import Bundle
from realeyes.training.bundles import BundleSteps, build_bundle
from realeyes.training.calibration import fit_platt
from realeyes.training.catalog import SOURCES, sample_pixels
from realeyes.training.evaluate import evaluate, write_report
from realeyes.training.export import export_onnx, load_checkpoint
from realeyes.training.fusion_fit import FUSION_FILE, PIXEL_ANALYZERS, fit_fusion, write_fusion
from realeyes.training.metrics import binary_report, roc_auc
from realeyes.training.prepare import RECONSTRUCTION, read_prepared
from realeyes.training.quantize import choose_int8
from realeyes.training.train_classifier import held_out

INFERENCE_CROP, INFERENCE_CROPS, MIN_SIDE = 192, 4, 64

LIMITATIONS = [
    "Trained on few generator images (official showcase samples, a FLUX face set) plus synthetic autoencoder "
    "reconstructions; expect weaker results on generators, content and processing unlike these.",
    "Heavy recompression, resizing and blurring erase the traces it relies on (see robustness_auc).",
    "Screenshots, scans and photos of screens are outside what it was trained on.",
    "Use the probability as one piece of evidence next to provenance, not as proof.",
    "Licences: part of the training data (imagenet-sample) is under ImageNet's non-commercial research terms, "
    "and the FLUX face set's real photos are scraped news images; check these before any commercial use.",
]


def build_classifier_bundle(
    checkpoint: Path,
    manifest: Path,
    folder: Path,
    version: str,
    sweep: bool = True,
    int8_tolerance: float | None = None,
) -> Path:
    """INT8_TOLERANCE: also try an int8 graph and ship it if its validation AUC is at most this much lower."""
    model, saved = load_checkpoint(checkpoint)
    # Sources and generators held out of training (a selection source, a cross-generator test) are in none of the
    # card's splits: they neither calibrate the model nor count as its held-out split figures.
    generators, sources = tuple(saved["config"].get("hold_out", ())), tuple(saved["config"].get("hold_out_sources", ()))
    rows = [(sample, split) for sample, split in read_prepared(manifest) if not held_out(sample, generators, sources)]
    splits = {split: [s for s, s_split in rows if s_split == split] for split in ("val", "test")}
    card: dict[str, Any] = {
        "name": "realeyes-npr-classifier",
        "version": version,
        "task": "classifier",
        "description": "Real vs AI-generated image classifier on neighbouring-pixel residuals (plain-torch CNN, "
        "ONNX Runtime at inference). Scores grid crops at native resolution and averages their logits.",
        "architecture": {"name": "ResidualClassifier", **saved["config"]["model"]},
        "input": {"crop": INFERENCE_CROP, "crops": INFERENCE_CROPS, "min_side": MIN_SIDE, "range": "RGB / 255"},
        "threshold": Thresholds().ai_generated,  # the engine's verdict threshold, so card figures mean what scans do
        "calibration": {"method": "platt", "scale": 1.0, "bias": 0.0},
        "onnx_parity_max_abs_diff": None,
        "training": {"steps": saved["step"], "config": saved["config"]},
        "training_data": _training_data(rows),
        "selection_data": _selection_data(checkpoint, set(sources)),
        "synthetic": "Synthetic fakes: real training photos (centre crops) passed through the TAEF2 tiny "
        "autoencoder (FLUX.2 VAE approximation, MIT weights from ../shared/data/weights/taesd, re-implemented "
        f"here), generator '{RECONSTRUCTION}'. {_augmentation_note(saved['config']['augment'])}",
        "metrics": {},
        "limitations": LIMITATIONS,
    }

    def calibrate(bundle: Path) -> dict[str, Any]:
        scale, bias = _calibrate(ClassifierAnalyzer.from_bundle(bundle), splits["val"])
        return {"calibration": {**card["calibration"], "scale": round(scale, 5), "bias": round(bias, 5),
                                "fitted_on": "validation split"}}  # fmt: skip

    def evaluate_held_out(bundle: Path) -> dict[str, Any]:
        analyzer, metrics = ClassifierAnalyzer.from_bundle(bundle), {}
        for split, samples in splits.items():
            data = f"{split} split of {manifest} (held out from training)"
            metrics[split] = evaluate(analyzer, samples, data, sweep=sweep)
            write_report(metrics[split], bundle / f"evaluation-{split}")
        return {"metrics": {**metrics, "fusion": _fit_fusion(analyzer, rows, bundle, manifest)}}

    int8 = None
    if int8_tolerance is not None:
        tolerance = int8_tolerance
        int8 = lambda bundle: _choose_int8(bundle, splits["val"], splits["test"], tolerance)  # noqa: E731
    steps = BundleSteps(card, lambda path: export_onnx(model, path, INFERENCE_CROP), calibrate, evaluate_held_out, int8)
    return build_bundle(folder, steps)


def _fit_fusion(analyzer: ClassifierAnalyzer, rows: list[Any], folder: Path, manifest: Path) -> dict[str, Any]:
    """Fit fusion on validation images; report the fused p_fake on test images (both held out)."""
    others = [create(name) for name in PIXEL_ANALYZERS if name != "classifier"]
    engine = Engine.from_analyzers([*others, analyzer])
    val = [s for s, split in rows if split == "val"]
    fusion = fit_fusion(engine, val, f"validation split of {manifest}")
    write_fusion(folder, fusion)
    # The candidate's own fusion, not the served models/fusion.json (fitted for the served models).
    settings = Settings(fusion_path=folder / FUSION_FILE)
    fused = Engine.from_analyzers([*others, ClassifierAnalyzer.from_bundle(folder, settings)], settings)
    labels, p_fake = [], []
    for sample in (s for s, split in rows if split == "test"):
        try:
            p_fake.append(fused.analyze(sample.path).p_fake)
        except RealEyesError:  # an unreadable test image is skipped, as in evaluate()
            continue
        labels.append(sample.label)
    report = binary_report(np.array(labels), np.array(p_fake), 0.5)
    return {"fitted": fusion, "test_fused_p_fake": {k: report[k] for k in ("auc", "ece", "balanced_accuracy", "n")}}


def _choose_int8(folder: Path, val: list[Any], test: list[Any], tolerance: float) -> dict[str, Any]:
    """Calibrate int8 activation ranges on up to 64 validation images; decide by validation AUC."""
    val_images, test_images = _pixels(val), _pixels(test)
    fp32 = ClassifierAnalyzer.from_bundle(folder)
    every = max(1, len(val_images) // 64)
    batches = [batch for _, rgb in val_images[::every] if (batch := fp32.input_batch(rgb)) is not None]
    return choose_int8(
        folder,
        batches,
        lambda bundle: _auc(bundle, val_images),
        "AUC",
        tolerance,
        test_score=lambda bundle: _auc(bundle, test_images),
    )


def _pixels(samples: list[Any]) -> list[tuple[int, np.ndarray]]:
    return [(sample.label, rgb) for sample in samples if (rgb := sample_pixels(sample, MIN_SIDE)) is not None]


def _auc(bundle: Bundle, images: list[tuple[int, np.ndarray]]) -> float | None:
    """AUC of the mean crop logit (before calibration, which cannot change a ranking)."""
    analyzer = ClassifierAnalyzer(Settings(), bundle=bundle)
    logits = [analyzer.crop_logits(rgb) for _, rgb in images]
    scores = [float(value.mean()) if value is not None else 0.0 for value in logits]
    return roc_auc(np.array([label for label, _ in images]), np.array(scores))


def _calibrate(analyzer: ClassifierAnalyzer, samples: list[Any]) -> tuple[float, float]:
    labels, logits = [], []
    for sample in samples:
        rgb = sample_pixels(sample, MIN_SIDE)
        if rgb is None:
            continue
        values = analyzer.crop_logits(rgb)
        if values is not None:
            labels.append(sample.label)
            logits.append(float(values.mean()))
    return fit_platt(np.array(labels), np.array(logits))


def _augmentation_note(augment: dict[str, Any]) -> str:
    low, high = augment["jpeg_quality"]
    note = (
        f"Every training crop of both classes was re-encoded as JPEG at a random quality {low}-{high} "
        f"({augment['jpeg_probability']:.0%} of crops), so compression history is not a class cue."
    )
    if augment.get("launder_probability"):
        note += (
            f" {augment['launder_probability']:.0%} of the crops of both classes were first laundered as platforms "
            "do (short side resized to 512 px with a random kernel, JPEG q70-95: generalisation.launder)."
        )
    if augment.get("harden_probability"):
        note += (
            f" {augment['harden_probability']:.0%} of the crops of both classes went through one of the "
            "benchmark's hard pipelines (upscaled, denoised, low-light, recompressed: generalisation.launder)."
        )
    if augment.get("harden_real_probability"):
        note += (
            f" {augment['harden_real_probability']:.0%} of the real crops (only) went through one of those hard "
            "pipelines, as hard negatives: processing must not read as generated."
        )
    if augment.get("hard_real_share"):
        note += (
            f" {augment['hard_real_share']:.0%} of the laundered real crops (only) were cut from a whole photo put "
            "through one of those hard pipelines before laundering, as hard negatives."
        )
    return note


def _selection_data(checkpoint: Path, sources: set[str]) -> dict[str, Any] | None:
    """The training sources held out to choose the recipe on, and how this model ranks them (selection_source)."""
    if not sources:
        return None
    history_path = checkpoint.with_suffix(".history.json")
    history = json.loads(history_path.read_text()) if history_path.is_file() else {}
    licences = {name: SOURCES[name].licence for name in sorted(sources) if name in SOURCES}
    return {"sources": licences, "auc": history.get("held_out_source")}


def _training_data(rows: list[Any]) -> list[str]:
    counts: dict[str, int] = {}
    for sample, split in rows:
        if split == "train":
            key = f"{sample.source} / {sample.generator} ({'AI' if sample.label else 'real'})"
            counts[key] = counts.get(key, 0) + 1
    licences = {name: source.licence for name, source in SOURCES.items()}
    return [
        f"{key}: {count} images — licence: {licences.get(key.split(' / ')[0], 'see source')}"
        for key, count in sorted(counts.items())
    ]
