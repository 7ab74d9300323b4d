"""Command line for the model pipeline: data prepare, train, export, evaluate and models (the localizer, face and
coder pipelines have their own groups, in their packages). Torch loads lazily."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from realeyes.config import DEFAULT_MODELS_DIR

DEFAULT_SHARED = Path(os.environ.get("REALEYES_SHARED_DATA", DEFAULT_MODELS_DIR.parent.parent / "shared" / "data"))


def finish_training(workdir: Path, experiment: str, config: Any, history: dict[str, Any]) -> None:
    """Log a finished training run to MLflow and print its summary (the curve is in its history file)."""
    from realeyes.training import tracking

    tracking.track_training(workdir, experiment, asdict(config), history)
    click.echo(json.dumps({k: v for k, v in history.items() if k != "curve"}))


Command = Callable[..., None]


def _stacked(options: list[Callable[[Command], Command]]) -> Callable[[Command], Command]:
    """One decorator applying click options so that --help lists them in the given order."""

    def decorate(command: Command) -> Command:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def bundle_options(task_folder: str) -> Callable[[Command], Command]:
    """An export command's --version and --out (default: models/<task_folder>/<name>-<version>)."""
    return _stacked(
        [
            click.option("--version", "version", default="0.1.0", show_default=True),
            click.option(
                "--out",
                type=click.Path(file_okay=False, path_type=Path),
                help=f"Bundle folder (default: models/{task_folder}/...).",
            ),
        ]
    )


def budget_options(minutes: float, batch_size: int, eval_every: int) -> Callable[[Command], Command]:
    """A train command's --minutes, --max-steps, --batch-size and --eval-every, with its pipeline's defaults."""
    return _stacked(
        [
            click.option("--minutes", type=float, default=minutes, show_default=True, help="Training time budget."),
            click.option("--max-steps", type=int, default=100_000, show_default=True),
            click.option("--batch-size", type=int, default=batch_size, show_default=True),
            click.option("--eval-every", type=int, default=eval_every, show_default=True),
        ]
    )


resume_option = click.option(
    "--resume", is_flag=True, help="Carry on from WORKDIR's last saved state (<checkpoint>.last.pt), same settings."
)


