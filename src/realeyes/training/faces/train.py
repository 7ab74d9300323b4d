"""Train the face-forgery CNN on real face swaps and self-blends: read top to bottom (config, data, loop).

Every batch holds pairs drawn from one group (a source video cluster, or a person): a real crop and a fake of the
same group, each augmented independently with the same recipe, so scene and identity are no class cue. The fake
is one of the group's labelled face swaps, or (share `self_blend_share`, and always for groups without labelled
fakes) a self-blend of the real crop, which teaches blending seams in general rather than DFDC's generators.
Groups are drawn equally often. Model selection uses the validation split: its labelled fakes against its real
crops when it has any, else self-blends of its real crops. Test crops and the labelled clips are never seen.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from realeyes.training.faces.augment import FaceAugmentConfig, augment_crop
from realeyes.training.faces.heldout import VAL_VARIANTS, Crop, load_crops, validation_set
from realeyes.training.faces.model import FaceForgeryNet, FaceNetConfig
from realeyes.training.faces.sbi import BlendConfig, self_blend
from realeyes.training.fit import fit
from realeyes.training.metrics import roc_auc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceTrainConfig:
    minutes: float = 25.0  # wall-clock budget for the optimisation loop
    max_steps: int = 100_000
    batch_size: int = 32  # half real, half self-blended (pairs of the same crop)
    learning_rate: float = 1e-3  # 2e-3 made validation AUC swing by 0.3 between checks
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    eval_every: int = 100  # steps between validation AUC checks: the learning curve
    self_blend_share: float = 0.3  # of the fakes in groups that have labelled ones
    val_variants: int = VAL_VARIANTS
    seed: int = 0
    threads: int = 2
    model: FaceNetConfig = field(default_factory=FaceNetConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    augment: FaceAugmentConfig = field(default_factory=FaceAugmentConfig)


class GroupSampler:
    """Draw a group (every group equally often), then one of its real crops and one of its labelled fakes."""

    def __init__(self, crops: list[Crop], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.reals: dict[str, list[Crop]] = defaultdict(list)
        self.fakes: dict[str, list[Crop]] = defaultdict(list)
        for crop in crops:
            (self.fakes if crop.sample.label else self.reals)[crop.sample.group].append(crop)
        self.names = sorted(self.reals)

    def draw(self) -> tuple[Crop, Crop | None]:
        """(real crop, a labelled fake of its group or None when the group has none)."""
        name = self.names[int(self.rng.integers(len(self.names)))]
        reals, fakes = self.reals[name], self.fakes.get(name, [])
        fake = fakes[int(self.rng.integers(len(fakes)))] if fakes else None
        return reals[int(self.rng.integers(len(reals)))], fake


def to_tensor(crops: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div_(255.0)


def batch_of_pairs(
    sampler: GroupSampler, config: FaceTrainConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(crops, labels): pairs of a real crop and a fake of its group, each augmented independently."""
    crops, labels = [], []
    for _ in range(config.batch_size // 2):
        real, swap = sampler.draw()
        if swap is None or rng.random() < config.self_blend_share:
            fake, _ = self_blend(real.rgb, rng, config.blend)
        else:
            fake = swap.rgb
        crops += [augment_crop(real.rgb, config.augment, rng), augment_crop(fake, config.augment, rng)]
        labels += [0.0, 1.0]
    return to_tensor(crops), torch.tensor(labels)


def score(model: FaceForgeryNet, images: list[np.ndarray], batch: int = 64) -> np.ndarray:
    """Logits of crops, in evaluation mode."""
    model.eval()
    with torch.inference_mode():
        logits = [model(to_tensor(images[i : i + batch])).reshape(-1) for i in range(0, len(images), batch)]
    model.train()
    return torch.cat(logits).numpy() if logits else np.zeros(0, np.float32)


def train(manifest: Path, output: Path, config: FaceTrainConfig, resume: bool = False) -> dict[str, object]:
    """Optimise until the time budget or max_steps; keep the checkpoint with the best validation AUC."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    train_crops = load_crops(manifest, "train")
    val_images, val_labels = validation_set(manifest, config.val_variants, config.seed)
    log.info(
        "train crops %d (%d labelled fakes, %d groups), validation crops %d",
        len(train_crops),
        sum(c.sample.label for c in train_crops),
        len({c.sample.group for c in train_crops}),
        len(val_images),
    )
    sampler = GroupSampler(train_crops, config.seed)
    rng = np.random.default_rng(config.seed + 1)
    model = FaceForgeryNet(config.model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

    def batch_loss() -> torch.Tensor:
        images, labels = batch_of_pairs(sampler, config, rng)
        return functional.binary_cross_entropy_with_logits(model(images).squeeze(1), labels)

    def validate() -> tuple[float | None, dict[str, object]]:
        auc = roc_auc(val_labels, score(model, val_images))
        return auc, {"val_auc": auc}

    fitted = fit(model, optimiser, config, batch_loss, validate, output, resume, (sampler.rng, rng))
    return fitted.write_history(output, best_val_auc=-1.0 if fitted.best is None else fitted.best)
