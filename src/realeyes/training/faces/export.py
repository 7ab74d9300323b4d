"""Checkpoint -> ONNX (dynamic batch, fixed 128 px crops), with a parity check against torch."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import torch

from realeyes.training.faces.model import FaceForgeryNet, FaceNetConfig


def load_checkpoint(path: Path) -> tuple[FaceForgeryNet, dict[str, Any]]:
    checkpoint = torch.load(path, weights_only=True)  # plain dicts and tensors: no pickled code runs
    saved = checkpoint["config"]["model"]
    model = FaceForgeryNet(FaceNetConfig(widths=tuple(saved["widths"]), dropout=saved["dropout"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


def export_onnx(model: FaceForgeryNet, path: Path, crop: int) -> float:
    """Write one self-contained ONNX file and return the max |ONNX - torch| logit difference."""
    example = torch.rand(2, 3, crop, crop)
    dims = {0: torch.export.Dim("batch", min=1, max=256)}
    with warnings.catch_warnings():  # torch's exporter trips its own deprecation of pytree internals
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["image"],
            output_names=["logit"],
            dynamo=True,
            dynamic_shapes=(dims,),
            optimize=True,
            verbose=False,
        )
    # The exporter may write weights beside the graph, which the card's sha256 would miss.
    graph = onnx.load(str(path))
    Path(f"{path}.data").unlink(missing_ok=True)
    onnx.save_model(graph, str(path), save_as_external_data=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for batch_size in (1, 8, 17):
        batch = rng.random((batch_size, 3, crop, crop), dtype=np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(batch)).numpy()
        worst = max(worst, float(np.abs(session.run(None, {"image": batch})[0] - expected).max()))
    return worst
