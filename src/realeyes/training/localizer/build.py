"""From a checkpoint to a shipped localizer bundle: export, calibrate on validation, evaluate on test, card.

With the shared data present, the card leads with real forgeries (COVERAGE's test half, baselines beside) and
with how often unseen, laundered authentic photos are labelled `manipulated`; the threshold also keeps COVERAGE's
validation originals within the false-alarm rate.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.analyzers.localizer import LocalizerAnalyzer, top_mean
from realeyes.config import Settings
from realeyes.fusion import Thresholds
from realeyes.models.bundle import Bundle
from realeyes.training.bundles import BundleSteps, build_bundle, render_card
from realeyes.training.calibration import fit_platt
from realeyes.training.catalog import SOURCES
from realeyes.training.localizer.evaluate import evaluate, write_report
from realeyes.training.localizer.export import export_onnx, load_checkpoint
from realeyes.training.localizer.model import TOP_FRACTION
from realeyes.training.localizer.prepare import PHOTO_SOURCES, FixedImage, read_fixed_set
from realeyes.training.localizer.real_forgeries import (
    authentic_report,
    compare,
    read_coverage,
    unseen_authentic_photos,
)
from realeyes.training.prepare import read_prepared
from realeyes.training.quantize import choose_int8

NAME = "realeyes-unet-localizer"
# Larger images are downscaled to this budget before inference: ~0.15 s on one thread instead of ~0.3 s for 1 MP,
# and the test set's pixel AUC hardly moves when images are halved (robustness resize0.5).
MAX_PIXELS = 512 * 1024
MIN_SIDE = 32
CALIBRATION_SIDE = 256  # int8 calibration windows (smaller when a validation image is smaller)
FALSE_ALARM_RATE = 0.05  # the threshold lets at most this share of authentic validation images through

SYNTHETIC = (
    "Everything the network saw is synthetic edits of real photos, made here (src/realeyes/training/localizer): "
    "a random ellipse, polygon, rectangle or irregular blob covering 2-30 % of the image is replaced by a window "
    "of another real photo that keeps its own camera noise and, half the time, its own JPEG history on a "
    "misaligned grid, half the time rotated and rescaled, then colour-matched or relit (splice); a shifted, "
    "sometimes rotated and rescaled copy of the same photo (copy-move); an OpenCV inpainting; a Gaussian/median "
    "blur; a down-and-up or zoomed resampling; or the TAEF2 tiny autoencoder's reconstruction (a local AI edit; "
    "MIT weights from ../shared/data/weights/taesd, re-implemented in training/taesd.py); seams are hard (25 %) "
    "or feathered. Every image, authentic ones (30 %) included, is then resized whole (35 %, x0.5-0.9) and "
    "re-encoded as JPEG q60-100 (85 %) or kept lossless. Mask rule: a pixel is edited when the edit's blend "
    "weight is >= 0.5 and its value changed by >= 1 grey level before the resize and recompression. No real "
    "forgery trained it; the real forgeries' validation half (COVERAGE, odd pairs) took part in choosing the "
    "checkpoint and the threshold, the test half (even pairs) only in the figures."
)

LIMITATIONS = [
    "The network was trained only on synthetic edits of ~190 real photos (ImageNet sample, camera samples); real "
    "forgeries (careful retouching, generative inpainting by diffusion models, content-aware fill) differ and "
    "are often missed: on real copy-moves most of the mask comes from the copy-move search, not the network.",
    "The copy-move search marks any region that repeats another pixel for pixel, the source as well as the copy, "
    "and genuinely repeated objects too (COVERAGE's originals were built from such objects: see "
    "authentic_flagged_area there). It shapes the mask only, never the `manipulated` vote.",
    "Edits of a whole image (filters, global AI generation) are not local edits: a fully AI-generated image is "
    "not 'manipulated' for this model; the classifier covers that case.",
    "Images above 0.5 MP are downscaled before inference, which weakens the traces it relies on (see the resize "
    "row of the robustness figures); heavy recompression does too.",
    "Smooth, low-texture areas (sky, walls, cloth, out-of-focus backgrounds) are often marked by the network: "
    "blurring and inpainting produce such areas (see authentic_flagged_pixel_fraction). Marks also fade within "
    "about 15 px of the image border.",
    "The image score is weak (see the image AUCs); its threshold lets at most 5 % of authentic validation images "
    "through, so it flags few edits: read the mask, not the score.",
    "The pixel map is a probability per pixel, not calibrated; the image score is Platt-calibrated on the "
    "synthetic validation set only, at even prior odds (its ECE on the 3:1 fixed sets is therefore high).",
    "Licences: the ImageNet sample photos are under ImageNet's non-commercial research terms; COVERAGE (used for "
    "selection and evaluation only) is non-commercial research only; check before any commercial use.",
]


def build_localizer_bundle(
    checkpoint: Path,
    workdir: Path,
    folder: Path,
    version: str,
    minutes: float | None,
    sweep: bool = True,
    int8_tolerance: float | None = None,
    shared: Path | None = None,
) -> Path:
    """INT8_TOLERANCE: also try an int8 graph and ship it if its validation pixel F1 at 0.5 is at most this much
    lower. SHARED: the data folder holding the real forgeries and the unseen authentic photos (None: skipped)."""
    model, saved = load_checkpoint(checkpoint)
    card: dict[str, Any] = {
        "name": NAME,
        "version": version,
        "task": "localizer",
        "description": "Manipulation localizer: a small U-Net (plain torch, ONNX Runtime at inference) that sees "
        "the colours and three fixed SRM noise residuals gives a per-pixel probability that the pixel was edited; "
        "a copy-move search marks regions that repeat another pixel for pixel in the same mask. The image score "
        "is the mean of the network's top 1 % pixel logits, Platt-calibrated. Whole image at native resolution "
        "up to 0.5 MP (larger ones are downscaled).",
        "architecture": {"name": "ManipulationLocalizer", **saved["config"]["model"]},
        "input": {
            "max_pixels": MAX_PIXELS,
            "min_side": MIN_SIDE,
            "top_fraction": TOP_FRACTION,
            "range": "RGB / 255",
            "layout": "NCHW",
        },
        "threshold": Thresholds().ai_generated,  # replaced by the validation-fitted one below
        "calibration": {"method": "platt", "scale": 1.0, "bias": 0.0},
        "onnx_parity_max_abs_diff": None,
        "training": {"steps": saved["step"], "wall_minutes": minutes, "config": saved["config"]},
        "training_data": _training_data(workdir),
        "synthetic": SYNTHETIC,
        "metrics": {},
        "limitations": LIMITATIONS,
    }
    val, test = read_fixed_set(workdir / "val"), read_fixed_set(workdir / "test")
    real_val = read_coverage(shared, "val") if shared else []

    def calibrate(bundle: Path) -> dict[str, Any]:
        return _calibration(LocalizerAnalyzer.from_bundle(bundle), val, real_val)

    def evaluate_held_out(bundle: Path) -> dict[str, Any]:
        analyzer, metrics = LocalizerAnalyzer.from_bundle(bundle), {}
        for split, images in (("val", val), ("test", test)):
            data = f"fixed synthetic {split} set {workdir / split} ({len(images)} images from held-out photos)"
            metrics[split] = evaluate(analyzer, images, data, sweep=sweep and split == "test")
            write_report(metrics[split], bundle / f"evaluation-{split}")
        if shared and real_val:
            metrics = {**real_world(analyzer, shared), **metrics}
        return {"speed_ms_512px_onnxruntime_1_thread": round(_time_512px(analyzer), 1), "metrics": metrics}

    int8 = None
    if int8_tolerance is not None:
        tolerance = int8_tolerance
        int8 = lambda bundle: _choose_int8(bundle, val, test, tolerance)  # noqa: E731
    steps = BundleSteps(card, lambda path: export_onnx(model, path), calibrate, evaluate_held_out, int8, _render)
    return build_bundle(folder, steps)


def _calibration(uncalibrated: LocalizerAnalyzer, val: list[FixedImage], real_val: list[FixedImage]) -> dict[str, Any]:
    """Platt scaling of the image score on the synthetic validation set, and the threshold of the card's rule."""
    labels = np.array([int(image.mask.any()) for image in val])
    logits = _image_logits(uncalibrated, val)
    scale, bias = fit_platt(labels, logits)
    # The fixed sets hold three edited images per authentic one, a ratio that says nothing about real inputs:
    # remove it from the bias, so that the probability is at even prior odds.
    bias -= float(np.log(labels.mean() / (1 - labels.mean())))
    calibration = {"method": "platt", "scale": round(scale, 5), "bias": round(bias, 5)}
    calibration.update(fitted_on="validation fixed set", prior="even odds")
    threshold = _threshold(scale * logits + bias, labels)
    rule = (
        f"lowest calibrated score that flags at most {FALSE_ALARM_RATE:.0%} of the authentic validation images, "
        f"and at least the engine's verdict threshold {Thresholds().ai_generated}"
    )
    if real_val:
        real_labels = np.array([int(image.mask.any()) for image in real_val])
        threshold = max(threshold, _threshold(scale * _image_logits(uncalibrated, real_val) + bias, real_labels))
        rule += f", and flags at most {FALSE_ALARM_RATE:.0%} of the authentic originals of the real forgeries' "
        rule += "validation half"
    return {"calibration": calibration, "threshold": threshold, "threshold_rule": rule}


