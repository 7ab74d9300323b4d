"""The real-only coding-cost detector's pipeline: train a coder on real photos, export a bundle. Its training
photos are read from the shared data directly, so it has no prepare stage. Torch loads inside the stages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realeyes.config import DEFAULT_MODELS_DIR
from realeyes.training.pipeline import (
    Figure,
    Pipeline,
    PipelineError,
    Stage,
    TrainSettings,
    require_training_extra,
    setting,
    shared_setting,
)

NAME = "realeyes-coding-cost"


@dataclass(frozen=True, kw_only=True)
class CoderTrainSettings(TrainSettings):
    minutes: float = setting(15.0, "Training time budget.")
    batch_size: int = setting(16)
    eval_every: int = setting(100, "Steps between logged (and resumable) states.")
    shared: Path = shared_setting()


def train(settings: CoderTrainSettings) -> dict[str, Any]:
    """Writes WORKDIR/coder.pt and its history."""
    require_training_extra()
    from realeyes.training.surprisal.train import CoderConfig
    from realeyes.training.surprisal.train import train as train_coder

    config = CoderConfig(**settings.budget())
    history = train_coder(settings.shared, settings.workdir, config, settings.resume)
    return {key: value for key, value in history.items() if key != "curve"}


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    workdir: Path | None = setting(
        None, "Run folder holding the coder checkpoint (not read with --network).", file_okay=False
    )
    shared: Path = shared_setting()
    version: str = setting("0.1.0")
    out: Path | None = setting(None, "Bundle folder (default: models/surprisal/...).", file_okay=False)
    network: Path | None = setting(
        None, "A coder bundle whose network is reused instead of WORKDIR's checkpoint.", exists=True, file_okay=False
    )


def export(settings: ExportSettings) -> Path:
    """ONNX export, statistic and crop layout chosen on validation images, reference real photos."""
    require_training_extra()
    from realeyes.training.surprisal.build import build_coder_bundle
    from realeyes.training.surprisal.train import CHECKPOINT

    folder = settings.out or DEFAULT_MODELS_DIR / "surprisal" / f"{NAME}-{settings.version}"
    if settings.network is not None:
        source = settings.network
    elif settings.workdir is not None:
        source = settings.workdir / CHECKPOINT
    else:
        raise PipelineError("export needs --workdir (a trained coder) or --network (a coder bundle)")
    return build_coder_bundle(source, settings.shared, folder, settings.version)


def validation_figure(bundle: Path, run: Mapping[str, Any]) -> Figure:
    """The selection figure of the bundle's own statistic on the validation images (mean of the laundered and
    hard AUCs: where each bundle's statistic is chosen; both candidates are scored on the set that tuned them)."""
    from realeyes.training.surprisal.build import Layout, OnnxCoder, selection_figure

    card = json.loads((bundle / "card.json").read_text())
    shared = run["train"].shared
    layout = Layout(int(card["input"]["crops"]), int(card["input"]["crop"]))
    figure, data = selection_figure(OnnxCoder(bundle / "model.onnx"), shared, card["statistic"]["weights"], layout)
    return Figure(figure, data)


PIPELINE = Pipeline(
    task="surprisal",
    summary="The real-only coding-cost detector: train a coder on real photos, export a bundle.",
    stages={
        "train": Stage(train, CoderTrainSettings, "Train the coder on real photos only."),
        "export": Stage(export, ExportSettings, export.__doc__ or ""),
    },
    held_out_figure=validation_figure,
    figure_name="validation figure of the bundle's statistic (mean of the laundered and hard AUCs)",
)