def require_training_extra() -> None:
    """Training commands need torch; say how to get it instead of failing with an import traceback."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise click.UsageError("This command needs the training extra: pip install -e '.[train]'") from exc


_workdir = click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Run folder."
)


@click.group("data")
def data() -> None:
    """Prepare labelled data for training."""


@data.command("prepare")
@_workdir
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
@click.option("--no-shared", is_flag=True, help="Do not use ../shared/data.")
@click.option(
    "--folder", "folders", multiple=True, type=click.Path(exists=True, path_type=Path), help="real/ + ai/ folder."
)
@click.option("--csv", "manifests", multiple=True, type=click.Path(exists=True, path_type=Path), help="CSV manifest.")
@click.option(
    "--reconstructions", type=int, default=240, show_default=True, help="Autoencoder fakes to make (0: none)."
)
@click.option("--seed", type=int, default=0, show_default=True)
def prepare_command(
    workdir: Path,
    shared: Path,
    no_shared: bool,
    folders: tuple[Path, ...],
    manifests: tuple[Path, ...],
    reconstructions: int,
    seed: int,
) -> None:
    """Collect, de-duplicate, split by group and synthesise fakes into WORKDIR/manifest.csv."""
    require_training_extra()
    from realeyes.training import taesd
    from realeyes.training.catalog import shared_catalog
    from realeyes.training.dataset import collect_folder, read_manifest
    from realeyes.training.prepare import PrepareConfig, prepare

    samples = [] if no_shared else shared_catalog(shared)
    for folder in folders:
        samples += collect_folder(folder)
    for manifest in manifests:
        samples += read_manifest(manifest)
    if not samples:
        raise click.UsageError("No data: give --folder/--csv or make ../shared/data available.")
    reconstructor = None
    if reconstructions:
        autoencoder = taesd.load_taef2()
        reconstructor = lambda rgb: taesd.reconstruct(autoencoder, rgb)  # noqa: E731
    config = PrepareConfig(seed=seed, reconstructions=reconstructions)
    click.echo(prepare(samples, workdir, config, reconstructor))
    click.echo((workdir / "summary.json").read_text())


@click.command("train")
@_workdir
@budget_options(minutes=25.0, batch_size=32, eval_every=150)
@click.option("--hold-out", multiple=True, help="Leave generators with this name prefix out of training.")
@click.option("--launder", type=float, default=0.0, show_default=True, help="Share of crops laundered first.")
@click.option("--harden", type=float, default=0.0, show_default=True, help="Share of crops through a hard pipeline.")
@click.option(
    "--hold-out-source",
    "hold_out_sources",
    multiple=True,
    type=click.Choice(["ecuador-flux-faces"]),  # selection_source.BENCHMARK_SOURCES (imported lazily, with torch)
    help="Leave this training source out, then score it as the benchmark does (the figure to choose recipes on).",
)
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True, help="Torch threads.")
@resume_option
def train_command(
    workdir: Path,
    minutes: float,
    max_steps: int,
    batch_size: int,
    eval_every: int,
    hold_out: tuple[str, ...],
    launder: float,
    harden: float,
    hold_out_sources: tuple[str, ...],
    shared: Path,
    threads: int,
    resume: bool,
) -> None:
    """Train the classifier on WORKDIR/manifest.csv; writes WORKDIR/classifier.pt and its learning curve
    (with --hold-out-source, also the held-out source's AUC per benchmark condition under `held_out_source`)."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.augment import AugmentConfig
    from realeyes.training.export import load_checkpoint
    from realeyes.training.selection_source import selection_scores
    from realeyes.training.train_classifier import TrainConfig, train

    logging.getLogger("realeyes").setLevel(logging.INFO)
    config = TrainConfig(
        minutes=minutes,
        max_steps=max_steps,
        batch_size=batch_size,
        eval_every=eval_every,
        threads=threads,
        hold_out=hold_out,
        hold_out_sources=hold_out_sources,
        augment=AugmentConfig(launder_probability=launder, harden_probability=harden),
    )
    output = workdir / "classifier.pt"
    history = train(workdir / "manifest.csv", output, config, resume)
    if hold_out_sources:
        model, _ = load_checkpoint(output)
        history["held_out_source"] = selection_scores(
            model, shared, hold_out_sources, config.eval_crop, config.eval_crops
        )
        output.with_suffix(".history.json").write_text(json.dumps(history, indent=2))
    finish_training(workdir, tracking.CLASSIFIER_EXPERIMENT, config, history)


@click.command("export")
@_workdir
@bundle_options("classifier")
@click.option("--no-sweep", is_flag=True, help="Skip the robustness sweep (faster).")
@click.option("--int8", is_flag=True, help="Also try an int8 graph; ship it only within --int8-tolerance.")
@click.option(
    "--int8-tolerance", type=float, default=0.005, show_default=True, help="Largest validation AUC loss accepted."
)
def export_command(
    workdir: Path, version: str, out: Path | None, no_sweep: bool, int8: bool, int8_tolerance: float
) -> None:
    """Export WORKDIR/classifier.pt to an ONNX bundle, calibrate on validation, evaluate on test."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.build import build_classifier_bundle

    logging.getLogger("realeyes").setLevel(logging.INFO)
    folder = out or DEFAULT_MODELS_DIR / "classifier" / f"realeyes-npr-classifier-{version}"
    build_classifier_bundle(
        workdir / "classifier.pt",
        workdir / "manifest.csv",
        folder,
        version,
        sweep=not no_sweep,
        int8_tolerance=int8_tolerance if int8 else None,
    )
    tracking.track_bundle(workdir, tracking.CLASSIFIER_EXPERIMENT, folder)
    click.echo(folder)


@click.command("evaluate")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--bundle", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Default: the promoted one."
)
@click.option("--split", help="With a prepared manifest: evaluate only this split (e.g. test).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Report folder.")
@click.option("--no-sweep", is_flag=True, help="Skip the robustness sweep.")
@click.option(
    "--protocol",
    type=click.Choice(["split", "generalisation"]),
    default="split",
    show_default=True,
    help="generalisation: DATASET is ../shared/data; every served detector and the verdict, leave one source out.",
)
@click.option(
    "--write-fusion",
    type=click.Path(dir_okay=False, path_type=Path),
    help="generalisation: write the calibrated fusion and thresholds here (the engine reads models/fusion.json).",
)
@click.option("--update-cards", is_flag=True, help="generalisation: lead the promoted models' cards with it.")
@click.option("--rescore", is_flag=True, help="generalisation: score again even if OUT/scores.csv exists.")
@click.option("--workers", type=int, default=2, show_default=True, help="generalisation: scoring processes.")
def evaluate_command(
    dataset: Path,
    bundle: Path | None,
    split: str | None,
    out: Path,
    no_sweep: bool,
    protocol: str,
    write_fusion: Path | None,
    update_cards: bool,
    rescore: bool,
    workers: int,
) -> None:
    """Evaluate a classifier bundle on a labelled folder (real/, ai/) or CSV manifest; or, with --protocol
    generalisation, every served detector and the fused verdict on sources they never saw."""
    if protocol == "generalisation":
        _evaluate_generalisation(dataset, out, write_fusion, update_cards, rescore, workers)
        return
    from realeyes.analyzers.classifier import ClassifierAnalyzer
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.training import tracking
    from realeyes.training.dataset import collect_folder
    from realeyes.training.evaluate import evaluate, write_report
    from realeyes.training.prepare import read_prepared

    if dataset.is_dir():
        samples = collect_folder(dataset)
    else:
        samples = [s for s, s_split in read_prepared(dataset) if split is None or s_split == split]
    analyzer = ClassifierAnalyzer(Settings(), bundle=load_bundle(bundle) if bundle else None)
    described = f"{dataset}" + (f" (split {split})" if split else "")
    report = evaluate(analyzer, samples, described, sweep=not no_sweep)
    write_report(report, out)
    params = {"data": described, "bundle": analyzer.model.bundle.path}
    tracking.track_evaluation(out, tracking.EVALUATION_EXPERIMENT, params, report)
    click.echo(json.dumps({k: report[k]["auc"] for k in ("as_served", "same_reencode_jpeg90")}))


def _evaluate_generalisation(
    shared: Path, out: Path, fusion: Path | None, update_cards: bool, rescore: bool, workers: int
) -> None:
    from realeyes.config import Settings
    from realeyes.training.generalisation import benchmark
    from realeyes.training.generalisation.cards import attach_to_cards
    from realeyes.training.generalisation.protocol import Targets

    report = benchmark.evaluate_generalisation(shared, out, Targets(), workers, rescore)
    if fusion is not None:
        benchmark.write_fusion(report, fusion)
    if update_cards:
        command = f"realeyes evaluate {shared} --protocol generalisation --out {out}"
        attach_to_cards(report, Settings().models_dir, command)
    verdict = report["detectors"][benchmark.VERDICT]["conditions"]["laundered"].get("pooled", {})
    click.echo(json.dumps({"laundered": {k: verdict.get(k) for k in ("auc", "real_accused", "generated_caught")}}))


@click.group("models")
def models() -> None:
    """List, show and promote model bundles."""


@models.command("list")
def models_list() -> None:
    from realeyes.config import Settings
    from realeyes.errors import ModelUnavailable
    from realeyes.models import Registry

    registry = Registry(Settings().models_dir)
    for bundle in registry.bundles():
        try:
            promoted = registry.promoted(bundle.task).path == bundle.path
        except ModelUnavailable:
            promoted = False
        click.echo(f"{'*' if promoted else ' '} {bundle.task:<12} {bundle.name} {bundle.version}  {bundle.path}")


@models.command("show")
@click.argument("bundle", type=click.Path(file_okay=False, exists=True, path_type=Path))
def models_show(bundle: Path) -> None:
    click.echo((bundle / "card.md").read_text())


@models.command("compare")
@click.argument("first", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("second", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--all", "everything", is_flag=True, help="Every shared figure, per generator and per kind included.")
def models_compare(first: Path, second: Path, everything: bool) -> None:
    """The held-out figures two bundles' cards share, side by side (e.g. a retrained model against the shipped one).
    Figures measured on different data are not comparable: check each card's `data` fields."""
    from realeyes.training.tracking import flatten_metrics

    cards = [json.loads((bundle / "card.json").read_text()) for bundle in (first, second)]
    figures = [flatten_metrics(card.get("metrics", {})) for card in cards]
    headline = (
        "auc",
        "average_precision",
        "ece",
        "balanced_accuracy",
        "f1",
        "eer",
        "fpr_at_tpr",
        "f1_at_05",
        "iou_at_05",
    )
    keys = [
        key
        for key in figures[0]
        if key in figures[1] and (everything or (key.rsplit(".", 1)[-1] in headline and ".per_" not in key))
    ]
    names = [f"{card['name']} {card['version']}" for card in cards]
    width = max([len("figure"), *map(len, keys)])
    click.echo(f"{'figure':<{width}} {names[0][:22]:>22} {names[1][:22]:>22} {'difference':>10}")
    for key in keys:
        a, b = figures[0][key], figures[1][key]
        click.echo(f"{key:<{width}} {a:>22.4f} {b:>22.4f} {b - a:>+10.4f}")


@models.command("promote")
@click.argument("bundle", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--note", default="", help="Why this bundle is promoted.")
def models_promote(bundle: Path, note: str) -> None:
    """Make BUNDLE the one the engine serves for its task (recorded in models/registry.json; mirrored to MLflow's
    model registry when the bundle was exported with tracking)."""
    from realeyes.config import Settings
    from realeyes.models import Registry
    from realeyes.training.tracking import mirror_promotion

    promoted = Registry(Settings().models_dir).promote(bundle, note)
    click.echo(f"promoted {promoted.name} {promoted.version} for {promoted.task}")
    click.echo(mirror_promotion(bundle, note))
