"""The manipulation localizer's pipeline: prepare, train, export (calibrate + evaluate + bundle), evaluate on a fixed
synthetic set, evaluate on real forgeries. Torch loads inside the stages."""

from __future__ import annotations

import json
import logging
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
    finish_training,
    require_training_extra,
    setting,
    shared_setting,
    workdir_setting,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PrepareSettings:
    workdir: Path = workdir_setting("Localizer run folder.")
    shared: Path = shared_setting()
    folders: tuple[Path, ...] = setting((), "Extra real/ photos.", option="--folder", exists=True)
    no_shared: bool = setting(False, "Do not use ../shared/data.")
    reconstructions: int = setting(160, "Training photos with an autoencoder crop.")
    edits_per_photo: int = setting(3, "Edited copies per held-out photo.")
    seed: int = setting(0)


def prepare(settings: PrepareSettings) -> dict[str, Any]:
    require_training_extra()
    from realeyes.training import taesd
    from realeyes.training.catalog import shared_catalog
    from realeyes.training.dataset import REAL, collect_folder
    from realeyes.training.localizer.autoencoder import WindowReconstructor
    from realeyes.training.localizer.prepare import LocalizerPrepareConfig, prepare_localizer, real_photos

    photos = [] if settings.no_shared else real_photos(shared_catalog(settings.shared))
    for folder in settings.folders:
        photos += [sample for sample in collect_folder(folder) if sample.label == REAL]
    if not photos:
        raise PipelineError("No real photos: give --folder or make ../shared/data available.")
    config = LocalizerPrepareConfig(
        seed=settings.seed, edits_per_photo=settings.edits_per_photo, reconstructions=settings.reconstructions
    )
    prepare_localizer(photos, settings.workdir, config, WindowReconstructor(taesd.load_taef2()))
    return dict(json.loads((settings.workdir / "summary.json").read_text()))


@dataclass(frozen=True, kw_only=True)
class LocalizerTrainSettings(TrainSettings):
    minutes: float = setting(40.0, "Training time budget.")
    batch_size: int = setting(12)
    eval_every: int = setting(200, "Steps between validations.")
    shared: Path = shared_setting("Where the real forgeries for model selection are.")


