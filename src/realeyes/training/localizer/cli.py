"""Command line for the manipulation localizer: prepare, train, export (calibrate + evaluate + bundle), evaluate.

Attach with `COMMANDS` to the main CLI (`realeyes localizer ...`). Torch loads lazily, inside the commands.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from realeyes.config import DEFAULT_MODELS_DIR
from realeyes.training.cli import (
    DEFAULT_SHARED,
    budget_options,
    bundle_options,
    finish_training,
    require_training_extra,
    resume_option,
)


@click.group("localizer")
def localizer() -> None:
    """The manipulation localizer's pipeline: prepare, train, export (evaluation included), evaluate."""


_localizer_workdir = click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Localizer run folder."
)


@localizer.command("prepare")
@_localizer_workdir
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
@click.option(
    "--folder", "folders", multiple=True, type=click.Path(exists=True, path_type=Path), help="Extra real/ photos."
)
@click.option("--no-shared", is_flag=True, help="Do not use ../shared/data.")
@click.option(
    "--reconstructions", type=int, default=160, show_default=True, help="Training photos with an autoencoder crop."
)
@click.option("--edits-per-photo", type=int, default=3, show_default=True, help="Edited copies per held-out photo.")
@click.option("--seed", type=int, default=0, show_default=True)
def localizer_prepare(
    workdir: Path,
    shared: Path,
    folders: tuple[Path, ...],
    no_shared: bool,
    reconstructions: int,
    edits_per_photo: int,
    seed: int,
) -> None:
    """Split real photos by photo; write fixed synthetic val/test sets and the autoencoder cache."""
    require_training_extra()
    from realeyes.training import taesd
    from realeyes.training.catalog import shared_catalog
    from realeyes.training.dataset import REAL, collect_folder
    from realeyes.training.localizer.autoencoder import WindowReconstructor
    from realeyes.training.localizer.prepare import LocalizerPrepareConfig, prepare_localizer, real_photos

    logging.getLogger("realeyes").setLevel(logging.INFO)
    photos = [] if no_shared else real_photos(shared_catalog(shared))
    for folder in folders:
        photos += [sample for sample in collect_folder(folder) if sample.label == REAL]
    if not photos:
        raise click.UsageError("No real photos: give --folder or make ../shared/data available.")
    config = LocalizerPrepareConfig(seed=seed, edits_per_photo=edits_per_photo, reconstructions=reconstructions)
    click.echo(prepare_localizer(photos, workdir, config, WindowReconstructor(taesd.load_taef2())))
    click.echo((workdir / "summary.json").read_text())


