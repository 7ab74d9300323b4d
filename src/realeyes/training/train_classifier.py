"""Train the real-vs-AI classifier: read top to bottom (config, data, loop, checkpoint).

Batches are balanced: half real, half AI, and within each class every generator (or real source) is drawn
equally often, so that the largest set (e.g. the FLUX faces) cannot dominate what "AI" means.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from realeyes.imaging import grid_crops
from realeyes.training.augment import AugmentConfig, HardRealPhotos, augment, jpeg_roundtrip
from realeyes.training.catalog import sample_pixels
from realeyes.training.dataset import Sample
from realeyes.training.fit import fit
from realeyes.training.metrics import roc_auc
from realeyes.training.model import ClassifierConfig, ResidualClassifier
from realeyes.training.prepare import read_prepared

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    minutes: float = 25.0  # wall-clock budget for the optimisation loop
    max_steps: int = 100_000
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    eval_every: int = 150  # steps between held-out (validation) AUC checks: the learning curve
    eval_crops: int = 4  # crops per validation image (grid_crops)
    eval_crop: int = 192
    eval_jpeg_quality: int = 90  # both classes are re-encoded identically before scoring
    seed: int = 0
    threads: int = 2
    hold_out: tuple[str, ...] = ()  # generator name prefixes left out of training (cross-generator tests)
    hold_out_sources: tuple[str, ...] = ()  # whole training sources left out (selection_source scores them)
    model: ClassifierConfig = field(default_factory=ClassifierConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class LoadedImage:
    sample: Sample
    rgb: np.ndarray


def load_split(manifest: Path, split: str, min_side: int) -> list[LoadedImage]:
    """Decoded images of one split (signature bars trimmed), held in memory for fast cropping."""
    images = []
    for sample, sample_split in read_prepared(manifest):
        if sample_split != split:
            continue
        rgb = sample_pixels(sample, min_side)
        if rgb is not None:
            images.append(LoadedImage(sample, rgb))
    return images


def to_tensor(crops: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div_(255.0)


class BalancedSampler:
    """Draw label, then generator/source within it, then an image: every stratum equally often."""

    def __init__(self, images: list[LoadedImage], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.strata: dict[int, dict[str, list[LoadedImage]]] = {0: defaultdict(list), 1: defaultdict(list)}
        for image in images:
            key = image.sample.generator if image.sample.label else image.sample.source
            self.strata[image.sample.label][key].append(image)

    def draw(self, label: int) -> LoadedImage:
        keys = sorted(self.strata[label])
        pool = self.strata[label][keys[int(self.rng.integers(len(keys)))]]
        return pool[int(self.rng.integers(len(pool)))]


def score_images(model: ResidualClassifier, images: list[LoadedImage], config: TrainConfig) -> np.ndarray:
    """Mean logit over grid crops of each image after the same JPEG re-encode for both classes."""
    model.eval()
    scores = []
    with torch.inference_mode():
        for image in images:
            normalised = jpeg_roundtrip(image.rgb, config.eval_jpeg_quality)
            crops = grid_crops(normalised, min(config.eval_crop, *normalised.shape[:2]) // 8 * 8, config.eval_crops)
            scores.append(float(model(to_tensor(crops)).mean()))
    model.train()
    return np.array(scores)


def held_out(sample: Sample, generators: tuple[str, ...], sources: tuple[str, ...]) -> bool:
    """Whether a run with these `hold_out` generator prefixes and `hold_out_sources` left `sample` out."""
    return sample.generator.startswith(generators) or sample.source in sources


def train(manifest: Path, output: Path, config: TrainConfig, resume: bool = False) -> dict[str, object]:
    """Optimise until the time budget or max_steps; keep the checkpoint with the best validation AUC."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    min_side = max(config.augment.crop, config.eval_crop)

    # Held-out generators and sources are left out of training and of checkpoint selection alike.
    def kept(image: LoadedImage) -> bool:
        return not held_out(image.sample, config.hold_out, config.hold_out_sources)

    train_images = [image for image in load_split(manifest, "train", min_side) if kept(image)]
    val_images = [image for image in load_split(manifest, "val", min_side) if kept(image)]
    log.info("train images %d, validation images %d", len(train_images), len(val_images))
    sampler = BalancedSampler(train_images, config.seed)
    rng = np.random.default_rng(config.seed + 1)
    hard_photos = HardRealPhotos()  # not checkpointed: a resumed run makes its hard variants afresh
    model = ResidualClassifier(config.model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    val_labels = np.array([image.sample.label for image in val_images])

    def batch_loss() -> torch.Tensor:
        labels = [index % 2 for index in range(config.batch_size)]
        drawn = [sampler.draw(label) for label in labels]
        crops = [
            augment(image.rgb, config.augment, rng, real=label == 0, hard_photos=(hard_photos, image.sample.path))
            for label, image in zip(labels, drawn, strict=True)
        ]
        logits = model(to_tensor(crops)).squeeze(1)
        return functional.binary_cross_entropy_with_logits(logits, torch.tensor(labels, dtype=torch.float32))

    def validate() -> tuple[float | None, dict[str, object]]:
        auc = roc_auc(val_labels, score_images(model, val_images, config))
        return auc, {"val_auc": auc}

    fitted = fit(model, optimiser, config, batch_loss, validate, output, resume, (sampler.rng, rng))
    return fitted.write_history(
        output,
        best_val_auc=-1.0 if fitted.best is None else fitted.best,
        train_sources=sorted({image.sample.source for image in train_images}),
        train_generators=sorted({image.sample.generator for image in train_images}),
    )
