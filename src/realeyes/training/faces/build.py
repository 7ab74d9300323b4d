"""From a checkpoint to a shipped face-forgery bundle: export, calibrate on validation, evaluate, write the card."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.config import Settings
from realeyes.fusion import Thresholds
from realeyes.models.bundle import CARD_FILE, MODEL_FILE, load_bundle
from realeyes.models.face_forgery import TASK, FaceForgeryModel
from realeyes.training.calibration import fit_platt
from realeyes.training.dataset import REAL
from realeyes.training.export import render_card, write_bundle
from realeyes.training.faces.evaluate import evaluate_faces, write_reports
from realeyes.training.faces.export import export_onnx, load_checkpoint
from realeyes.training.faces.heldout import VAL_VARIANTS, load_crops, self_blended_set
from realeyes.training.faces.sources import LICENCES
from realeyes.training.prepare import read_prepared
from realeyes.video.faces import FACE_CROP_SIZE, FACE_MARGIN

NAME = "realeyes-sbi-face"

LIMITATIONS = [
    "Trained only on real faces of three people plus self-blended fakes made from them; it learns blending "
    "seams, so fakes without a seam (fully generated faces, re-enactment, diffusion edits) are outside its training.",
    "The labelled real fakes are few (two face-swap clips, DFDC crops and frames of a few videos): the test figures "
    "on them have wide uncertainty; see the counts next to each figure.",
    "Self-blend figures measure the synthetic task the model was trained on (with held-out people), not "
    "real-world deepfake detection.",
    "Crops must come from realeyes.video.faces.face_crop (Haar box, margin 0.25, 128 px); other framings are "
    "untested. Small, blurred or heavily compressed faces carry fewer traces.",
    "Use the probability as one piece of evidence, aggregated over many frames of a track, not as proof.",
    "Licences: training faces are scraped news images (Ecuador set, README says MIT); the test videos are under "
    "DFDC research terms or carry no licence. Check these before any commercial use.",
]


def build_face_bundle(
    checkpoint: Path, manifest: Path, folder: Path, version: str, notes: tuple[str, ...] = ()
) -> Path:
    """`notes`: development history worth knowing when reading the figures (shown on the card)."""
    model, saved = load_checkpoint(checkpoint)
    augment = saved["config"]["augment"]
    history_path = checkpoint.with_suffix(".history.json")
    history = json.loads(history_path.read_text()) if history_path.is_file() else {}
    folder.mkdir(parents=True, exist_ok=True)
    parity = export_onnx(model, folder / MODEL_FILE, FACE_CROP_SIZE)
    card: dict[str, Any] = {
        "name": NAME,
        "version": version,
        "task": TASK,
        "description": "Real vs manipulated (face-swapped / blended) face crops: a small plain-torch CNN trained "
        "on self-blended images (SBI) of real faces, served with ONNX Runtime. Scores one face crop at a time; "
        "the video pipeline aggregates over a face track.",
        "architecture": {"name": "FaceForgeryNet", **saved["config"]["model"]},
        "input": {
            "crop": FACE_CROP_SIZE,
            "margin": FACE_MARGIN,
            "crop_function": "realeyes.video.faces.face_crop on the largest realeyes.video.faces.detect_faces box",
            "layout": "NCHW float32",
            "range": "RGB / 255",
        },
        "threshold": Thresholds().ai_generated,  # the engine's verdict threshold, so card figures mean what scans do
        "calibration": {"method": "platt", "scale": 1.0, "bias": 0.0},
        "onnx_parity_max_abs_diff": parity,
        "training": {
            "kept_step": saved["step"],  # the checkpoint with the best validation AUC
            "steps": history.get("steps"),
            "minutes": history.get("minutes"),
            "best_val_auc": history.get("best_val_auc"),
            "learning_curve": history.get("curve"),
            "config": saved["config"],
        },
        "training_data": training_data(manifest),
        "synthetic": "All training fakes are synthetic: self-blended images (SBI) made on the fly from the real "
        "training crops (the crop blended with a colour-, contrast-, scale- and sharpness-altered copy of itself "
        "inside a randomly deformed, feathered ellipse around the face). No labelled fake was trained on or used "
        "for model selection. Both classes went through the same augmentation (recolouring, small shifts and "
        f"turns, down-and-up resizing, blur, and JPEG re-encoding at a random quality {augment['jpeg_quality'][0]}-"
        f"{augment['jpeg_quality'][1]} for {augment['jpeg_probability']:.0%} of crops), so compression is not a "
        "class cue.",
        "development_notes": list(notes),
        "metrics": {},
        "limitations": LIMITATIONS,
    }
    write_bundle(folder, folder / MODEL_FILE, card)
    scale, bias = calibrate(FaceForgeryModel(Settings(), load_bundle(folder)), manifest, saved["config"]["seed"])
    card["calibration"].update(scale=round(scale, 5), bias=round(bias, 5), fitted_on="validation self-blend set (a)")
    write_bundle(folder, folder / MODEL_FILE, card)
    served = FaceForgeryModel(Settings(), load_bundle(folder))
    metrics = write_reports(evaluate_faces(served, manifest, saved["config"]["seed"]), folder / "evaluation")
    written = json.loads((folder / CARD_FILE).read_text())
    final = {
        **written,
        "limitations": written["limitations"] + weak_spots(metrics),
        "summary": summary(metrics),
        "metrics": metrics,
        "speed": speed(served),
    }
    (folder / CARD_FILE).write_text(json.dumps(final, indent=2) + "\n")
    (folder / "card.md").write_text(render_card(final) + render_summary(final))
    return folder


def weak_spots(metrics: dict[str, dict[str, Any]], floor: float = 0.75) -> list[str]:
    """A limitation for every held-out comparison where the model ranks poorly, written from the measured figures."""
    notes = []
    for row in summary(metrics):
        if row["auc"] is not None and row["auc"] < floor:
            notes.append(
                f"Measured weakness: {row['comparison']} AUC {row['auc']} ({row['n_real']} real / {row['n_fake']} "
                "fake crops); do not rely on this model for that kind of data."
            )
    return notes


def summary(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per comparison: the headline figures and the counts they rest on."""
    rows = []
    for name, report in metrics.items():
        figures = report.get("as_served", report)
        keys = ("n_real", "n_fake", "auc", "average_precision", "balanced_accuracy", "ece")
        rows.append({"comparison": name, **{key: figures[key] for key in keys}})
    return rows