@localizer.command("train")
@_localizer_workdir
@budget_options(minutes=40.0, batch_size=12, eval_every=200)
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
@resume_option
def localizer_train(
    workdir: Path, minutes: float, max_steps: int, batch_size: int, eval_every: int, shared: Path, resume: bool
) -> None:
    """Train on synthetic edits of WORKDIR's training photos; writes WORKDIR/localizer.pt and its learning curve."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.localizer.real_forgeries import read_coverage
    from realeyes.training.localizer.train import TrainConfig, train

    logging.getLogger("realeyes").setLevel(logging.INFO)
    config = TrainConfig(minutes=minutes, max_steps=max_steps, batch_size=batch_size, eval_every=eval_every)
    try:
        real_val = read_coverage(shared, "val")
    except FileNotFoundError as error:
        click.echo(f"{error}: model selection uses the synthetic validation set only", err=True)
        real_val = []
    history = train(workdir, workdir / "localizer.pt", config, real_val, resume)
    finish_training(workdir, tracking.LOCALIZER_EXPERIMENT, config, history)


@localizer.command("export")
@_localizer_workdir
@bundle_options("localizer")
@click.option("--no-sweep", is_flag=True, help="Skip the robustness sweep (faster).")
@click.option("--int8", is_flag=True, help="Also try an int8 graph; ship it only within --int8-tolerance.")
@click.option(
    "--int8-tolerance",
    type=float,
    default=0.01,
    show_default=True,
    help="Largest validation pixel-F1 (at 0.5) loss accepted.",
)
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
def localizer_export(
    workdir: Path, version: str, out: Path | None, no_sweep: bool, int8: bool, int8_tolerance: float, shared: Path
) -> None:
    """Export WORKDIR/localizer.pt to an ONNX bundle, calibrate on the validation set, evaluate on the test set."""
    require_training_extra()
    from realeyes.training import tracking
    from realeyes.training.localizer.build import NAME, build_localizer_bundle
    from realeyes.training.localizer.real_forgeries import COVERAGE

    logging.getLogger("realeyes").setLevel(logging.INFO)
    history = workdir / "localizer.history.json"
    minutes = json.loads(history.read_text())["minutes"] if history.is_file() else None
    folder = out or DEFAULT_MODELS_DIR / "localizer" / f"{NAME}-{version}"
    tolerance = int8_tolerance if int8 else None
    real = shared if (shared / COVERAGE / "pairs.csv").is_file() else None
    if real is None:
        click.echo(f"no real forgeries under {shared}: the card reports synthetic edits only", err=True)
    build_localizer_bundle(
        workdir / "localizer.pt", workdir, folder, version, minutes, not no_sweep, tolerance, shared=real
    )
    tracking.track_bundle(workdir, tracking.LOCALIZER_EXPERIMENT, folder)
    click.echo(folder)


@localizer.command("evaluate")
@click.argument("fixed_set", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--bundle", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Default: the promoted one."
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Report folder.")
@click.option("--no-sweep", is_flag=True, help="Skip the robustness sweep.")
def localizer_evaluate(fixed_set: Path, bundle: Path | None, out: Path, no_sweep: bool) -> None:
    """Evaluate a localizer bundle on a fixed synthetic set (a folder written by `localizer prepare`)."""
    from realeyes.analyzers.localizer import LocalizerAnalyzer
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.training import tracking
    from realeyes.training.localizer.evaluate import evaluate, write_report
    from realeyes.training.localizer.prepare import read_fixed_set

    analyzer = LocalizerAnalyzer(Settings(), bundle=load_bundle(bundle) if bundle else None)
    described = f"fixed synthetic set {fixed_set}"
    report = evaluate(analyzer, read_fixed_set(fixed_set), described, sweep=not no_sweep)
    write_report(report, out)
    params = {"data": described, "bundle": analyzer.model.bundle.path}
    tracking.track_evaluation(out, tracking.EVALUATION_EXPERIMENT, params, report)
    click.echo(json.dumps({"pixel_best_f1": report["pixel"]["best_f1"], "image_auc": report["image"]["auc"]}))


@localizer.command("evaluate-real")
@click.option(
    "--bundle", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Default: the promoted one."
)
@click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Report (JSON).")
def localizer_evaluate_real(bundle: Path | None, shared: Path, out: Path) -> None:
    """A localizer bundle on real forgeries (both COVERAGE halves, with the ELA, noise and flag-everything
    baselines) and on unseen authentic photos, laundered: the figures that lead its card."""
    from realeyes.analyzers.localizer import LocalizerAnalyzer
    from realeyes.config import Settings
    from realeyes.models import load_bundle
    from realeyes.training.localizer.build import real_world
    from realeyes.training.localizer.real_forgeries import COVERAGE

    if not (shared / COVERAGE / "pairs.csv").is_file():
        raise click.UsageError(f"no real forgeries under {shared}: give --shared")
    analyzer = LocalizerAnalyzer(Settings(), bundle=load_bundle(bundle) if bundle else None)
    report = {"bundle": analyzer.model_version, **real_world(analyzer, shared)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    test = report["real_forgeries_test"]["methods"]
    click.echo(json.dumps({name: figures["pixel_f1_at_level"] for name, figures in test.items()}))


COMMANDS = [localizer]
