"""Optional int8 quantization of an exported bundle, kept only when validation data shows no loss beyond a
stated tolerance (`realeyes export --int8`, `realeyes localizer export --int8`).

ONNX Runtime static QDQ quantization (uint8 activations, int8 weights). Activation ranges are calibrated on the
model's real inputs from the validation split, not on synthetic images, whose ranges differ from photographs'.
The decision uses validation data only, so the test figures on the card stay an unbiased measure of the graph
that is shipped."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.models.bundle import MODEL_FILE, Bundle, load_bundle

METHOD = "ONNX Runtime static QDQ (uint8 activations, int8 weights, MinMax calibration)"


def quantize_int8(model: Path, target: Path, batches: Iterable[np.ndarray]) -> None:
    """Write an int8 QDQ copy of MODEL to TARGET, with activation ranges from BATCHES (the model's `image` input)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Inputs(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.feeds = iter({"image": batch} for batch in batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    quantize_static(
        str(model),
        str(target),
        Inputs(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )


def choose_int8(
    folder: Path,
    batches: list[np.ndarray],
    validation_score: Callable[[Bundle], float | None],
    metric: str,
    tolerance: float,
) -> dict[str, Any]:
    """Quantize FOLDER's graph and score both graphs on validation data; the int8 graph replaces the fp32 one
    only if its score is at most TOLERANCE below (never when validation cannot score, e.g. a single class).
    Returns the card's `quantization` record either way."""
    fp32 = validation_score(load_bundle(folder))
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Bundle(Path(scratch), load_bundle(folder).card)
        quantize_int8(folder / MODEL_FILE, candidate.path / MODEL_FILE, batches)
        int8 = validation_score(candidate)
        kept = fp32 is not None and int8 is not None and int8 >= fp32 - tolerance
        if kept:
            shutil.copyfile(candidate.path / MODEL_FILE, folder / MODEL_FILE)
    return {
        "method": METHOD,
        "calibration_batches": len(batches),
        "decided_on": f"validation {metric}",
        "fp32": None if fp32 is None else round(fp32, 4),
        "int8": None if int8 is None else round(int8, 4),
        "tolerance": tolerance,
        "kept": kept,
        "served": "int8" if kept else "fp32",
    }
