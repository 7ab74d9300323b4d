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
@click.option("--task", default="classifier", show_default=True, help="The model pipeline (realeyes model --help).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Run folder.")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="STAGE.KEY=VALUE",
    help="A stage's setting, e.g. train.minutes=35 (realeyes model TASK STAGE --help lists them).",
)
@click.option("--feedback/--no-feedback", default=True, show_default=True, help="Use people's corrections.")
@click.option("--min-gain", type=float, default=0.0, show_default=True, help="Required held-out improvement.")
@click.option("--version", help="Candidate version (default: the promoted one's patch + 1).")
def retrain_command(
    task: str, workdir: Path, assignments: tuple[str, ...], feedback: bool, min_gain: float, version: str | None
) -> None:
    """Retrain a model through its pipeline (prepare, train, export) on its data and, for the classifier, people's
    accepted corrections; promote the candidate only if it beats the promoted bundle on the same held-out data.
    Prints the decision (also kept in models/registry.json)."""
    from realeyes.config import Settings
    from realeyes.mlops.retrain import RetrainConfig, feedback_samples, retrain
    from realeyes.training.pipeline import PipelineError, create, parse_assignments, require_training_extra

    try:
        require_training_extra()
        takes_feedback = create(task).feedback_setting is not None
        settings: dict[str, dict[str, str]] = {}
        for key, value in parse_assignments(assignments).items():
            stage, dot, name = key.partition(".")
            if not dot:
                raise PipelineError(f"expected STAGE.KEY=VALUE, got {key}={value}")
            settings.setdefault(stage, {})[name] = value
        samples = feedback_samples(*_service_store()) if feedback and takes_feedback else []
        config = RetrainConfig(task, workdir, Settings().models_dir, settings, samples, min_gain, version)
        decision = retrain(config)
    except (ValueError, FileExistsError) as exc:  # PipelineError is a ValueError
        raise click.UsageError(str(exc)) from exc
    click.echo(json.dumps(decision, indent=2))


COMMANDS = [drift, retrain_command]
