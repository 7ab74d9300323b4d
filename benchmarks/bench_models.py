"""Speed of the learned classifier: ONNX Runtime vs torch eager, fp32 vs static int8, one thread.

Usage: python benchmarks/bench_models.py [--bundle DIR] [--repeats N]

Measures what a scan does per 1024 px image: the analyzer's grid crops as one batch (crop size and count from
the bundle's card). Torch runs the same architecture with the bundle's config (weights do not change speed).
Int8 uses ONNX Runtime static QDQ quantization calibrated on synthetic crops; its agreement with fp32 is
reported as the max logit difference on other synthetic crops.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

from realeyes import samples
from realeyes.config import Settings
from realeyes.imaging import grid_crops
from realeyes.models import Registry, load_bundle
from realeyes.training.model import ClassifierConfig, ResidualClassifier


def crops_batch(seed: int, crop: int, count: int) -> np.ndarray:
    image = samples.photo_like(1024, 1024, seed=seed)
    return np.stack(grid_crops(image, crop, count)).astype(np.float32).transpose(0, 3, 1, 2) / 255.0


def median_ms(run: Callable[[], object], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def session(path: Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class SyntheticCrops(CalibrationDataReader):  # type: ignore[misc]
    def __init__(self, crop: int, count: int) -> None:
        self.batches = iter([{"image": crops_batch(1000 + i, crop, count)} for i in range(16)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.batches, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="default: the promoted classifier")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    bundle = load_bundle(args.bundle) if args.bundle else Registry(Settings().models_dir).promoted("classifier")
    crop, count = int(bundle.card["input"]["crop"]), int(bundle.card["input"]["crops"])
    batch = crops_batch(0, crop, count)
    torch.set_num_threads(1)
    architecture = bundle.card["architecture"]
    model = ResidualClassifier(ClassifierConfig(tuple(architecture["widths"]), architecture["residual_gain"])).eval()
    fp32 = session(bundle.path / "model.onnx")
    with tempfile.TemporaryDirectory() as folder:
        int8_path = Path(folder) / "int8.onnx"
        quantize_static(
            str(bundle.path / "model.onnx"), str(int8_path), SyntheticCrops(crop, count),
            quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )  # fmt: skip
        int8 = session(int8_path)
        with torch.inference_mode():
            results = {
                "torch eager fp32": median_ms(lambda: model(torch.from_numpy(batch)), args.repeats),
                "ONNX Runtime fp32": median_ms(lambda: fp32.run(None, {"image": batch}), args.repeats),
                "ONNX Runtime int8 (static QDQ)": median_ms(lambda: int8.run(None, {"image": batch}), args.repeats),
            }
        probe = np.concatenate([crops_batch(seed, crop, count) for seed in range(7, 15)])
        reference = fp32.run(None, {"image": probe})[0]
        difference = float(np.abs(reference - int8.run(None, {"image": probe})[0]).max())
        spread = float(reference.max() - reference.min())
    print(
        f"# Classifier speed: {bundle.name} {bundle.version}, {count} crops of {crop} px per 1024 px image, 1 thread\n"
    )
    print("| engine | median ms per image | vs ONNX Runtime fp32 |\n|---|---:|---:|")
    base = results["ONNX Runtime fp32"]
    for name, ms in results.items():
        print(f"| {name} | {ms:.1f} | {ms / base:.2f}x |")
    print(
        f"\nint8 vs fp32: max |logit difference| {difference:.3f} over {len(probe)} synthetic crops "
        f"(fp32 logits span {spread:.2f})."
    )


if __name__ == "__main__":
    main()
