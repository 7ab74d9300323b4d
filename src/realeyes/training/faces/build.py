"""From a checkpoint to a shipped face-forgery bundle: export, calibrate on validation, evaluate, write the card."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.config import Settings
from realeyes.fusion import Thresholds
from realeyes.models.bundle import load_bundle
from realeyes.models.face_forgery import TASK, FaceForgeryModel
from realeyes.training.bundles import BundleSteps, build_bundle, render_card
from realeyes.training.calibration import fit_platt
from realeyes.training.dataset import FAKE
from realeyes.training.faces.clips import earned_fusion_weight, evaluate_clips, labelled_clips
from realeyes.training.faces.evaluate import evaluate_faces, write_reports
from realeyes.training.faces.export import export_onnx, load_checkpoint
from realeyes.training.faces.heldout import VAL_VARIANTS, validation_set
from realeyes.training.faces.sources import LICENCES
from realeyes.training.prepare import read_prepared
from realeyes.video.faces import FACE_CROP_SIZE, FACE_MARGIN

NAME = "realeyes-face-swap"

LIMITATIONS = [
    "Trained on one crop per DFDC video (2,000 source videos and their face swaps, made by DFDC's own swap methods) "
    "plus self-blends of real faces: other manipulations (re-enactment such as Face2Face, NeuralTextures, fully "
    "generated faces, diffusion edits) are outside what it was trained on.",
    "DFDC publishes no actor ids: the split keeps each source video with its swaps and near-identical crops "
    "together, but one actor can appear in two splits, so the DFDC test figures may be optimistic; the labelled "
    "clips of other data sets are the cross-dataset check, and they are few (see the counts).",
    "Crops must come from realeyes.video.faces.face_crop on an MTCNN box (realeyes.video.faces.detect_faces) with "
    "this card's margin and size; other framings are untested. Small, blurred, dark or profile faces carry fewer "
    "traces.",
    "Use the probability as one piece of evidence aggregated over a face track, not as proof about one frame.",
    "Licence: trained on DFDC crops (DFDC terms: research / non-commercial use only, no redistribution); this "
    "model inherits that restriction. The real photos of the Ecuador set are scraped news images.",
]


def build_face_bundle(
    checkpoint: Path,
    manifest: Path,
    folder: Path,
    version: str,
    notes: tuple[str, ...] = (),
    shared: Path | None = None,
) -> Path:
    """`notes`: development history worth knowing when reading the figures (shown on the card). `shared`: where
    the labelled clips are (clip-level figures and the fusion weight); without it the model gets no weight."""
    model, saved = load_checkpoint(checkpoint)
    augment = saved["config"]["augment"]
    history_path = checkpoint.with_suffix(".history.json")
    history = json.loads(history_path.read_text()) if history_path.is_file() else {}
    card: dict[str, Any] = {
        "name": NAME,
        "version": version,
        "task": TASK,
        "description": "Real vs face-swapped face crops: a small plain-torch CNN trained on real DFDC face swaps "
        "and self-blended images (SBI) of real faces, served with ONNX Runtime. Scores one face crop at a time; "
        "the video analyzer aggregates over a face track.",
        "architecture": {"name": "FaceForgeryNet", **saved["config"]["model"]},
        "input": {
            "crop": FACE_CROP_SIZE,
            "margin": FACE_MARGIN,
            "crop_function": "realeyes.video.faces.face_crop on a realeyes.video.faces.detect_faces (MTCNN) box",
            "layout": "NCHW float32",
            "range": "RGB / 255",
        },
        "threshold": Thresholds().ai_generated,  # the engine's verdict threshold, so card figures mean what scans do
        "calibration": {"method": "platt", "scale": 1.0, "bias": 0.0},
        "onnx_parity_max_abs_diff": None,
        "training": {
            "kept_step": saved["step"],  # the checkpoint with the best validation AUC
            "steps": history.get("steps"),
            "minutes": history.get("minutes"),
            "best_val_auc": history.get("best_val_auc"),
            "learning_curve": history.get("curve"),
            "config": saved["config"],
        },
        "training_data": training_data(manifest),
        "synthetic": f"Fakes: the training split's DFDC face swaps and, for {saved['config']['self_blend_share']:.0%} "
        "of the pairs (all of them for people without labelled swaps), self-blended images (SBI) made on the fly "
        "from the real crop (blended with a colour-, contrast-, scale- and sharpness-altered copy of itself inside "
        "a randomly deformed, feathered ellipse over the inner face). Each pair holds a real crop and a fake of the "
        "same source video. Both classes went through the same augmentation (recolouring, small shifts and "
        f"turns, down-and-up resizing, blur, and JPEG re-encoding at a random quality {augment['jpeg_quality'][0]}-"
        f"{augment['jpeg_quality'][1]} for {augment['jpeg_probability']:.0%} of crops), so compression is not a "
        "class cue.",
        "development_notes": list(notes),
        "metrics": {},
        "limitations": LIMITATIONS,
    }
    seed = saved["config"]["seed"]

    def calibrated(bundle: Path) -> dict[str, Any]:
        scale, bias = calibrate(_model(bundle), manifest, seed)
        fitted = {"scale": round(scale, 5), "bias": round(bias, 5), "fitted_on": calibration_data(manifest)}
        return {"calibration": {**card["calibration"], **fitted}}

    def evaluate_held_out(bundle: Path) -> dict[str, Any]:
        served = _model(bundle)
        metrics = write_reports(evaluate_faces(served, manifest, seed), bundle / "evaluation")
        clips = evaluate_clips(served, shared) if shared is not None and labelled_clips(shared) else None
        return {
            "limitations": card["limitations"] + weak_spots(metrics),
            "summary": summary(metrics),
            "metrics": metrics,
            "clips": clips,
            "fusion_weight": earned_fusion_weight(clips) if clips else 0.0,
            "fusion_weight_rule": "1 when the clip-level AUC's 95 % bootstrap interval on the labelled clips lies "
            "above 0.5, else 0 (the video analyzer then shows the face evidence without letting it decide)",
            "speed": speed(served),
        }

    def export(path: Path) -> float:
        return export_onnx(model, path, FACE_CROP_SIZE)

    return build_bundle(folder, BundleSteps(card, export, calibrated, evaluate_held_out, render=_render))


def _model(bundle: Path) -> FaceForgeryModel:
    return FaceForgeryModel(Settings(), load_bundle(bundle))


def _render(card: dict[str, Any]) -> str:
    title, rest = render_card(card).split("\n", 1)
    return title + "\n\n" + render_headline(card) + rest + render_summary(card)


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


def render_headline(card: dict[str, Any]) -> str:
    """Markdown: the figures the card leads with, on data the model never trained on or was chosen by."""
    lines = [
        "## Held-out figures (calibrated P(fake), threshold " + f"{card['threshold']})",
        "",
        "| data | real | fake | AUC | 95 % interval | real over the threshold |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    clips = card["clips"]
    if clips:
        lines.append(
            f"| labelled clips, clip level (the video analyzer's score) | {clips['n_real']} | {clips['n_fake']} | "
            f"{clips['clip_auc']} | {clips['clip_auc_ci95']} | {clips['real_clips_over_threshold']} clips |"
        )
    for name, report in card["metrics"].items():
        if name.startswith("test_labelled_"):
            served = report["as_served"]
            real_over = served["confusion"]["fp"]
            lines.append(
                f"| {report['data']} | {served['n_real']} | {served['n_fake']} | {served['auc']} | "
                f"{served['auc_ci95']} | {real_over} crops |"
            )
    if clips:
        lines.append(
            f"| labelled clips, every scored face | – | – | {clips['frame_level_face_auc']} | "
            f"{clips['frame_level_face_auc_ci95']} | – |"
        )
    lines += ["", f"Fusion weight {card['fusion_weight']}: {card['fusion_weight_rule']}.", ""]
    if clips:
        lines += [f"Clips: {clips['data']}; sampled at {clips['sampling_fps']} frames per second.", ""]
    return "\n".join(lines) + "\n"


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
    """Platt scaling on the validation set the checkpoint was chosen on."""
    images, labels = validation_set(manifest, VAL_VARIANTS, seed)
    return fit_platt(labels, model.logits(images))


def calibration_data(manifest: Path) -> str:
    rows = [sample for sample, split in read_prepared(manifest) if split == "val"]
    fakes = sum(sample.label == FAKE for sample in rows)
    if fakes:
        return f"validation split: {fakes} labelled fake crops against its {len(rows) - fakes} real crops"
    return "validation self-blend set (a)"


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
    """One line per training source: real and fake crops, how many groups, and its licence."""
    rows = [sample for sample, split in read_prepared(manifest) if split == "train"]
    lines = []
    for source in sorted({sample.source for sample in rows}):
        mine = [sample for sample in rows if sample.source == source]
        fakes = sum(sample.label == FAKE for sample in mine)
        groups = len({sample.group for sample in mine})
        licence = LICENCES.get(source.split("/")[0], "see source")
        lines.append(
            f"{source}: {len(mine) - fakes} real and {fakes} fake face crops from {groups} groups — licence: {licence}"
        )
    return lines
