"""The classifier's checkpoint and ONNX graph (the bundle around them: training/bundles.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from realeyes.training.model import ClassifierConfig, ResidualClassifier
from realeyes.training.onnx_export import parity, write_onnx


def load_checkpoint(path: Path) -> tuple[ResidualClassifier, dict[str, Any]]:
    checkpoint = torch.load(path, weights_only=True)  # plain dicts and tensors: no pickled code runs
    model_config = checkpoint["config"]["model"]
    model = ResidualClassifier(
        ClassifierConfig(widths=tuple(model_config["widths"]), residual_gain=model_config["residual_gain"])
    )
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


def export_onnx(model: ResidualClassifier, path: Path, crop: int) -> float:
    """Write the ONNX graph (dynamic batch and size) and return the max |ONNX - torch| logit difference."""
    dims = {0: torch.export.Dim("batch", min=1, max=64), 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    write_onnx(model, path, torch.rand(2, 3, crop, crop), dims, "logit")
    return parity(model, path, [(4, 3, crop, crop), (1, 3, crop + 64, crop - 32)])
