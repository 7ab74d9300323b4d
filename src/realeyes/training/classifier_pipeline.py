"""The AI-image classifier's pipeline: prepare (collect, de-duplicate, split by group, synthesise autoencoder
fakes), train, export (ONNX bundle, calibrated on validation, evaluated on test) and evaluate. Torch loads inside
the stages."""

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

NAME = "realeyes-npr-classifier"


@dataclass(frozen=True, kw_only=True)
class PrepareSettings:
    workdir: Path = workdir_setting()
    shared: Path = shared_setting()
    no_shared: bool = setting(False, "Do not use ../shared/data.")
    folders: tuple[Path, ...] = setting((), "A real/ + ai/ folder.", option="--folder", exists=True)
    manifests: tuple[Path, ...] = setting((), "A CSV manifest.", option="--csv", exists=True)
    reconstructions: int = setting(240, "Autoencoder fakes to make (0: none).")
    seed: int = setting(0)


def prepare(settings: PrepareSettings) -> dict[str, Any]:
    require_training_extra()
    from realeyes.training import taesd
    from realeyes.training.catalog import shared_catalog
    from realeyes.training.dataset import collect_folder, read_manifest
    from realeyes.training.prepare import PrepareConfig
    from realeyes.training.prepare import prepare as prepare_manifest

    samples = [] if settings.no_shared else shared_catalog(settings.shared)
    for folder in settings.folders:
        samples += collect_folder(folder)
    for manifest in settings.manifests:
        samples += read_manifest(manifest)
    if not samples:
        raise PipelineError("No data: give --folder/--csv or make ../shared/data available.")
    reconstructor = None
    if settings.reconstructions:
        autoencoder = taesd.load_taef2()
        reconstructor = lambda rgb: taesd.reconstruct(autoencoder, rgb)  # noqa: E731
    config = PrepareConfig(seed=settings.seed, reconstructions=settings.reconstructions)
    prepare_manifest(samples, settings.workdir, config, reconstructor)
    return dict(json.loads((settings.workdir / "summary.json").read_text()))


@dataclass(frozen=True, kw_only=True)
class ClassifierTrainSettings(TrainSettings):
    hold_out: tuple[str, ...] = setting((), "Leave generators with this name prefix out of training.")
    launder: float = setting(0.0, "Share of crops laundered first.")
    harden: float = setting(0.0, "Share of crops through a hard pipeline.")
    harden_real: float = setting(0.0, "Share of real crops only through a hard pipeline (hard real negatives).")
    hard_real_share: float = setting(
        0.0, "Share of laundered real crops cut from a whole photo put through a hard pipeline before laundering."
    )
    hold_out_sources: tuple[str, ...] = setting(
        (),
        "Leave this selection source (training images of both classes) out, then score it as the benchmark does "
        "(the figure to choose recipes on).",
        option="--hold-out-source",
        choices=["ecuador-flux-faces", "camera-exif-diffusion"],  # selection_source.SELECTION_SOURCES (imports torch)
    )
    shared: Path = shared_setting()
    threads: int = setting(2, "Torch threads.")


