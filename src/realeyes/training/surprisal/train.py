"""Train the coder on real photos only, through the pipelines' one loop (`training.fit`): a time or step budget,
a cosine schedule, and a last state an interrupted run resumes from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from realeyes.training.fit import Figures, fit
from realeyes.training.generalisation.catalog import IMAGE_SUFFIXES, MIN_SIDE
from realeyes.training.surprisal.data import photo_variants, random_batch
from realeyes.training.surprisal.model import Coder, nll_bits

log = logging.getLogger(__name__)

CHECKPOINT = "coder.pt"
POOL = "pool.npz"
# The real photos the coder learns from. The other real sets and every generated set stay unseen: they are the
# benchmark's test sources for this detector (ecuador-flux-faces is its validation set).
TRAINING_SOURCES = ("real-photos/imagenet-sample", "real-photos/camera-exif")


@dataclass(frozen=True)
class CoderConfig:
    width: int = 24  # feature channels
    depth: int = 3  # hidden 3x3 layers
    crop: int = 128  # training tile at full resolution (tiles are phases of it: crop / 2)
    batch_size: int = 16  # crops per step
    learning_rate: float = 2e-3  # peak, cosine-decayed over the time budget
    warmup_steps: int = 0
    minutes: float = 10.0  # wall-clock budget of one run
    max_steps: int = 100_000
    eval_every: int = 100  # steps between logged (and resumable) states
    seed: int = 0


def training_photos(shared: Path) -> list[tuple[Path, str]]:
    shared = shared.resolve()
    photos = []
    for source in TRAINING_SOURCES:
        for path in sorted((shared / source).iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                photos.append((path, path.relative_to(shared).as_posix()))
    return photos


def build_pool(shared: Path, workdir: Path, crop: int) -> list[np.ndarray]:
    """Luma variants of every training photo at least 2 * crop on each side (cached in the workdir)."""
    cache = workdir / POOL
    if cache.is_file():
        with np.load(cache) as saved:
            return [saved[f"arr_{i}"] for i in range(len(saved.files))]
    pool = []
    for path, key in training_photos(shared):
        try:
            variants = photo_variants(path, key)
        except (OSError, ValueError) as exc:
            log.warning("skipping %s: %s", key, exc)
            continue
        pool += [v for v in variants if min(v.shape) >= max(2 * crop, MIN_SIDE)]
    workdir.mkdir(parents=True, exist_ok=True)
    np.savez(cache, *pool)
    return pool


def train(shared: Path, workdir: Path, config: CoderConfig, resume: bool = False) -> dict[str, Any]:
    """Train in `workdir` (or resume its last state); writes the checkpoint and its history. The coder learns
    real photos only, so there is nothing to select on: the last weights are kept, and the curve logs the mean
    coding cost of the recent training batches."""
    torch.manual_seed(config.seed)
    pool = build_pool(shared, workdir, config.crop)
    model = Coder(config.width, config.depth)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    rng = np.random.default_rng(config.seed)
    recent: list[float] = []

    def batch_loss() -> torch.Tensor:
        inputs, targets = random_batch(pool, config.batch_size, config.crop, rng)
        loss = nll_bits(model(torch.from_numpy(inputs)), torch.from_numpy(targets)).mean()
        recent.append(float(loss.detach()))
        return loss

    def validate() -> tuple[float | None, Figures]:
        figures = {"train_bits_per_pixel": round(float(np.mean(recent)), 4)} if recent else {}
        recent.clear()
        return None, figures

    fitted = fit(model, optimiser, config, batch_loss, validate, workdir / CHECKPOINT, resume, (rng,))
    return fitted.write_history(workdir / CHECKPOINT)


def load_coder(checkpoint: Path) -> tuple[Coder, CoderConfig]:
    state = torch.load(checkpoint, weights_only=True)
    config = CoderConfig(**state["config"])
    model = Coder(config.width, config.depth)
    model.load_state_dict(state["state_dict"])
    return model.eval(), config
