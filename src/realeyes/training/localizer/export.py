"""Export the localizer to ONNX (dynamic height and width) and check it against torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from realeyes.training.localizer.model import LocalizerConfig, ManipulationLocalizer
from realeyes.training.onnx_export import parity, write_onnx


def load_checkpoint(path: Path) -> tuple[ManipulationLocalizer, dict[str, Any]]:
    checkpoint = torch.load(path, weights_only=True)  # plain dicts and tensors: no pickled code runs
    model = ManipulationLocalizer(LocalizerConfig.from_saved(checkpoint["config"]["model"]))
    # Checkpoints <= 0.3.0 saved the fixed residual filters, which are rebuilt now.
    state = {key: value for key, value in checkpoint["state_dict"].items() if key != "residuals.weight"}
    model.load_state_dict(state)
    return model.eval(), checkpoint


def export_onnx(model: ManipulationLocalizer, path: Path) -> float:
    """Write one self-contained ONNX file (input "image", output "mask_logit"); returns max |ONNX - torch| logit
    over square, odd-sized and batched inputs."""
    dims = {0: torch.export.Dim("batch", min=1, max=64), 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    write_onnx(model, path, torch.rand(1, 3, 256, 256), dims, "mask_logit")
    return parity(model, path, [(2, 3, 256, 256), (1, 3, 333, 517), (1, 3, 64, 40)])