def train(settings: ClassifierTrainSettings) -> dict[str, Any]:
    """Writes WORKDIR/classifier.pt and its learning curve (with hold_out_sources, also the held-out source's AUC
    per benchmark condition under `held_out_source`)."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.augment import AugmentConfig
    from realeyes.training.export import load_checkpoint
    from realeyes.training.selection_source import SELECTION_SOURCES, selection_scores
    from realeyes.training.train_classifier import TrainConfig
    from realeyes.training.train_classifier import train as train_classifier

    held_out = [SELECTION_SOURCES[name] for name in settings.hold_out_sources]
    config = TrainConfig(
        **settings.budget(),
        threads=settings.threads,
        hold_out=settings.hold_out + tuple(name for source in held_out for name in source.generators),
        hold_out_sources=tuple(name for source in held_out for name in source.training_sources),
        augment=AugmentConfig(
            launder_probability=settings.launder,
            harden_probability=settings.harden,
            harden_real_probability=settings.harden_real,
            hard_real_share=settings.hard_real_share,
        ),
    )
    output = settings.workdir / "classifier.pt"
    history = train_classifier(settings.workdir / "manifest.csv", output, config, settings.resume)
    if settings.hold_out_sources:
        model, _ = load_checkpoint(output)
        history["held_out_source"] = selection_scores(
            model, settings.shared, settings.hold_out_sources, config.eval_crop, config.eval_crops
        )
        output.with_suffix(".history.json").write_text(json.dumps(history, indent=2))
    return finish_training(settings.workdir, tracking.CLASSIFIER_EXPERIMENT, config, history)


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    workdir: Path = workdir_setting()
    version: str = setting("0.1.0")
    out: Path | None = setting(None, "Bundle folder (default: models/classifier/...).", file_okay=False)
    no_sweep: bool = setting(False, "Skip the robustness sweep (faster).")
    int8: bool = setting(False, "Also try an int8 graph; ship it only within --int8-tolerance.")
    int8_tolerance: float = setting(0.005, "Largest validation AUC loss accepted.")


def export(settings: ExportSettings) -> Path:
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.build import build_classifier_bundle

    folder = settings.out or DEFAULT_MODELS_DIR / "classifier" / f"{NAME}-{settings.version}"
    build_classifier_bundle(
        settings.workdir / "classifier.pt",
        settings.workdir / "manifest.csv",
        folder,
        settings.version,
        sweep=not settings.no_sweep,
        int8_tolerance=settings.int8_tolerance if settings.int8 else None,
    )
    tracking.track_bundle(settings.workdir, tracking.CLASSIFIER_EXPERIMENT, folder)
    return folder


@dataclass(frozen=True, kw_only=True)
class EvaluateSettings:
    dataset: Path = setting(
        help="A labelled folder (real/, ai/) or CSV manifest; ../shared/data for generalisation.",
        argument=True,
        exists=True,
    )
    out: Path = setting(help="Report folder.", file_okay=False)
    bundle: Path | None = setting(None, "Default: the promoted one.", exists=True, file_okay=False)
    split: str | None = setting(None, "With a prepared manifest: evaluate only this split (e.g. test).")
    no_sweep: bool = setting(False, "Skip the robustness sweep.")
    protocol: str = setting(
        "split",
        "generalisation: DATASET is ../shared/data; every served detector and the verdict, leave one source out.",
        choices=["split", "generalisation"],
    )
    write_fusion: Path | None = setting(
        None,
        "generalisation: write the calibrated fusion and thresholds here (the engine reads models/fusion.json).",
        dir_okay=False,
    )
    update_cards: bool = setting(False, "generalisation: lead the promoted models' cards with it.")
    rescore: bool = setting(False, "generalisation: score again even if OUT/scores.csv exists.")
    rescore_only: tuple[str, ...] = setting(
        (), "generalisation: score again only this analyzer (repeatable); the other columns of OUT/scores.csv stay."
    )
    reconstruction: bool = setting(
        False,
        "generalisation: also score the benchmark-only autoencoder distance (DATASET/weights/taesd; 26 min, 2 cores).",
    )
    workers: int = setting(2, "generalisation: scoring processes.")


def evaluate(settings: EvaluateSettings) -> dict[str, Any]:
    """A classifier bundle on a labelled folder or manifest; or, with protocol generalisation, every served detector
    and the fused verdict on sources they never saw."""
    if settings.protocol == "generalisation":
        return _evaluate_generalisation(settings)
    from realeyes.analyzers.classifier import ClassifierAnalyzer
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.training import tracking
    from realeyes.training.dataset import collect_folder
    from realeyes.training.evaluate import evaluate as evaluate_classifier
    from realeyes.training.evaluate import write_report
    from realeyes.training.prepare import read_prepared

    dataset, split = settings.dataset, settings.split
    if dataset.is_dir():
        samples = collect_folder(dataset)
    else:
        samples = [s for s, s_split in read_prepared(dataset) if split is None or s_split == split]
    bundle = load_bundle(settings.bundle) if settings.bundle else None
    analyzer = ClassifierAnalyzer(Settings(), bundle=bundle)
    described = f"{dataset}" + (f" (split {split})" if split else "")
    report = evaluate_classifier(analyzer, samples, described, sweep=not settings.no_sweep)
    write_report(report, settings.out)
    params = {"data": described, "bundle": analyzer.model.bundle.path}
    tracking.track_evaluation(settings.out, tracking.EVALUATION_EXPERIMENT, params, report)
    return {key: report[key]["auc"] for key in ("as_served", "same_reencode_jpeg90")}


def _evaluate_generalisation(settings: EvaluateSettings) -> dict[str, Any]:
    from realeyes.config import Settings
    from realeyes.training.generalisation import benchmark
    from realeyes.training.generalisation.cards import attach_to_cards
    from realeyes.training.generalisation.protocol import Targets

    shared, out = settings.dataset, settings.out
    report = benchmark.evaluate_generalisation(
        shared, out, Targets(), settings.workers, settings.rescore, settings.rescore_only, settings.reconstruction
    )
    if settings.write_fusion is not None:
        benchmark.write_fusion(report, settings.write_fusion)
    if settings.update_cards:
        command = f"realeyes evaluate {shared} --protocol generalisation --out {out}"
        attach_to_cards(report, Settings().models_dir, command)
    verdict = report["detectors"][benchmark.VERDICT]["conditions"]["laundered"].get("pooled", {})
    return {"laundered": {key: verdict.get(key) for key in ("auc", "real_accused", "generated_caught")}}


def test_split_auc(bundle: Path, run: Mapping[str, Any]) -> Figure:
    """The bundle's AUC on the run's test split (real inputs and reconstructions, as prepared)."""
    from realeyes.analyzers.classifier import ClassifierAnalyzer
    from realeyes.training.evaluate import evaluate as evaluate_classifier
    from realeyes.training.prepare import read_prepared

    manifest = run["prepare"].workdir / "manifest.csv"
    test = [sample for sample, split in read_prepared(manifest) if split == "test"]
    described = f"test split of {manifest} ({len(test)} images)"
    analyzer = ClassifierAnalyzer.from_bundle(bundle)
    return Figure(float(evaluate_classifier(analyzer, test, described, sweep=False)["as_served"]["auc"]), described)


def validation_inputs(run: Mapping[str, Any]) -> tuple[list[Path], str]:
    """The run's validation images as a service would see them (no autoencoder reconstructions: a training aid)."""
    from realeyes.training.prepare import RECONSTRUCTION, read_prepared

    manifest = run["prepare"].workdir / "manifest.csv"
    rows = read_prepared(manifest)
    files = [Path(s.path) for s, split in rows if split == "val" and s.generator != RECONSTRUCTION]
    return files, f"the validation split of {manifest}"


PIPELINE = Pipeline(
    task="classifier",
    summary="The AI-image classifier: prepare, train, export (calibration and evaluation included), evaluate.",
    stages={
        "prepare": Stage(
            prepare,
            PrepareSettings,
            "Collect, de-duplicate, split by group and synthesise fakes into WORKDIR/manifest.csv.",
        ),
        "train": Stage(train, ClassifierTrainSettings, "Train on WORKDIR/manifest.csv; writes WORKDIR/classifier.pt."),
        "export": Stage(
            export,
            ExportSettings,
            "Export WORKDIR/classifier.pt to an ONNX bundle, calibrate on validation, evaluate on test.",
        ),
        "evaluate": Stage(evaluate, EvaluateSettings, evaluate.__doc__ or ""),
    },
    held_out_figure=test_split_auc,
    figure_name="test AUC",
    feedback_setting="manifests",
    drift_reference=validation_inputs,
)
