"""A model bundle: a folder with model.onnx and card.json (plus a rendered card.md for people)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from pydantic import BaseModel, ConfigDict, ValidationError

from realeyes.errors import ModelUnavailable

MODEL_FILE = "model.onnx"
CARD_FILE = "card.json"
PARTIAL_PREFIX = ".partial-"  # a bundle still being built (training.bundles), never listed


class ModelCard(BaseModel):
    """The fields every card.json shares, validated when a bundle loads (a bad card fails naming the field). The
    rest (figures, provenance, an analyzer's own inputs) passes through; each analyzer checks what it reads
    (its `card_needs`)."""

    model_config = ConfigDict(extra="allow")

    name: str
    version: str
    task: str
    sha256: str
    threshold: float | None = None
    calibration: dict[str, Any] | str | None = None
    input: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    training_data: list[str] = []
    limitations: list[str] = []
    fusion_weight: float | None = None


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
    try:
        ModelCard.model_validate(card)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'card'}: {e['msg']}" for e in exc.errors())
        raise ModelUnavailable(f"{card_path} is not a valid model card: {problems}.") from exc
    if sha256_of(model_path) != card["sha256"]:
        raise ModelUnavailable(f"{model_path} does not match the sha256 in its model card: the bundle is damaged.")
    return Bundle(path=path, card=card)


def sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-values)))
