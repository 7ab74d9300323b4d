"""Speed of the learned models: ONNX Runtime vs torch eager, fp32 vs static int8, one thread.

Usage: python benchmarks/bench_models.py [--task classifier|localizer] [--bundle DIR] [--repeats N]
       [--fixed-set DIR]

Classifier: what a scan does per 1024 px image, the analyzer's grid crops as one batch (crop size and count from
the bundle's card). Localizer: one whole 512x512 image. Torch runs the same architecture with the bundle's config
(weights do not change speed). Int8 uses ONNX Runtime static QDQ quantization calibrated on synthetic images
(`realeyes export --int8` calibrates on real validation images instead, and keeps int8 only within a tolerance); its
agreement with fp32 is reported on other synthetic images, and for the localizer, with --fixed-set (a folder
written by `realeyes localizer prepare`), as pixel and image metrics of both on that set.
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

from realeyes import samples
from realeyes.analyzers.localizer import LocalizerAnalyzer
from realeyes.config import Settings
from realeyes.imaging import grid_crops
from realeyes.models import Bundle, Registry, load_bundle
from realeyes.training.localizer.evaluate import predict, summarise
from realeyes.training.localizer.model import LocalizerConfig, ManipulationLocalizer
from realeyes.training.localizer.prepare import read_fixed_set
from realeyes.training.model import ClassifierConfig, ResidualClassifier
from realeyes.training.quantize import quantize_int8

LOCALIZER_SIDE = 512


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


def whole_image(seed: int, side: int = LOCALIZER_SIDE) -> np.ndarray:
    return samples.photo_like(side, side, seed=seed).astype(np.float32).transpose(2, 0, 1)[None] / 255.0


def print_speed(title: str, results: dict[str, float]) -> None:
    print(f"# {title}\n")
    print("| engine | median ms per image | vs ONNX Runtime fp32 |\n|---|---:|---:|")
    base = results["ONNX Runtime fp32"]
    for name, ms in results.items():
        print(f"| {name} | {ms:.1f} | {ms / base:.2f}x |")


def bench_classifier(bundle: Bundle, repeats: int) -> None:
    crop, count = int(bundle.card["input"]["crop"]), int(bundle.card["input"]["crops"])
    batch = crops_batch(0, crop, count)
    torch.set_num_threads(1)
    architecture = bundle.card["architecture"]
    model = ResidualClassifier(ClassifierConfig(tuple(architecture["widths"]), architecture["residual_gain"])).eval()
    fp32 = session(bundle.path / "model.onnx")
    with tempfile.TemporaryDirectory() as folder:
        int8_path = Path(folder) / "int8.onnx"
        quantize_int8(bundle.path / "model.onnx", int8_path, [crops_batch(1000 + i, crop, count) for i in range(16)])
        int8 = session(int8_path)
        with torch.inference_mode():
            results = {
                "torch eager fp32": median_ms(lambda: model(torch.from_numpy(batch)), repeats),
                "ONNX Runtime fp32": median_ms(lambda: fp32.run(None, {"image": batch}), repeats),
                "ONNX Runtime int8 (static QDQ)": median_ms(lambda: int8.run(None, {"image": batch}), repeats),
            }
        probe = np.concatenate([crops_batch(seed, crop, count) for seed in range(7, 15)])
        reference = fp32.run(None, {"image": probe})[0]
        difference = float(np.abs(reference - int8.run(None, {"image": probe})[0]).max())
        spread = float(reference.max() - reference.min())
    print_speed(
        f"Classifier speed: {bundle.name} {bundle.version}, {count} crops of {crop} px per 1024 px image, 1 thread",
        results,
    )
    print(
        f"\nint8 vs fp32: max |logit difference| {difference:.3f} over {len(probe)} synthetic crops "
        f"(fp32 logits span {spread:.2f})."
    )


def bench_localizer(bundle: Bundle, repeats: int, fixed_set: Path | None) -> None:
    image = whole_image(0)
    torch.set_num_threads(1)
    model = ManipulationLocalizer(LocalizerConfig.from_saved(bundle.card["architecture"])).eval()
    fp32 = session(bundle.path / "model.onnx")
    with tempfile.TemporaryDirectory() as folder:
        int8_bundle = Bundle(Path(folder), bundle.card)  # same card, quantized graph: for the quality check
        calibration = [whole_image(1000 + i) for i in range(8)]
        quantize_int8(bundle.path / "model.onnx", int8_bundle.path / "model.onnx", calibration)
        int8 = session(int8_bundle.path / "model.onnx")
        with torch.inference_mode():
            results = {
                "torch eager fp32": median_ms(lambda: model(torch.from_numpy(image)), repeats),
                "ONNX Runtime fp32": median_ms(lambda: fp32.run(None, {"image": image}), repeats),
                "ONNX Runtime int8 (static QDQ)": median_ms(lambda: int8.run(None, {"image": image}), repeats),
            }
        print_speed(
            f"Localizer speed: {bundle.name} {bundle.version}, one {LOCALIZER_SIDE} px image, 1 thread", results
        )
        probes = [whole_image(seed) for seed in range(7, 11)]
        difference = max(
            float(np.abs(fp32.run(None, {"image": p})[0] - int8.run(None, {"image": p})[0]).max()) for p in probes
        )
        print(f"\nint8 vs fp32: max |pixel logit difference| {difference:.3f} over {len(probes)} synthetic images.")
        if fixed_set is not None:
            compare_quality(bundle, int8_bundle, fixed_set)


def compare_quality(fp32: Bundle, int8: Bundle, fixed_set: Path) -> None:
    images = read_fixed_set(fixed_set)
    print(f"\nQuality on {fixed_set} ({len(images)} images):\n")
    print("| graph | pixel F1 @0.5 | pixel best F1 | pixel AUC | image AUC |\n|---|---:|---:|---:|---:|")
    for name, bundle in (("fp32", fp32), ("int8", int8)):
        analyzer = LocalizerAnalyzer(Settings(), bundle=bundle)
        summary = summarise(analyzer, images, *predict(analyzer, images))
        pixel = summary["pixel"]
        print(f"| {name} | {pixel['f1_at_05']} | {pixel['best_f1']} | {pixel['auc']} | {summary['image']['auc']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("classifier", "localizer"), default="classifier")
    parser.add_argument("--bundle", type=Path, help="default: the promoted bundle of the task")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--fixed-set", type=Path, help="localizer: also compare int8 with fp32 on this set")
    args = parser.parse_args()
    bundle = load_bundle(args.bundle) if args.bundle else Registry(Settings().models_dir).promoted(args.task)
    if args.task == "classifier":
        bench_classifier(bundle, args.repeats)
    else:
        bench_localizer(bundle, args.repeats, args.fixed_set)


if __name__ == "__main__":
    main()
