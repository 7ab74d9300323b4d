"""torch -> one self-contained ONNX file, and its parity with torch: shared by every model's export."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import torch


def write_onnx(model: torch.nn.Module, path: Path, example: torch.Tensor, dims: dict[int, Any], output: str) -> None:
    """Export with the dynamo exporter (input "image", dynamic dimensions `dims`) into a single file."""
    with warnings.catch_warnings():  # torch's exporter trips its own deprecation of pytree internals
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            model.eval(),
            (example,),
            str(path),
            input_names=["image"],
            output_names=[output],
            dynamo=True,
            dynamic_shapes=(dims,),
            optimize=True,
            verbose=False,
        )
    # One self-contained file: the exporter writes weights beside the graph, which the card's sha256 would miss.
    graph = onnx.load(str(path))
    Path(f"{path}.data").unlink(missing_ok=True)
    onnx.save_model(graph, str(path), save_as_external_data=False)


def parity(model: torch.nn.Module, path: Path, shapes: list[tuple[int, ...]]) -> float:
    """Max |ONNX - torch| output over random inputs of the given shapes."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for shape in shapes:
        batch = rng.random(shape, dtype=np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(batch)).numpy()
        worst = max(worst, float(np.abs(session.run(None, {"image": batch})[0] - expected).max()))
    return worst
