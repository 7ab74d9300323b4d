"""The served face-forgery model: loads the promoted bundle, applies the card's calibration, checks crop shapes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import SHIPPED_MODELS
from realeyes.config import Settings
from realeyes.errors import ModelUnavailable
from realeyes.models import Registry, load_bundle
from realeyes.models.bundle import CARD_FILE, MODEL_FILE, sha256_of
from realeyes.models.face_forgery import FaceForgeryModel
from realeyes.video.faces import FACE_MARGIN


def mean_pixel_bundle(folder: Path, scale: float, bias: float) -> Path:
    """A stand-in bundle whose 'logit' is the crop's mean value (RGB / 255), so outputs are known exactly."""
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["image"], ["logit"], axes=[1, 2, 3], keepdims=1)],
        "mean",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 128, 128])],
        [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["batch", 1, 1, 1])],
    )
    folder.mkdir(parents=True)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, folder / MODEL_FILE)
    card = {
        "name": "mean-pixel",
        "version": "0.0.1",
        "task": "face-forgery",
        "input": {"crop": 128, "margin": 0.25},
        "threshold": 0.6,
        "calibration": {"method": "platt", "scale": scale, "bias": bias},
        "sha256": sha256_of(folder / MODEL_FILE),
    }
    (folder / CARD_FILE).write_text(json.dumps(card))
    return folder


def flat_crop(value: int) -> np.ndarray:
    return np.full((128, 128, 3), value, np.uint8)


def test_no_promoted_bundle_raises_model_unavailable(settings: Settings) -> None:
    with pytest.raises(ModelUnavailable, match="face-forgery"):
        FaceForgeryModel(settings)


def test_probabilities_apply_the_cards_platt_calibration(tmp_path: Path) -> None:
    model = FaceForgeryModel(Settings(), load_bundle(mean_pixel_bundle(tmp_path / "b", scale=4.0, bias=-2.0)))
    p_fake = model.probabilities([flat_crop(0), flat_crop(255), flat_crop(51)])
    expected = 1 / (1 + np.exp(-(4.0 * np.array([0.0, 1.0, 0.2]) - 2.0)))
    assert np.allclose(p_fake, expected, atol=1e-5)
    assert model.version == "mean-pixel-0.0.1" and model.threshold == 0.6


def test_probabilities_batch_many_crops_in_order(tmp_path: Path) -> None:
    model = FaceForgeryModel(Settings(), load_bundle(mean_pixel_bundle(tmp_path / "b", scale=1.0, bias=0.0)))
    values = list(range(0, 250, 7))  # 36 crops: more than one internal batch
    p_fake = model.probabilities([flat_crop(v) for v in values])
    assert p_fake.shape == (len(values),)
    assert np.allclose(p_fake, 1 / (1 + np.exp(-np.array(values) / 255)), atol=1e-5)
    assert model.probabilities([]).shape == (0,)


def test_crops_of_the_wrong_size_are_refused(tmp_path: Path) -> None:
    model = FaceForgeryModel(Settings(), load_bundle(mean_pixel_bundle(tmp_path / "b", scale=1.0, bias=0.0)))
    with pytest.raises(ValueError, match="128x128"):
        model.probabilities([np.zeros((96, 96, 3), np.uint8)])


def test_the_promoted_model_loads_through_the_registry(tmp_path: Path) -> None:
    bundle = mean_pixel_bundle(tmp_path / "face-forgery" / "mean-pixel-0.0.1", scale=1.0, bias=0.0)
    Registry(tmp_path).promote(bundle, "test")
    assert FaceForgeryModel(Settings(models_dir=tmp_path)).version == "mean-pixel-0.0.1"


def test_the_shipped_face_forgery_model_scores_crops() -> None:
    model = FaceForgeryModel(Settings(models_dir=SHIPPED_MODELS))
    assert model.bundle.card["input"] == {**model.bundle.card["input"], "crop": 128, "margin": FACE_MARGIN}
    assert (model.crop, model.margin) == (128, FACE_MARGIN)  # served crops are framed like its training crops
    p_fake = model.probabilities([flat_crop(120), np.random.default_rng(0).integers(0, 256, (128, 128, 3), np.uint8)])
    assert p_fake.shape == (2,) and np.all((p_fake >= 0) & (p_fake <= 1))