def train(settings: LocalizerTrainSettings) -> dict[str, Any]:
    """Writes WORKDIR/localizer.pt and its learning curve."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.localizer.real_forgeries import read_coverage
    from realeyes.training.localizer.train import TrainConfig
    from realeyes.training.localizer.train import train as train_localizer

    config = TrainConfig(**settings.budget())
    try:
        real_val = read_coverage(settings.shared, "val")
    except FileNotFoundError as error:
        log.warning("%s: model selection uses the synthetic validation set only", error)
        real_val = []
    history = train_localizer(settings.workdir, settings.workdir / "localizer.pt", config, real_val, settings.resume)
    return finish_training(settings.workdir, tracking.LOCALIZER_EXPERIMENT, config, history)


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    workdir: Path = workdir_setting("Localizer run folder.")
    version: str = setting("0.1.0")
    out: Path | None = setting(None, "Bundle folder (default: models/localizer/...).", file_okay=False)
    no_sweep: bool = setting(False, "Skip the robustness sweep (faster).")
    int8: bool = setting(False, "Also try an int8 graph; ship it only within --int8-tolerance.")
    int8_tolerance: float = setting(0.01, "Largest validation pixel-F1 (at 0.5) loss accepted.")
    shared: Path = shared_setting("Where the real forgeries and unseen authentic photos for the card are.")


def export(settings: ExportSettings) -> Path:
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.localizer.build import NAME, build_localizer_bundle
    from realeyes.training.localizer.real_forgeries import has_coverage

    workdir = settings.workdir
    history = workdir / "localizer.history.json"
    minutes = json.loads(history.read_text())["minutes"] if history.is_file() else None
    folder = settings.out or DEFAULT_MODELS_DIR / "localizer" / f"{NAME}-{settings.version}"
    tolerance = settings.int8_tolerance if settings.int8 else None
    real = settings.shared if has_coverage(settings.shared) else None
    if real is None:
        log.warning("no real forgeries under %s: the card reports synthetic edits only", settings.shared)
    sweep = not settings.no_sweep
    build_localizer_bundle(
        workdir / "localizer.pt", workdir, folder, settings.version, minutes, sweep, tolerance, shared=real
    )
    tracking.track_bundle(workdir, tracking.LOCALIZER_EXPERIMENT, folder)
    return folder


@dataclass(frozen=True, kw_only=True)
class EvaluateSettings:
    fixed_set: Path = setting(help="A fixed set written by prepare.", argument=True, exists=True, file_okay=False)
    out: Path = setting(help="Report folder.", file_okay=False)
    bundle: Path | None = setting(None, "Default: the promoted one.", exists=True, file_okay=False)
    no_sweep: bool = setting(False, "Skip the robustness sweep.")


def evaluate(settings: EvaluateSettings) -> dict[str, Any]:
    from realeyes.training import tracking
    from realeyes.training.localizer.evaluate import evaluate as evaluate_localizer
    from realeyes.training.localizer.evaluate import write_report
    from realeyes.training.localizer.prepare import read_fixed_set

    analyzer = _analyzer(settings.bundle)
    described = f"fixed synthetic set {settings.fixed_set}"
    report = evaluate_localizer(analyzer, read_fixed_set(settings.fixed_set), described, sweep=not settings.no_sweep)
    write_report(report, settings.out)
    params = {"data": described, "bundle": analyzer.model.bundle.path}
    tracking.track_evaluation(settings.out, tracking.EVALUATION_EXPERIMENT, params, report)
    return {"pixel_best_f1": report["pixel"]["best_f1"], "image_auc": report["image"]["auc"]}


@dataclass(frozen=True, kw_only=True)
class EvaluateRealSettings:
    out: Path = setting(help="Report (JSON).", dir_okay=False)
    bundle: Path | None = setting(None, "Default: the promoted one.", exists=True, file_okay=False)
    shared: Path = shared_setting()


def evaluate_real(settings: EvaluateRealSettings) -> dict[str, Any]:
    from realeyes.training.localizer.build import real_world

    _require_coverage(settings.shared)
    analyzer = _analyzer(settings.bundle)
    report = {"bundle": analyzer.model_version, **real_world(analyzer, settings.shared)}
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(json.dumps(report, indent=2) + "\n")
    test = report["real_forgeries_test"]["methods"]
    return {name: figures["pixel_f1_at_level"] for name, figures in test.items()}


def real_validation_f1(bundle: Path, run: Mapping[str, Any]) -> Figure:
    """Pixel F1 at the shipped level on the real forgeries' validation half (the model-selection set: no localizer
    trains on real forgeries)."""
    from realeyes.training.localizer.real_forgeries import (
        COVERAGE,
        localisation_report,
        localizer_method,
        read_coverage,
        score,
    )

    shared = run["train"].shared
    _require_coverage(shared)
    images = read_coverage(shared, "val")
    analyzer = _analyzer(bundle)
    report = localisation_report(images, score(localizer_method(analyzer), images), analyzer.threshold)
    return Figure(float(report["pixel_f1_at_level"]), f"{shared / COVERAGE} validation half ({len(images)} images)")


def _require_coverage(shared: Path) -> None:
    from realeyes.training.localizer.real_forgeries import has_coverage

    if not has_coverage(shared):
        raise PipelineError(f"no real forgeries under {shared}: give --shared")


def _analyzer(bundle: Path | None) -> Any:
    from realeyes.analyzers.localizer import LocalizerAnalyzer  # served-model code loads only when a stage runs

    return LocalizerAnalyzer.from_bundle(bundle)


PIPELINE = Pipeline(
    task="localizer",
    summary="The manipulation localizer: prepare, train, export (calibration and evaluation included), evaluate.",
    stages={
        "prepare": Stage(
            prepare,
            PrepareSettings,
            "Split real photos by photo; write fixed synthetic val/test sets and the autoencoder cache.",
        ),
        "train": Stage(train, LocalizerTrainSettings, "Train on synthetic edits of WORKDIR's training photos."),
        "export": Stage(
            export,
            ExportSettings,
            "Export WORKDIR/localizer.pt to an ONNX bundle, calibrate on the validation set, evaluate on the test set.",
        ),
        "evaluate": Stage(evaluate, EvaluateSettings, "A localizer bundle on a fixed synthetic set."),
        "evaluate-real": Stage(
            evaluate_real,
            EvaluateRealSettings,
            "A localizer bundle on real forgeries (both COVERAGE halves, with the ELA, noise and flag-everything "
            "baselines) and on unseen authentic photos, laundered: the figures that lead its card.",
        ),
    },
    held_out_figure=real_validation_f1,
    figure_name="pixel F1 at the shipped level, real forgeries' validation half",
)