def render_summary(card: dict[str, Any]) -> str:
    """Markdown: the summary table and the measured speed (appended to the shared card layout)."""
    lines = ["## Summary (held-out crops; calibrated P(fake))", ""]
    lines += [
        "| comparison | real | fake | AUC | AP | balanced acc. @ threshold | ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in card["summary"]:
        values = [row[key] for key in ("n_real", "n_fake", "auc", "average_precision", "balanced_accuracy", "ece")]
        lines.append(f"| {row['comparison']} | " + " | ".join(str(value) for value in values) + " |")
    speed = card["speed"]
    lines += [
        "",
        f"Speed: a batch of {speed['batch']} crops takes {speed['median_ms']} ms (median of {speed['repeats']}) "
        f"on {speed['ort_threads']} ONNX Runtime thread, measured when the bundle was written.",
        "",
    ]
    if card["development_notes"]:
        lines += ["## Development notes", ""] + [f"- {note}" for note in card["development_notes"]] + [""]
    return "\n".join(lines)


def calibrate(model: FaceForgeryModel, manifest: Path, seed: int) -> tuple[float, float]:
    images, labels = self_blended_set(load_crops(manifest, "val", REAL), VAL_VARIANTS, seed)
    return fit_platt(labels, model.logits(images))


def speed(model: FaceForgeryModel, batch: int = 8, repeats: int = 50) -> dict[str, Any]:
    """Median wall time of one batch of crops on one ONNX Runtime thread (the session the wrapper uses)."""
    crops = [
        np.random.default_rng(i).integers(0, 256, (FACE_CROP_SIZE, FACE_CROP_SIZE, 3), np.uint8) for i in range(batch)
    ]
    model.logits(crops)  # warm-up: the first call allocates
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.logits(crops)
        timings.append(time.perf_counter() - started)
    return {
        "batch": batch,
        "ort_threads": 1,
        "median_ms": round(1000 * float(np.median(timings)), 2),
        "repeats": repeats,
    }


def training_data(manifest: Path) -> list[str]:
    counts = Counter((sample.source, sample.group) for sample, split in read_prepared(manifest) if split == "train")
    return [
        f"{source} / {group}: {count} real face crops — licence: {LICENCES.get(source.split('/')[0], 'see source')}"
        for (source, group), count in sorted(counts.items())
    ]
