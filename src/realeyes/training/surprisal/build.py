"""From a coder checkpoint to a bundle: ONNX export with a parity check, the statistic chosen on validation
images, and the reference distribution of real photos that turns the statistic into a rank."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import torch

from realeyes.analyzers.surprisal import statistic
from realeyes.imaging import grid_crops, to_luma
from realeyes.models.bundle import MODEL_FILE
from realeyes.models.coding_cost import SCALES, coding_costs
from realeyes.training.bundles import BundleSteps, build_bundle
from realeyes.training.catalog import SOURCES
from realeyes.training.generalisation.launder import launder, read_oriented, rng_for
from realeyes.training.metrics import roc_auc
from realeyes.training.onnx_export import parity, write_onnx
from realeyes.training.surprisal.train import TRAINING_SOURCES, load_coder, training_photos

log = logging.getLogger(__name__)

CROP, CROPS = 192, 4  # 192 px crops keep the full analysis of a 1024 px image within 150 ms (BENCHMARKS.md)
FEATURES = ["actual_0", "expected_0", "actual_1", "expected_1"]
# Candidate statistics on the FEATURES, higher = less surprising than expected.
CANDIDATES: dict[str, list[float]] = {
    "gap, full resolution": [-1.0, 1.0, 0.0, 0.0],
    "gap, half resolution": [0.0, 0.0, -1.0, 1.0],
    "gap, both scales": [-1.0, 1.0, -1.0, 1.0],
    "gap, full minus half": [-1.0, 1.0, 1.0, -1.0],
    "cost, full resolution": [-1.0, 0.0, 0.0, 0.0],
}
LICENCES = {name: source.licence for name, source in ((s.name, s) for s in SOURCES.values())}
VALIDATION = "faces/ecuador-flux-faces"  # real news photos and FLUX fakes of 4 people: chooses the statistic
VALIDATION_PER_CLASS = 120
SELECTION_TOLERANCE = 0.01


def export(checkpoint: Path, path: Path) -> float:
    model, _ = load_coder(checkpoint)
    dims = {0: torch.export.Dim("batch", min=1, max=64), 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    write_onnx(model, path, torch.rand(3, 6, 64, 64), dims, "params")
    return parity(model, path, [(3, 6, 64, 64), (3, 6, 96, 128)])


class OnnxCoder:
    def __init__(self, path: Path) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {"image": inputs})[0], dtype=np.float64)

    def costs(self, rgb: np.ndarray) -> np.ndarray:
        """The analyzer's rule: mean (actual, expected) per scale over CROPS grid crops of CROP px."""
        size = min(CROP, *rgb.shape[:2]) // 2**SCALES * 2**SCALES
        luma = to_luma(rgb)
        return np.asarray(np.mean([np.ravel(coding_costs(c, self)) for c in grid_crops(luma, size, CROPS)], axis=0))


def _clean_and_laundered(path: Path, key: str) -> list[np.ndarray]:
    rgb = read_oriented(path.read_bytes())
    laundered = read_oriented(launder(rgb, rng_for(key, "launder")))
    return [rgb, laundered]


