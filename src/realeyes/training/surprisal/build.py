"""From a coder checkpoint (or another bundle's network) to a bundle: ONNX export with a parity check, the
statistic and crop layout chosen on validation images, and the reference distribution of real photos that turns
the statistic into a rank."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import torch

from realeyes.analyzers.surprisal import statistic
from realeyes.models.bundle import CARD_FILE, MODEL_FILE
from realeyes.models.coding_cost import SCALES, crop_costs
from realeyes.training.bundles import BundleSteps, build_bundle
from realeyes.training.catalog import SOURCES
from realeyes.training.generalisation.launder import launder, read_oriented, rng_for
from realeyes.training.generalisation.validation import validation_set
from realeyes.training.onnx_export import parity, write_onnx
from realeyes.training.pipeline import PipelineError
from realeyes.training.surprisal.train import TRAINING_SOURCES, load_coder, training_photos

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layout:
    """Which crops of an image's luma are coded: `crops` (1, 4 or 9) grid crops of `crop` px (`grid_crops`)."""

    crops: int
    crop: int

    @property
    def name(self) -> str:
        return f"{self.crops} x {self.crop} px"


# Candidate layouts, none dearer than 0.1.0's four 192 px crops (the speed budget's): docs/MODELS.md.
LAYOUTS = [Layout(4, 192), Layout(4, 128), Layout(1, 256), Layout(1, 192)]
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

    def costs(self, rgb: np.ndarray, layout: Layout) -> np.ndarray | None:
        """The analyzer's rule with this layout (every scale coded); None when the image is too small for it."""
        return crop_costs(rgb, self, layout.crop, layout.crops)

    def table(self, images: list[np.ndarray], layout: Layout) -> np.ndarray:
        """The costs of images that must all be large enough for the layout (the validation images)."""
        rows = [self.costs(rgb, layout) for rgb in images]
        if any(row is None for row in rows):
            raise PipelineError(f"a validation image is under {layout.crop // 2} px on a side")
        return np.array(rows)


def _clean_and_laundered(path: Path, key: str) -> list[np.ndarray]:
    rgb = read_oriented(path.read_bytes())
    laundered = read_oriented(launder(rgb, rng_for(key, "launder")))
    return [rgb, laundered]


def coded_pixels(weights: list[float]) -> int:
    """What serving a statistic costs, in pixels coded per half-resolution pixel: the analyzer codes only the
    scales a statistic reads, and the full-resolution scale has four times the half-resolution one's pixels."""
    return sum(4 ** (SCALES - 1 - scale) for scale in range(SCALES) if any(weights[2 * scale : 2 * scale + 2]))


