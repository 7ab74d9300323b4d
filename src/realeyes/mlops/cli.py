"""`realeyes drift reference|check` and `realeyes retrain`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from realeyes.application.storage import FileStore
    from realeyes.store import Database

EXIT_DRIFTED = 1


def _service_store() -> tuple[Database, FileStore]:
    """The service's database and files (REALEYES_DATA_DIR / REALEYES_DATABASE_URL)."""
    from realeyes.application.composition import open_store
    from realeyes.application.settings import ServiceSettings

    return open_store(ServiceSettings())


@click.group()
def drift() -> None:
    """Monitor input and score drift against the served model's reference distribution."""


@drift.command("reference")
@click.argument("bundle", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option("--split", default="val", show_default=True, help="With a prepared manifest: the split to use.")
def reference_command(bundle: Path, dataset: Path, split: str) -> None:
    """Store in BUNDLE's card the distribution of held-out DATASET (a folder of media, searched recursively, or a
    prepared manifest) as the service would see it."""
    from realeyes.config import Settings
    from realeyes.mlops.monitor import write_reference
    from realeyes.scan import expand_paths
    from realeyes.training.prepare import RECONSTRUCTION, read_prepared

    if dataset.is_dir():
        files = [Path(path) for path in expand_paths([str(dataset)]).files]
        described = str(dataset)
    else:
        rows = read_prepared(dataset)
        files = [Path(s.path) for s, s_split in rows if s_split == split and s.generator != RECONSTRUCTION]
        described = f"the {split} split of {dataset} (real inputs, no autoencoder reconstructions)"
    reference = write_reference(bundle, files, described, Settings())
    click.echo(json.dumps({name: spec["proportions"] for name, spec in reference["features"].items()}, indent=2))


@drift.command("check")
@click.option("--window-days", type=float, default=7.0, show_default=True, help="Live window: recent analyses.")
@click.option("--threshold", type=float, default=0.25, show_default=True, help="PSI above this is drift.")
@click.option("--min-samples", type=int, default=50, show_default=True, help="Fewer live analyses: no verdict.")
def check_command(window_days: float, threshold: float, min_samples: int) -> None:
    """Compare recent analyses with the promoted classifier's reference; exit 1 when drifted."""
    from realeyes.config import Settings
    from realeyes.errors import ModelUnavailable
    from realeyes.mlops.monitor import check_drift

    database, _files = _service_store()
    try:
        report = check_drift(database, Settings().models_dir, window_days, threshold, min_samples)
    except ModelUnavailable as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(json.dumps(report, indent=2))
    if report["status"] == "drifted":
        click.echo(f"drift: PSI {report['max_score']} > {threshold}", err=True)
        sys.exit(EXIT_DRIFTED)


@click.command("retrain")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Run folder.")
@click.option("--shared", type=click.Path(path_type=Path), help="../shared/data (default: REALEYES_SHARED_DATA).")
@click.option("--no-shared", is_flag=True, help="Do not use ../shared/data.")
@click.option("--folder", "folders", multiple=True, type=click.Path(exists=True, path_type=Path), help="real/ + ai/.")
@click.option("--csv", "manifests", multiple=True, type=click.Path(exists=True, path_type=Path), help="CSV manifest.")
@click.option("--feedback/--no-feedback", default=True, show_default=True, help="Use people's corrections.")
@click.option("--minutes", type=float, default=35.0, show_default=True, help="Training time budget.")
@click.option("--max-steps", type=int, default=100_000, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--eval-every", type=int, default=300, show_default=True)
@click.option("--reconstructions", type=int, default=240, show_default=True, help="Autoencoder fakes (0: none).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--min-gain", type=float, default=0.0, show_default=True, help="Required test-AUC improvement.")
@click.option("--version", help="Candidate version (default: the promoted one's patch + 1).")
def retrain_command(
    workdir: Path,
    shared: Path | None,
    no_shared: bool,
    folders: tuple[Path, ...],
    manifests: tuple[Path, ...],
    feedback: bool,
    minutes: float,
    max_steps: int,
    batch_size: int,
    eval_every: int,
    reconstructions: int,
    seed: int,
    min_gain: float,
    version: str | None,
) -> None:
    """Retrain the classifier on merged data and feedback; promote the candidate only if it beats the
    promoted model on the same held-out test split. Prints the decision (also kept in models/registry.json)."""
    from realeyes.config import Settings
    from realeyes.mlops.retrain import RetrainConfig, feedback_samples, retrain
    from realeyes.training.catalog import shared_catalog
    from realeyes.training.cli import DEFAULT_SHARED, require_training_extra
    from realeyes.training.dataset import collect_folder, read_manifest

    require_training_extra()
    samples = [] if no_shared else shared_catalog(shared or DEFAULT_SHARED)
    for folder in folders:
        samples += collect_folder(folder)
    for manifest in manifests:
        samples += read_manifest(manifest)
    if feedback:
        samples += feedback_samples(*_service_store())
    config = RetrainConfig(
        workdir=workdir,
        models_dir=Settings().models_dir,
        samples=samples,
        minutes=minutes,
        max_steps=max_steps,
        batch_size=batch_size,
        eval_every=eval_every,
        reconstructions=reconstructions,
        seed=seed,
        min_gain=min_gain,
        version=version,
    )
    try:
        decision = retrain(config)
    except (ValueError, FileExistsError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(json.dumps(decision, indent=2))


COMMANDS = [drift, retrain_command]
