"""The face-forgery model's pipeline: prepare crops, train, export (calibrate + evaluate + bundle), evaluate on
held-out crops, evaluate on labelled clips. Torch loads inside the stages."""

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
    finish_training,
    require_training_extra,
    setting,
    shared_setting,
    workdir_setting,
)


@dataclass(frozen=True, kw_only=True)
class PrepareSettings:
    workdir: Path = workdir_setting("Face-forgery run folder.")
    shared: Path = shared_setting()
    no_shared: bool = setting(False, "Do not use ../shared/data.")
    folders: tuple[Path, ...] = setting(
        (),
        "Extra data: real/<person>/* (split by person) and fake/<kind>/* (test only); images or videos.",
        option="--folder",
        exists=True,
        file_okay=False,
    )
    frames_per_video: int = setting(40)
    seed: int = setting(0)


def prepare(settings: PrepareSettings) -> dict[str, Any]:
    from realeyes.training.faces.prepare import FacePrepareConfig, prepare_faces
    from realeyes.training.faces.sources import folder_inputs, shared_face_inputs

    inputs = [] if settings.no_shared else shared_face_inputs(settings.shared)
    for folder in settings.folders:
        inputs += folder_inputs(folder, settings.seed)
    if not inputs:
        raise PipelineError("No data: give --folder or make ../shared/data available.")
    prepare_faces(inputs, settings.workdir, FacePrepareConfig(frames_per_video=settings.frames_per_video))
    return dict(json.loads((settings.workdir / "summary.json").read_text()))


@dataclass(frozen=True, kw_only=True)
class FaceTrainSettings(TrainSettings):
    eval_every: int = setting(100, "Steps between validations.")
    seed: int = setting(0)


def train(settings: FaceTrainSettings) -> dict[str, Any]:
    """Writes WORKDIR/faces.pt and its learning curve."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.faces.train import FaceTrainConfig
    from realeyes.training.faces.train import train as train_faces

    config = FaceTrainConfig(**settings.budget(), seed=settings.seed)
    workdir = settings.workdir
    history = train_faces(workdir / "manifest.csv", workdir / "faces.pt", config, settings.resume)
    return finish_training(workdir, tracking.FACE_FORGERY_EXPERIMENT, config, history)


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    workdir: Path = workdir_setting("Face-forgery run folder.")
    version: str = setting("0.1.0")
    out: Path | None = setting(None, "Bundle folder (default: models/face-forgery/...).", file_okay=False)
    promote: bool = setting(False, "Promote the bundle in its models folder's registry.json.")
    note: str = setting("", "Why it is promoted (kept in registry.json).")
    card_notes: tuple[str, ...] = setting((), "Development history to show on the card.", option="--card-note")
    shared: Path = shared_setting("Where the labelled clips are (clip-level figures and the fusion weight).")


def export(settings: ExportSettings) -> str:
    require_training_extra()
    from realeyes.models import Registry
    from realeyes.training import tracking
    from realeyes.training.faces.build import NAME, build_face_bundle

    workdir = settings.workdir
    folder = settings.out or DEFAULT_MODELS_DIR / "face-forgery" / f"{NAME}-{settings.version}"
    built = build_face_bundle(
        workdir / "faces.pt", workdir / "manifest.csv", folder, settings.version, settings.card_notes, settings.shared
    )
    tracking.track_bundle(workdir, tracking.FACE_FORGERY_EXPERIMENT, folder)
    lines = [str(built)]
    if settings.promote:
        bundle = Registry(folder.resolve().parents[1]).promote(folder, settings.note)
        lines += [f"promoted {bundle.name} {bundle.version} for {bundle.task}"]
        lines += [tracking.mirror_promotion(folder, settings.note)]
    return "\n".join(lines)


@dataclass(frozen=True, kw_only=True)
class EvaluateSettings:
    workdir: Path = workdir_setting("Face-forgery run folder.")
    out: Path = setting(help="Report folder.", file_okay=False)
    bundle: Path | None = setting(None, "Default: the promoted one.", exists=True, file_okay=False)


def evaluate(settings: EvaluateSettings) -> dict[str, Any]:
    """A face-forgery bundle on WORKDIR's held-out crops (validation, test and extra splits)."""
    from realeyes.training import tracking
    from realeyes.training.faces.evaluate import evaluate_faces, write_reports

    model = _model(settings.bundle)
    manifest = settings.workdir / "manifest.csv"
    reports = write_reports(evaluate_faces(model, manifest), settings.out)
    params = {"data": f"held-out crops of {manifest}", "bundle": model.bundle.path}
    tracking.track_evaluation(settings.out, tracking.EVALUATION_EXPERIMENT, params, reports)
    return {name: _auc(report) for name, report in reports.items()}


@dataclass(frozen=True, kw_only=True)
class EvaluateClipsSettings:
    bundle: Path | None = setting(None, "Default: the promoted one.", exists=True, file_okay=False)
    shared: Path = shared_setting()


def evaluate_clips(settings: EvaluateClipsSettings) -> dict[str, Any]:
    """The labelled clips under SHARED/video through the video analyzer with a face-forgery bundle."""
    from realeyes.training.faces.clips import evaluate_clips as score_clips
    from realeyes.training.faces.clips import labelled_clips

    if not labelled_clips(settings.shared):
        raise PipelineError(f"No labelled clips under {settings.shared / 'video'}.")
    return score_clips(_model(settings.bundle), settings.shared)


def held_out_auc(bundle: Path, run: Mapping[str, Any]) -> Figure:
    """AUC on the run's test people: real face swaps against their real crops when the test split has any,
    else each real crop against its self-blend."""
    from realeyes.training.faces.evaluate import evaluate_faces

    manifest = run["prepare"].workdir / "manifest.csv"
    reports = evaluate_faces(_model(bundle), manifest)
    name = "test_labelled_all" if "test_labelled_all" in reports else "test_self_blended"
    return Figure(float(_auc(reports[name])), reports[name].get("data", f"{name} of {manifest}"))


def _auc(report: Mapping[str, Any]) -> Any:
    return report.get("auc", report.get("as_served", {}).get("auc"))


def _model(bundle: Path | None) -> Any:
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.models.face_forgery import FaceForgeryModel

    return FaceForgeryModel(Settings(), bundle=load_bundle(bundle) if bundle else None)


PIPELINE = Pipeline(
    task="face-forgery",
    summary="The face-forgery model: prepare, train, export (calibration and evaluation included), evaluate.",
    stages={
        "prepare": Stage(
            prepare,
            PrepareSettings,
            "Detect and crop faces, split by person, write WORKDIR/manifest.csv and WORKDIR/summary.json.",
        ),
        "train": Stage(train, FaceTrainSettings, "Train on WORKDIR/manifest.csv (real crops + self-blends)."),
        "export": Stage(
            export,
            ExportSettings,
            "Export WORKDIR/faces.pt to an ONNX bundle, calibrate on validation, evaluate on held-out crops and clips.",
        ),
        "evaluate": Stage(evaluate, EvaluateSettings, evaluate.__doc__ or ""),
        "evaluate-clips": Stage(evaluate_clips, EvaluateClipsSettings, evaluate_clips.__doc__ or ""),
    },
    held_out_figure=held_out_auc,
    figure_name="AUC on the run's test people",
)
