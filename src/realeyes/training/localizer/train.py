"""Train the localizer: read top to bottom (config, data, loss, loop, checkpoint).

Every training image is synthesised on the fly from a random 256 px crop of a training photo at native
resolution, or (a platform-style resize, see synthesis.py) from a larger window resized whole to 256 px after the
edit; autoencoder edits use the cached TAEF2 crops.
Model selection uses the fixed validation set (held-out photos) and, when given, the validation half of the real
forgeries (real_forgeries.py): the checkpoint with the best selection score, the mean of synthetic pixel best-F1,
image-level AUC and the real forgeries' mean pixel F1 at 0.5, is kept.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional

from realeyes.training.dataset import load_rgb
from realeyes.training.fit import fit
from realeyes.training.localizer.model import LocalizerConfig, ManipulationLocalizer, global_logit
from realeyes.training.localizer.prepare import FixedImage, read_fixed_set
from realeyes.training.localizer.synthesis import SynthesisConfig, Synthesized, platform_scale, synthesize
from realeyes.training.metrics import roc_auc
from realeyes.training.pixel_metrics import pixel_scores
from realeyes.training.prepare import read_prepared

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    minutes: float = 40.0  # wall-clock budget for the optimisation loop
    max_steps: int = 100_000
    batch_size: int = 12
    crop: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    image_loss_weight: float = 0.5  # BCE of the image score (top-1% logit mean) against "any pixel edited"
    eval_every: int = 200  # steps between validation checks: the learning curve
    eval_images: int = 160  # validation images used for the curve (spread over the whole fixed set)
    seed: int = 0
    threads: int = 2
    model: LocalizerConfig = field(default_factory=LocalizerConfig)
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)


class TrainingImages:
    """Training photos in memory and the cached autoencoder crops; draws synthetic (image, mask) crops."""

    def __init__(self, workdir: Path, config: TrainConfig) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        paths = [s.path for s, split in read_prepared(workdir / "manifest.csv") if split == "train"]
        loaded = [load_rgb(path, config.crop) for path in paths]
        self.photos = [rgb for rgb in loaded if rgb is not None]
        self.reconstructions = _read_cache(workdir / "autoencoder", config.crop)
        log.info("training photos %d, autoencoder crops %d", len(self.photos), len(self.reconstructions))

    def draw(self) -> Synthesized:
        kind = self._kind()
        size = (self.config.crop, self.config.crop)
        if kind == "autoencoder":
            photo, reconstruction = self.reconstructions[int(self.rng.integers(len(self.reconstructions)))]
        else:
            # A platform-style resize down to the crop size starts from a larger window of the photo.
            scale = platform_scale(self.rng, self.config.synthesis)
            photo, reconstruction = self._crop(self.photos[int(self.rng.integers(len(self.photos)))], scale), None
        donor = self.photos[int(self.rng.integers(len(self.photos)))]

        def reconstruct(rgb: np.ndarray, region: np.ndarray) -> np.ndarray:
            if reconstruction is None:
                raise ValueError("autoencoder edits come from the cached crops only")
            return reconstruction

        made = synthesize(photo, donor, reconstruct, self.rng, self.config.synthesis, kind, size)
        if self.rng.random() < 0.5:
            made = Synthesized(made.rgb[:, ::-1], made.mask[:, ::-1], made.kind, made.compression)
        return made

    def _kind(self) -> str:
        synthesis = self.config.synthesis
        if self.rng.random() < synthesis.authentic_probability:
            return "authentic"
        kinds = [k for k in synthesis.kinds if k != "autoencoder" or self.reconstructions]
        return kinds[int(self.rng.integers(len(kinds)))]

    def _crop(self, rgb: np.ndarray, scale: float) -> np.ndarray:
        """A window on the photo's 8x8 grid of side crop / scale (smaller when the photo is)."""
        size = min(8 * math.ceil(self.config.crop / scale / 8), min(rgb.shape[:2]) // 8 * 8)
        size = max(size, self.config.crop)
        top = int(self.rng.integers(0, (rgb.shape[0] - size) // 8 + 1)) * 8
        left = int(self.rng.integers(0, (rgb.shape[1] - size) // 8 + 1)) * 8
        return np.ascontiguousarray(rgb[top : top + size, left : left + size])


def _read_cache(folder: Path, crop: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(photo window, its autoencoder reconstruction) pairs written by prepare.cache_reconstructions."""
    index = folder / "index.csv"
    if not index.is_file():
        return []
    pairs = []
    with index.open(newline="") as handle:
        for row in csv.DictReader(handle):
            photo = load_rgb(row["photo"], crop)
            if photo is None:
                continue
            top, left = int(row["top"]), int(row["left"])
            window = np.ascontiguousarray(photo[top : top + crop, left : left + crop])
            pairs.append((window, np.asarray(Image.open(folder / row["file"]).convert("RGB"))))
    return pairs


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """(N, 3, H, W) in [0, 1], laid out channels-last: about 15 % faster convolutions on the CPU."""
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)
    return batch.contiguous(memory_format=torch.channels_last)


def localization_loss(logits: torch.Tensor, masks: torch.Tensor, image_weight: float) -> torch.Tensor:
    """Pixel BCE + soft Dice over the batch (edits are a small share of pixels) + BCE of the image score."""
    pixel = functional.binary_cross_entropy_with_logits(logits, masks)
    probabilities = torch.sigmoid(logits)
    dice = 1 - (2 * (probabilities * masks).sum() + 1) / (probabilities.sum() + masks.sum() + 1)
    edited = (masks.flatten(1).amax(dim=1) > 0).float()
    image = functional.binary_cross_entropy_with_logits(global_logit(logits), edited)
    return pixel + dice + image_weight * image


def predict(model: ManipulationLocalizer, images: list[FixedImage]) -> tuple[list[np.ndarray], np.ndarray]:
    """Pixel probability maps and image-score logits, one image at a time (sizes differ)."""
    model.eval()
    maps, scores = [], []
    with torch.inference_mode():
        for image in images:
            logits = model(to_tensor([image.rgb]))
            maps.append(torch.sigmoid(logits)[0, 0].numpy())
            scores.append(float(global_logit(logits)[0]))
    model.train()
    return maps, np.array(scores)


def validate(model: ManipulationLocalizer, images: list[FixedImage], real: list[FixedImage]) -> dict[str, float | None]:
    maps, scores = predict(model, images)
    pixels = pixel_scores([image.mask for image in images], maps, max_auc_pixels=200_000)
    image_auc = roc_auc(np.array([image.mask.any() for image in images], dtype=int), scores)
    result = {"pixel_best_f1": pixels["best_f1"], "pixel_f1_at_05": pixels["f1_at_05"], "image_auc": image_auc}
    forged = [image for image in real if image.mask.any()]
    if forged:
        real_maps, _ = predict(model, forged)
        result["real_f1_at_05"] = pixel_scores([i.mask for i in forged], real_maps, max_auc_pixels=10_000)[
            "image_mean_f1_at_05"
        ]
    return result


def selection_score(scores: dict[str, float | None]) -> float:
    keys = ["pixel_best_f1", "image_auc", *(["real_f1_at_05"] if "real_f1_at_05" in scores else [])]
    return float(np.mean([scores[key] or 0.0 for key in keys]))


def train(
    workdir: Path, output: Path, config: TrainConfig, real_val: list[FixedImage] | None = None, resume: bool = False
) -> dict[str, object]:
    """Optimise until the time budget or max_steps; keep the checkpoint with the best validation selection score
    (real_val: real forgeries and originals that may take part in it)."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    data = TrainingImages(workdir, config)
    val_images = read_fixed_set(workdir / "val")
    val_images = val_images[:: max(1, len(val_images) // config.eval_images)][: config.eval_images]
    model = ManipulationLocalizer(config.model).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

    def batch_loss() -> torch.Tensor:
        batch = [data.draw() for _ in range(config.batch_size)]
        masks = torch.from_numpy(np.stack([made.mask for made in batch])[:, None].astype(np.float32))
        return localization_loss(model(to_tensor([made.rgb for made in batch])), masks, config.image_loss_weight)

    def validation() -> tuple[float | None, dict[str, object]]:
        scores = validate(model, val_images, real_val or [])
        return selection_score(scores), dict(scores)

    fitted = fit(model, optimiser, config, batch_loss, validation, output, resume, (data.rng,))
    return fitted.write_history(
        output,
        best_selection=round(-1.0 if fitted.best is None else fitted.best, 4),
        validation_images=len(val_images),
        real_validation_images=len(real_val or []),
    )