def serving_cost(statistic_name: str, layout: Layout) -> int:
    """Pixels coded per image (in half-resolution pixels) to serve a statistic with a layout."""
    return layout.crops * (layout.crop // 2) ** 2 * coded_pixels(CANDIDATES[statistic_name])


Choice = tuple[str, Layout]  # (statistic name, layout)


def choose(coder: OnnxCoder, shared: Path) -> tuple[Choice, dict[str, Any]]:
    """The cheapest (statistic, layout) to serve among those within SELECTION_TOLERANCE of the best selection
    figure (the mean of the laundered and hard AUCs): a tie is not worth four times the analysis time."""
    validation = validation_set(shared)
    figures: dict[Choice, dict[str, float | None]] = {}
    for layout in LAYOUTS:
        table = coder.table(validation.images, layout)
        for name, weights in CANDIDATES.items():
            figures[name, layout] = validation.figures(table @ np.array(weights))
    selection = {choice: float(f["selection"] or 0.5) for choice, f in figures.items()}
    rule = f"cheapest to serve within {SELECTION_TOLERANCE} of the best mean of the laundered and hard AUCs"
    named = {f"{name}, {layout.name}": f for (name, layout), f in figures.items()}
    return cheapest_close(selection), {"data": validation.data, "figures": named, "rule": rule}


def cheapest_close(figures: dict[Choice, float]) -> Choice:
    """Of the candidates within SELECTION_TOLERANCE of the best figure, the cheapest to serve (then the better)."""
    close = [choice for choice in figures if figures[choice] >= max(figures.values()) - SELECTION_TOLERANCE]
    return min(close, key=lambda choice: (serving_cost(*choice), -figures[choice]))


def selection_figure(coder: OnnxCoder, shared: Path, weights: list[float], layout: Layout) -> tuple[float, str]:
    """The selection figure (mean of the laundered and hard validation AUCs) of one statistic served with one
    layout."""
    validation = validation_set(shared)
    figures = validation.figures(coder.table(validation.images, layout) @ np.array(weights))
    return float(figures["selection"] or 0.5), validation.data


def reference_values(coder: OnnxCoder, shared: Path, weights: list[float], layout: Layout) -> list[float]:
    """The statistic of every training photo, clean and laundered: the real photos a score is ranked among."""
    values = []
    for path, key in training_photos(shared):
        for rgb in _clean_and_laundered(path, key):
            costs = coder.costs(rgb, layout)
            if costs is not None:  # the photos the analyzer would score
                values.append(round(statistic(costs, weights), 5))
    return sorted(values)


def build_coder_bundle(source: Path, shared: Path, folder: Path, version: str) -> Path:
    """`source` is a training checkpoint (exported to ONNX) or a coder bundle whose network is reused as it is.
    The statistic and crop layout are the coder's calibration: chosen on validation images, ranked among training
    photos. Its held-out figures come from the generalisation benchmark, which leads the card once run."""
    if source.is_dir():
        reused = json.loads((source / CARD_FILE).read_text())
        network = {key: reused[key] for key in ("architecture", "training", "training_data", "synthetic")}
        network["network_from"] = f"{reused['name']}-{reused['version']} (its ONNX graph, unchanged)"

        def write_network(path: Path) -> float:
            shutil.copyfile(source / MODEL_FILE, path)
            return float(reused["onnx_parity_max_abs_diff"])

    else:
        _, config = load_coder(source)
        network = {
            "architecture": {"name": "Coder", "width": config.width, "depth": config.depth},
            "training": {"config": config.__dict__},
            "training_data": [f"{name} (real photos only) — licence: {LICENCES[name]}" for name in TRAINING_SOURCES],
            "synthetic": "Each training photo also enters laundered and through one hard pipeline (upscaled, "
            "denoised, low-light or recompressed), then laundered; no generated image is used to train.",
        }

        def write_network(path: Path) -> float:
            return export(source, path)

    card = {
        "name": "realeyes-coding-cost",
        "version": version,
        "task": "surprisal",
        "description": "Lossless multi-resolution coder of real photos (luma, 2x2 sub-pixel phases predicted from "
        "the half-resolution image as discretised logistics); the score ranks an image's coding-cost gap "
        "(actual minus expected bits per pixel) among real photos. Trained on real photos only.",
        **network,
        "input": None,
        "threshold": None,
        "calibration": "none: the score is the statistic's rank among the reference real photos",
        "statistic": None,
        "reference": None,
        "onnx_parity_max_abs_diff": None,
        "metrics": {},
        "limitations": [
            "Sees luma only, in the crops `input` names: colour-only traces and regions outside them are missed.",
            "A coder this small models real photos roughly: its gap is weak evidence on its own (see the "
            "generalisation benchmark in docs/MODELS.md for what it is worth on unseen sources).",
        ],
    }

    def calibrate(bundle: Path) -> dict[str, Any]:
        coder = OnnxCoder(bundle / MODEL_FILE)
        (name, layout), selection = choose(coder, shared)
        log.info("statistic %s, %s (validation figures %s)", name, layout.name, selection["figures"])
        weights = CANDIDATES[name]
        statistic = {"name": name, "weights": weights, "features": FEATURES, "selection": selection}
        data = f"{', '.join(TRAINING_SOURCES)}: clean and laundered"
        return {
            "input": {"crop": layout.crop, "crops": layout.crops, "range": "BT.601 luma, 0-255"},
            "statistic": statistic,
            "reference": {"data": data, "values": reference_values(coder, shared, weights, layout)},
        }

    steps = BundleSteps(card, write_network, calibrate, lambda bundle: {})
    return build_bundle(folder, steps)
