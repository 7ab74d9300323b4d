"""Optional int8 quantization of an exported bundle, kept only when validation data shows no loss beyond a
stated tolerance (`realeyes export --int8`, `realeyes localizer export --int8`).

ONNX Runtime static QDQ quantization: uint8 activations whose ranges are the 99.999th percentiles seen on the
model's real inputs from the validation split (plain min-max ranges are stretched by a few outliers), and int8
weights per output channel. On the classifier's validation split this kept AUC 0.870 against 0.874 in fp32, where
min-max ranges with per-tensor weights lost 0.07; yet its test AUC fell by 0.045, so both graphs' test figures
are recorded too (docs/BENCHMARKS.md). The decision uses validation data only, so the test figures on the card
stay an unbiased measure of the graph that is shipped."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from realeyes.models.bundle import MODEL_FILE, Bundle, load_bundle

METHOD = "ONNX Runtime static QDQ (uint8 activations, per-channel int8 weights, percentile calibration)"


def quantize_int8(model: Path, target: Path, batches: Iterable[np.ndarray], keep_fp32: Sequence[str] = ()) -> None:
    """Write an int8 QDQ copy of MODEL to TARGET, with activation ranges from BATCHES (the model's `image` input);
    the nodes named in KEEP_FP32 stay in float (values whose meaning lies in steps finer than 1/256 of range)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

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
        per_channel=True,
        calibrate_method=CalibrationMethod.Percentile,
        nodes_to_exclude=list(keep_fp32),
    )


def choose_int8(
    folder: Path,
    batches: list[np.ndarray],
    validation_score: Callable[[Bundle], float | None],
    metric: str,
    tolerance: float,
    test_score: Callable[[Bundle], float | None],
    keep_fp32: Sequence[str] = (),
) -> dict[str, Any]:
    """Quantize FOLDER's graph and score both graphs on validation data; the int8 graph replaces the fp32 one
    only if its score is at most TOLERANCE below (never when validation cannot score, e.g. a single class).
    Both graphs are also scored on test data, for the record only: validation can understate the loss.
    Returns the card's `quantization` record either way."""
    fp32_bundle = load_bundle(folder)
    fp32, fp32_test = validation_score(fp32_bundle), test_score(fp32_bundle)
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Bundle(Path(scratch), fp32_bundle.card)
        quantize_int8(folder / MODEL_FILE, candidate.path / MODEL_FILE, batches, keep_fp32)
        int8, int8_test = validation_score(candidate), test_score(candidate)
        kept = fp32 is not None and int8 is not None and int8 >= fp32 - tolerance
        if kept:
            shutil.copyfile(candidate.path / MODEL_FILE, folder / MODEL_FILE)
    return {
        "method": METHOD,
        "calibration_batches": len(batches),
        "kept_in_fp32": list(keep_fp32),
        "decided_on": f"validation {metric}",
        "fp32": None if fp32 is None else round(fp32, 4),
        "int8": None if int8 is None else round(int8, 4),
        "tolerance": tolerance,
        "test_fp32": None if fp32_test is None else round(fp32_test, 4),  # reported, never used to decide
        "test_int8": None if int8_test is None else round(int8_test, 4),
        "kept": kept,
        "served": "int8" if kept else "fp32",
    }
