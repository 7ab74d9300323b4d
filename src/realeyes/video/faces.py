"""Faces in frames: the MTCNN detector (video/mtcnn.py), the face crop convention shared by training and inference,
and a small IoU tracker so scores aggregate per person."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np

from realeyes.video.mtcnn import Mtcnn

FACE_CROP_SIZE = 128  # the face-forgery model's input side
# The crop is 0.88 of the detected box's side: the framing of the DFDC face crops the model trains on (their median
# MTCNN box is 1.16 crop sides: scripts/face_data_checks.py), so served crops look like training crops.
FACE_MARGIN = -0.06
MIN_FACE = 40  # px: smaller faces carry too little detail to judge
DETECT_SIDE = 640  # frames are shrunk to this for detection (the detector's cost grows with area)
MIN_DETECT_FACE = 20  # px in the shrunk frame: smaller ones double the detector's cost for few faces


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height

    def iou(self, other: Box) -> float:
        left, top = max(self.x, other.x), max(self.y, other.y)
        right = min(self.x + self.width, other.x + other.width)
        bottom = min(self.y + self.height, other.y + other.height)
        overlap = max(0, right - left) * max(0, bottom - top)
        union = self.area + other.area - overlap
        return overlap / union if union else 0.0

    def as_tuple(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height


@cache
def _detector() -> Mtcnn:
    return Mtcnn()


def detect_faces(rgb: np.ndarray, min_face: int = MIN_FACE) -> list[Box]:
    """Faces, largest first, in the frame's own pixel coordinates."""
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    found = _detector().detect(small, max(MIN_DETECT_FACE, round(min_face * scale)))
    boxes = [
        Box(round(x1 / scale), round(y1 / scale), round((x2 - x1) / scale), round((y2 - y1) / scale))
        for x1, y1, x2, y2 in found[:, :4]
    ]
    return sorted((box for box in boxes if box.width > 0 and box.height > 0), key=lambda box: box.area, reverse=True)


def face_crop(rgb: np.ndarray, box: Box, size: int = FACE_CROP_SIZE, margin: float = FACE_MARGIN) -> np.ndarray:
    """A square crop centred on the box, `margin` of its side added on each side, edges reflected where it leaves
    the frame, resized to size x size (RGB uint8). Training and inference must crop the same way."""
    side = round(max(box.width, box.height) * (1 + 2 * margin))
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    height, width = rgb.shape[:2]
    pad = max(0, -left, -top, left + side - width, top + side - height)
    source = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REFLECT_101) if pad else rgb
    square = source[top + pad : top + pad + side, left + pad : left + pad + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(square, (size, size), interpolation=interpolation))


@dataclass
class Track:
    id: int
    box: Box
    last_frame: int
    hits: list[int] = field(default_factory=list)  # indices of sampled frames where this face was seen


class FaceTracker:
    """Greedy IoU matching between consecutive samples; a face unseen for `patience` samples ends its track."""

    def __init__(self, min_iou: float = 0.3, patience: int = 3) -> None:
        self.min_iou, self.patience = min_iou, patience
        self.tracks: list[Track] = []

    def update(self, frame_index: int, boxes: list[Box]) -> list[int]:
        """Track id for each box (same order)."""
        live = [t for t in self.tracks if frame_index - t.last_frame <= self.patience]
        ids: list[int] = []
        taken: set[int] = set()
        for box in boxes:
            best = max((t for t in live if t.id not in taken), key=lambda t: t.box.iou(box), default=None)
            if best is None or best.box.iou(box) < self.min_iou:
                best = Track(id=len(self.tracks), box=box, last_frame=frame_index)
                self.tracks.append(best)
            best.box, best.last_frame = box, frame_index
            best.hits.append(frame_index)
            taken.add(best.id)
            ids.append(best.id)
        return ids