def _validation(shared: Path) -> list[tuple[Path, str, int]]:
    folder = shared / VALIDATION
    real = sorted((folder / "real").glob("*/*.jpg"))[:: max(1, 284 // VALIDATION_PER_CLASS)][:VALIDATION_PER_CLASS]
    fake = sorted((folder / "fake").glob("*/*.jpg"))[:: max(1, 285 // VALIDATION_PER_CLASS)][:VALIDATION_PER_CLASS]
    return [(p, p.relative_to(shared).as_posix(), label) for label, paths in ((0, real), (1, fake)) for p in paths]


def _validation_costs(coder: OnnxCoder, shared: Path) -> tuple[np.ndarray, list[int], str]:
    """Coding costs of the validation images, clean and laundered; their labels; what they are."""
    costs, labels = [], []
    for path, key, label in _validation(shared):
        for rgb in _clean_and_laundered(path, key):
            costs.append(coder.costs(rgb))
            labels.append(label)
    return np.array(costs), labels, f"{VALIDATION}: {len(labels) // 2} images, clean and laundered"


def coded_pixels(weights: list[float]) -> int:
    """What serving a statistic costs, in pixels coded per half-resolution pixel: the analyzer codes only the
    scales a statistic reads, and the full-resolution scale has four times the half-resolution one's pixels."""
    return sum(4 ** (SCALES - 1 - scale) for scale in range(SCALES) if any(weights[2 * scale : 2 * scale + 2]))


def choose_statistic(coder: OnnxCoder, shared: Path) -> tuple[str, dict[str, Any]]:
    """The cheapest candidate to serve among those within SELECTION_TOLERANCE of the best validation AUC (clean
    and laundered images together): a tie in AUC is not worth four times the analysis time."""
    table, labels, data = _validation_costs(coder, shared)
    aucs = {name: float(roc_auc(labels, table @ np.array(w)) or 0.5) for name, w in CANDIDATES.items()}
    rule = f"cheapest to serve within {SELECTION_TOLERANCE} of the best validation AUC"
    return cheapest_close(aucs), {"data": data, "auc": aucs, "rule": rule}


def cheapest_close(aucs: dict[str, float]) -> str:
    """Of the candidates within SELECTION_TOLERANCE of the best AUC, the cheapest to serve (then the better)."""
    close = [name for name in aucs if aucs[name] >= max(aucs.values()) - SELECTION_TOLERANCE]
    return min(close, key=lambda name: (coded_pixels(CANDIDATES[name]), -aucs[name]))


def selection_auc(coder: OnnxCoder, shared: Path, weights: list[float]) -> tuple[float, str]:
    """The validation AUC of one statistic."""
    table, labels, data = _validation_costs(coder, shared)
    return float(roc_auc(labels, table @ np.array(weights)) or 0.5), data


def reference_values(coder: OnnxCoder, shared: Path, weights: list[float]) -> list[float]:
    """The statistic of every training photo, clean and laundered: the real photos a score is ranked among."""
    values = []
    for path, key in training_photos(shared):
        for rgb in _clean_and_laundered(path, key):
            if min(rgb.shape[:2]) >= CROP // 2:
                values.append(round(statistic(coder.costs(rgb), weights), 5))
    return sorted(values)


def build_coder_bundle(checkpoint: Path, shared: Path, folder: Path, version: str) -> Path:
    """The statistic is the coder's calibration: chosen on validation images, ranked among training photos. Its
    held-out figures come from the generalisation benchmark, which leads the card once run."""
    _, config = load_coder(checkpoint)
    card = {
        "name": "realeyes-coding-cost",
        "version": version,
        "task": "surprisal",
        "description": "Lossless multi-resolution coder of real photos (luma, 2x2 sub-pixel phases predicted from "
        "the half-resolution image as discretised logistics); the score ranks an image's coding-cost gap "
        "(actual minus expected bits per pixel) among real photos. Trained on real photos only.",
        "architecture": {"name": "Coder", "width": config.width, "depth": config.depth},
        "input": {"crop": CROP, "crops": CROPS, "range": "BT.601 luma, 0-255"},
        "threshold": None,
        "calibration": "none: the score is the statistic's rank among the reference real photos",
        "statistic": None,
        "reference": None,
        "onnx_parity_max_abs_diff": None,
        "training": {"config": config.__dict__},
        "training_data": [f"{source} (real photos only) — licence: {LICENCES[source]}" for source in TRAINING_SOURCES],
        "synthetic": "Each training photo also enters laundered and through one hard pipeline (upscaled, denoised, "
        "low-light or recompressed), then laundered; no generated image is used to train.",
        "metrics": {},
        "limitations": [
            "Sees luma only, 4 crops of 192 px: colour-only traces and regions outside the crops are missed.",
            "A coder this small models real photos roughly: its gap is weak evidence on its own (see the "
            "generalisation benchmark in docs/MODELS.md for what it is worth on unseen sources).",
        ],
    }

    def calibrate(bundle: Path) -> dict[str, Any]:
        coder = OnnxCoder(bundle / MODEL_FILE)
        name, selection = choose_statistic(coder, shared)
        log.info("statistic %s (validation AUC %s)", name, selection["auc"])
        weights = CANDIDATES[name]
        statistic = {"name": name, "weights": weights, "features": FEATURES, "selection": selection}
        data = f"{', '.join(TRAINING_SOURCES)}: clean and laundered"
        return {"statistic": statistic, "reference": {"data": data, "values": reference_values(coder, shared, weights)}}

    steps = BundleSteps(card, lambda path: export(checkpoint, path), calibrate, lambda bundle: {})
    return build_bundle(folder, steps)
