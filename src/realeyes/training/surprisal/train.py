"""Train the coder on real photos only: a time-budgeted loop whose checkpoint (config, weights, optimiser, step)
lets an interrupted run resume where it stopped."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

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
    batch: int = 16  # crops per step
    learning_rate: float = 2e-3  # peak, cosine-decayed over the time budget
    minutes: float = 10.0  # wall-clock budget of one run
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


def train(shared: Path, workdir: Path, config: CoderConfig) -> Path:
    """Train (or resume) in `workdir`; returns the checkpoint path."""
    torch.manual_seed(config.seed)
    pool = build_pool(shared, workdir, config.crop)
    model = Coder(config.width, config.depth)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    step, spent = 0, 0.0
    checkpoint = workdir / CHECKPOINT
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        if state["config"] != asdict(config):
            raise ValueError(f"{checkpoint} was trained with another config: {state['config']}")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, spent = state["step"], state["seconds"]
    rng = np.random.default_rng(config.seed + step)
    budget = config.minutes * 60.0
    started, saved_at, history = time.monotonic() - spent, time.monotonic(), []
    while (elapsed := time.monotonic() - started) < budget:
        for group in optimiser.param_groups:
            group["lr"] = config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * elapsed / budget))
        inputs, targets = random_batch(pool, config.batch, config.crop, rng)
        loss = nll_bits(model(torch.from_numpy(inputs)), torch.from_numpy(targets)).mean()
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        step += 1
        history.append(float(loss.detach()))
        if step % 50 == 0:
            log.info("step %d  %.0f s  %.4f bits/pixel", step, elapsed, float(np.mean(history[-50:])))
        if time.monotonic() - saved_at > 120:
            _save(checkpoint, model, optimiser, config, step, time.monotonic() - started)
            saved_at = time.monotonic()
    _save(checkpoint, model, optimiser, config, step, time.monotonic() - started)
    (workdir / "history.json").write_text(json.dumps({"bits_per_pixel": history[::10], "steps": step}))
    return checkpoint


def _save(
    path: Path, model: Coder, optimiser: torch.optim.Optimizer, config: CoderConfig, step: int, seconds: float
) -> None:
    state: dict[str, Any] = {"config": asdict(config), "model": model.state_dict()}
    state.update(optimiser=optimiser.state_dict(), step=step, seconds=seconds)
    torch.save(state, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)


def load_coder(checkpoint: Path) -> tuple[Coder, CoderConfig]:
    state = torch.load(checkpoint, weights_only=True)
    config = CoderConfig(**state["config"])
    model = Coder(config.width, config.depth)
    model.load_state_dict(state["model"])
    return model.eval(), config
