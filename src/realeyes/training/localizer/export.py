"""Export the localizer to ONNX (dynamic height and width) and check it against torch."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import torch

from realeyes.training.localizer.model import LocalizerConfig, ManipulationLocalizer


def load_checkpoint(path: Path) -> tuple[ManipulationLocalizer, dict[str, Any]]:
    checkpoint = torch.load(path, weights_only=True)  # plain dicts and tensors: no pickled code runs
    saved = checkpoint["config"]["model"]
    model = ManipulationLocalizer(LocalizerConfig(encoder=tuple(saved["encoder"]), decoder=tuple(saved["decoder"])))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


def export_onnx(model: ManipulationLocalizer, path: Path) -> float:
    """Write one self-contained ONNX file (input "image", output "mask_logit"); returns max |ONNX - torch| logit."""
    dims = {0: torch.export.Dim("batch", min=1, max=64), 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    with warnings.catch_warnings():  # torch's exporter trips its own deprecation of pytree internals
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            model.eval(),
            (torch.rand(1, 3, 256, 256),),
            str(path),
            input_names=["image"],
            output_names=["mask_logit"],
            dynamo=True,
            dynamic_shapes=(dims,),
            optimize=True,
            verbose=False,
        )
    graph = onnx.load(str(path))  # fold the exporter's external weights into the file the card's sha256 covers
    Path(f"{path}.data").unlink(missing_ok=True)
    onnx.save_model(graph, str(path), save_as_external_data=False)
    return parity(model, path)


def parity(model: ManipulationLocalizer, path: Path) -> float:
    """Max |ONNX - torch| logit over square, odd-sized and batched inputs."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for shape in ((2, 3, 256, 256), (1, 3, 333, 517), (1, 3, 64, 40)):
        batch = rng.random(shape, dtype=np.float32)
        with torch.inference_mode():
            expected = model(torch.from_numpy(batch)).numpy()
        worst = max(worst, float(np.abs(session.run(None, {"image": batch})[0] - expected).max()))
    return worst
