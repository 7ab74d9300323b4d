"""Checkpoint -> ONNX (dynamic batch, fixed 128 px crops), with a parity check against torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from realeyes.training.faces.model import FaceForgeryNet, FaceNetConfig
from realeyes.training.onnx_export import parity, write_onnx


def load_checkpoint(path: Path) -> tuple[FaceForgeryNet, dict[str, Any]]:
    checkpoint = torch.load(path, weights_only=True)  # plain dicts and tensors: no pickled code runs
    saved = checkpoint["config"]["model"]
    model = FaceForgeryNet(FaceNetConfig(widths=tuple(saved["widths"]), dropout=saved["dropout"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


def export_onnx(model: FaceForgeryNet, path: Path, crop: int) -> float:
    """Write one self-contained ONNX file and return the max |ONNX - torch| logit difference."""
    write_onnx(model, path, torch.rand(2, 3, crop, crop), {0: torch.export.Dim("batch", min=1, max=256)}, "logit")
    return parity(model, path, [(batch, 3, crop, crop) for batch in (1, 8, 17)])
