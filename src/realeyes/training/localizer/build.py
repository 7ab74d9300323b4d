"""From a checkpoint to a shipped localizer bundle: export, calibrate on validation, evaluate on test, card."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.analyzers.localizer import LocalizerAnalyzer, top_mean
from realeyes.config import Settings
from realeyes.models.bundle import CARD_FILE, load_bundle
from realeyes.training.calibration import fit_platt
from realeyes.training.catalog import SOURCES
from realeyes.training.export import render_card, write_bundle
from realeyes.training.localizer.evaluate import evaluate, write_report
from realeyes.training.localizer.export import export_onnx, load_checkpoint
from realeyes.training.localizer.model import TOP_FRACTION
from realeyes.training.localizer.prepare import PHOTO_SOURCES, read_fixed_set
from realeyes.training.localizer.synthesis import SynthesisConfig
from realeyes.training.prepare import read_prepared

NAME = "realeyes-unet-localizer"
MAX_PIXELS = 1024 * 1024  # larger images are downscaled to this budget before inference
MIN_SIDE = 32

SYNTHETIC = (
    "Everything the model saw is synthetic edits of real photos, made here (src/realeyes/training/localizer): a "
    "random ellipse, polygon or rectangle covering 2-30 % of the image is replaced by a window of another real "
    "photo (splice, colour-matched half the time), a shifted copy of the same photo (copy-move), an OpenCV "
    "inpainting, a Gaussian/median blur, a down-and-up or zoomed resampling, or the TAEF2 tiny autoencoder's "
    "reconstruction (a local AI edit; MIT weights from ../shared/data/weights/taesd, re-implemented in "
    "training/taesd.py); seams are hard (25 %) or feathered. Every image, authentic ones (30 %) included, is then "
    "re-encoded whole as JPEG q60-100 (85 %) or kept lossless. Mask rule: a pixel is edited when the edit's blend "
    "weight is >= 0.5 and its value changed by >= 1 grey level before the final recompression."
)

LIMITATIONS = [
    "Trained and tested only on synthetic edits of ~370 real photos (ImageNet sample, camera samples); real "
    "forgeries (careful retouching, generative inpainting by diffusion models, content-aware fill) differ and "
    "will often be missed.",
    "Edits of a whole image (filters, global AI generation) are not local edits: a fully AI-generated image is "
    "not 'manipulated' for this model; the classifier covers that case.",
    "Images above ~1 MP are downscaled before inference, which weakens the traces it relies on (see the resize "
    "row of the robustness figures); heavy recompression does too.",
    "The pixel map is a probability per pixel, not calibrated; the image score is Platt-calibrated on the "
    "synthetic validation set only.",
    "Licences: the ImageNet sample photos are under ImageNet's non-commercial research terms; check before any "
    "commercial use.",
]


def build_localizer_bundle(
    checkpoint: Path, workdir: Path, folder: Path, version: str, minutes: float | None, sweep: bool = True
) -> Path:
    model, saved = load_checkpoint(checkpoint)
    folder.mkdir(parents=True, exist_ok=True)
    parity = export_onnx(model, folder / "model.onnx")
    card: dict[str, Any] = {
        "name": NAME,
        "version": version,
        "task": "localizer",
        "description": "Manipulation localizer: a small U-Net (plain torch, ONNX Runtime at inference) gives a "
        "per-pixel probability that the pixel was edited; the image score is the mean of the top 1 % pixel "
        "logits, Platt-calibrated. Whole image at native resolution up to ~1 MP.",
        "architecture": {"name": "ManipulationLocalizer", **saved["config"]["model"]},
        "input": {
            "max_pixels": MAX_PIXELS,
            "min_side": MIN_SIDE,
            "top_fraction": TOP_FRACTION,
            "range": "RGB / 255",
            "layout": "NCHW",
        },
        "threshold": Settings().threshold,  # the engine's verdict threshold, so card figures mean what scans do
        "calibration": {"method": "platt", "scale": 1.0, "bias": 0.0},
        "onnx_parity_max_abs_diff": parity,
        "training": {"steps": saved["step"], "wall_minutes": minutes, "config": saved["config"]},
        "training_data": _training_data(workdir),
        "synthetic": SYNTHETIC,
        "metrics": {},
        "limitations": LIMITATIONS,
    }
    write_bundle(folder, folder / "model.onnx", card)
    val, test = read_fixed_set(workdir / "val"), read_fixed_set(workdir / "test")
    scale, bias = _calibrate(LocalizerAnalyzer(Settings(), bundle=load_bundle(folder)), val)
    card["calibration"].update(scale=round(scale, 5), bias=round(bias, 5), fitted_on="validation fixed set")
    write_bundle(folder, folder / "model.onnx", card)
    analyzer = LocalizerAnalyzer(Settings(), bundle=load_bundle(folder))
    card["speed_ms_512px_onnxruntime_1_thread"] = round(_time_512px(analyzer), 1)
    for split, images in (("val", val), ("test", test)):
        data = f"fixed synthetic {split} set {workdir / split} ({len(images)} images from held-out photos)"
        report = evaluate(analyzer, images, data, sweep=sweep and split == "test")
        write_report(report, folder / f"evaluation-{split}")
        card["metrics"][split] = report
    card_path = folder / CARD_FILE
    speed = {"speed_ms_512px_onnxruntime_1_thread": card["speed_ms_512px_onnxruntime_1_thread"]}
    final = {**json.loads(card_path.read_text()), **speed, "metrics": card["metrics"]}
    card_path.write_text(json.dumps(final, indent=2) + "\n")
    (folder / "card.md").write_text(render_card(final))
    return folder


def _calibrate(analyzer: LocalizerAnalyzer, images: list[Any]) -> tuple[float, float]:
    labels = np.array([int(image.mask.any()) for image in images])
    logits = np.array([top_mean(analyzer.pixel_logits(image.rgb), analyzer.top_fraction) for image in images])
    return fit_platt(labels, logits)


def _time_512px(analyzer: LocalizerAnalyzer, repeats: int = 10) -> float:
    """Median milliseconds of one 512x512 inference on the bundle's one-thread session."""
    rgb = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    analyzer.pixel_logits(rgb)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        analyzer.pixel_logits(rgb)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def _training_data(workdir: Path) -> list[str]:
    rows = read_prepared(workdir / "manifest.csv")
    counts: dict[str, int] = {}
    for sample, split in rows:
        counts[f"{sample.source}|{split}"] = counts.get(f"{sample.source}|{split}", 0) + 1
    licences = {name: source.licence for name, source in SOURCES.items()}
    lines = []
    for source in sorted({key.split("|")[0] for key in counts}):
        split_counts = ", ".join(f"{split} {counts.get(f'{source}|{split}', 0)}" for split in ("train", "val", "test"))
        where = "../shared/data/" + SOURCES[source].name if source in PHOTO_SOURCES else source
        lines.append(f"{where}: real photos by split ({split_counts}) — licence: {licences.get(source, 'see source')}")
    lines.append(f"Synthesis defaults: {SynthesisConfig()}")
    return lines
