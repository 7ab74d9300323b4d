"""A model bundle: a folder with model.onnx and card.json (plus a rendered card.md for people)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from realeyes.errors import ModelUnavailable

MODEL_FILE = "model.onnx"
CARD_FILE = "card.json"


@dataclass(frozen=True)
class Bundle:
    path: Path
    card: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.card["name"])

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def task(self) -> str:
        return str(self.card["task"])

    def session(self, threads: int = 1) -> onnxruntime.InferenceSession:
        """An ONNX Runtime CPU session; one thread by default because scans parallelise over processes."""
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(self.path / MODEL_FILE), options, providers=["CPUExecutionProvider"])


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_bundle(path: Path) -> Bundle:
    """Read a bundle and check that its ONNX file is the one its card describes."""
    card_path, model_path = path / CARD_FILE, path / MODEL_FILE
    if not card_path.is_file() or not model_path.is_file():
        raise ModelUnavailable(f"No model bundle at {path} (expected {CARD_FILE} and {MODEL_FILE}).")
    try:
        card = json.loads(card_path.read_text())
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelUnavailable(f"{card_path} is not a readable JSON model card: {exc}") from exc
    missing = [key for key in ("name", "version", "task", "sha256") if not isinstance(card, dict) or key not in card]
    if missing:
        raise ModelUnavailable(f"{card_path} is not a model card: no {', '.join(missing)}.")
    if sha256_of(model_path) != card["sha256"]:
        raise ModelUnavailable(f"{model_path} does not match the sha256 in its model card: the bundle is damaged.")
    return Bundle(path=path, card=card)


def sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-values)))