def _render(card: dict[str, Any]) -> str:
    """The shared card, led by the real-forgery table, followed by the localizer's own notes."""
    title, rest = render_card(card).split("\n", 1)
    return "\n".join([title, "", *_real_world_table(card["metrics"]), rest]) + _localizer_notes(card)


def real_world(analyzer: LocalizerAnalyzer, shared: Path) -> dict[str, Any]:
    """The figures a user feels, first in the card: real forgeries (test half reported, validation half for
    reference: it took part in model selection and the threshold) and unseen authentic photos, laundered."""
    return {
        "real_forgeries_test": compare(analyzer, shared, "test"),
        "unseen_authentic_laundered": {
            "data": "real photos of the generalisation benchmark from sources the localizer never trained on, "
            f"laundered (../shared/docs/EVALUATION.md) from {shared}",
            **authentic_report(analyzer, unseen_authentic_photos(shared)),
        },
        "real_forgeries_val": compare(analyzer, shared, "val"),
    }


REAL_WORLD_COLUMNS = (
    ("pixel_f1_at_level", "pixel F1 at 0.5"),
    ("pixel_mean_best_f1", "pixel F1, best level per image"),
    ("pixel_iou_at_level", "IoU at 0.5"),
    ("pixel_auc", "pixel AUC"),
    ("image_auc", "image AUC"),
    ("authentic_flagged_area", "area flagged on originals"),
    ("authentic_labelled_manipulated", "originals labelled manipulated"),
    ("forged_labelled_manipulated", "forgeries labelled manipulated"),
)


def _real_world_table(metrics: dict[str, Any]) -> list[str]:
    """Markdown: the real-forgery test figures of the localizer and its baselines, and unseen authentic photos."""
    if "real_forgeries_test" not in metrics:
        return []
    test, authentic = metrics["real_forgeries_test"], metrics["unseen_authentic_laundered"]
    lines = [
        "## Real forgeries and unseen authentic photos (read this first)",
        "",
        f"Human-made copy-moves: {test['data']}; the baselines ran in the same run. {test['f1_note']}.",
        "",
        "| method | " + " | ".join(label for _, label in REAL_WORLD_COLUMNS) + " |",
        "|---" * (len(REAL_WORLD_COLUMNS) + 1) + "|",
    ]
    for name, figures in test["methods"].items():
        cells = ["" if figures.get(key) is None else f"{figures[key]:.3f}" for key, _ in REAL_WORLD_COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if authentic["n"]:
        lines += [
            "",
            f"Unseen authentic photos labelled `manipulated` by this model alone: "
            f"{authentic['labelled_manipulated']:.1%} of {authentic['n']} ({authentic['data']}). The verdict's own "
            "vote threshold is fitted on the generalisation benchmark (docs/VERDICTS.md).",
        ]
    return [*lines, ""]


def _choose_int8(folder: Path, val: list[FixedImage], test: list[FixedImage], tolerance: float) -> dict[str, Any]:
    """Calibrate int8 activation ranges on up to 48 validation images; decide by validation pixel F1 at 0.5."""
    fp32 = LocalizerAnalyzer.from_bundle(folder)
    # The percentile calibrator stacks activations, so every calibration input has one size: a centre window.
    inputs = [fp32.input_batch(image.rgb) for image in val[:: max(1, len(val) // 48)]]
    side = min(CALIBRATION_SIDE, *(min(batch.shape[2:]) for batch in inputs))
    batches = [_centre(batch, side) for batch in inputs]
    return choose_int8(
        folder,
        batches,
        lambda bundle: _pixel_f1(bundle, val),
        "pixel F1 at 0.5",
        tolerance,
        test_score=lambda bundle: _pixel_f1(bundle, test),
        keep_fp32=residual_nodes(folder / "model.onnx"),
    )


def residual_nodes(path: Path) -> list[str]:
    """The nodes computing the SRM residuals (their conv, scaling and truncation): they stay in float, since the
    residuals live in steps of a grey level that uint8 activations over the conv's range would erase."""
    import onnx

    graph = onnx.load(str(path)).graph
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    chain = [node for node in graph.node if node.op_type == "Conv" and "residuals.luma" in node.input]
    while chain and len(following := consumers.get(chain[-1].output[0], [])) == 1:
        if following[0].op_type == "Concat":
            break
        chain.append(following[0])
    return [node.name for node in chain]


def _centre(batch: np.ndarray, side: int) -> np.ndarray:
    height, width = batch.shape[2:]
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    return np.ascontiguousarray(batch[:, :, top : top + side, left : left + side])


def _pixel_f1(bundle: Bundle, images: list[FixedImage]) -> float:
    report = evaluate(LocalizerAnalyzer(Settings(), bundle=bundle), images, "fixed set", sweep=False)
    return float(report["pixel"]["f1_at_05"])


def _localizer_notes(card: dict[str, Any]) -> str:
    """What render_card (shared with the classifier) leaves out: the threshold's rule, speed and training run."""
    training = card["training"]
    return "\n".join(
        [
            "",
            "## Localizer notes",
            "",
            f"- threshold {card['threshold']}: {card['threshold_rule']}",
            f"- {card['speed_ms_512px_onnxruntime_1_thread']} ms per 512 px image, ONNX Runtime, one thread",
            f"- ONNX vs torch max |logit difference| {card['onnx_parity_max_abs_diff']:.2g}",
            f"- trained {training['wall_minutes']} min, {training['steps']} steps of "
            f"{training['config']['batch_size']} crops of {training['config']['crop']} px",
            "",
        ]
    )


def _image_logits(analyzer: LocalizerAnalyzer, images: list[Any]) -> np.ndarray:
    return np.array([top_mean(analyzer.pixel_logits(image.rgb), analyzer.top_fraction) for image in images])


def _threshold(calibrated_logits: np.ndarray, labels: np.ndarray) -> float:
    """The score threshold of the card's rule (see threshold_rule), rounded up to 4 decimals."""
    authentic = np.sort(1 / (1 + np.exp(-calibrated_logits[labels == 0])))
    allowed = int(np.floor(FALSE_ALARM_RATE * authentic.size))  # authentic images that may score at or above it
    highest_refused = authentic[authentic.size - allowed - 1] if allowed < authentic.size else 0.0
    return max(Thresholds().ai_generated, float(np.ceil(highest_refused * 10_000 + 1e-9) / 10_000))


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
    """Photos per source: the train split made the training edits; val and test only made the fixed sets."""
    counts: dict[tuple[str, str], int] = {}
    for sample, split in read_prepared(workdir / "manifest.csv"):
        counts[(sample.source, split)] = counts.get((sample.source, split), 0) + 1
    lines = []
    for source in sorted({source for source, _ in counts}):
        train, val, test = (counts.get((source, split), 0) for split in ("train", "val", "test"))
        where = f"../shared/data/{SOURCES[source].name}" if source in PHOTO_SOURCES else source
        licence = SOURCES[source].licence if source in SOURCES else "see source"
        lines.append(
            f"{where}: {train} real photos edited on the fly for training; {val} / {test} held-out photos made "
            f"the fixed validation / test sets — licence: {licence}"
        )
    return lines
