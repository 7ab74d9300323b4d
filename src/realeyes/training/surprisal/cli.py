"""Command line for the coding-cost coder (`realeyes surprisal train|export`). Torch loads inside the commands."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from realeyes.config import DEFAULT_MODELS_DIR
from realeyes.training.cli import DEFAULT_SHARED, require_training_extra

_workdir = click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Run folder."
)
_shared = click.option("--shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED, show_default=True)


@click.group("surprisal")
def surprisal() -> None:
    """The real-only coding-cost detector: train a coder on real photos, export a bundle."""
    logging.getLogger("realeyes").setLevel(logging.INFO)


@surprisal.command("train")
@_workdir
@_shared
@click.option("--minutes", type=float, default=15.0, show_default=True, help="Wall-clock budget (resumes if stopped).")
def train_command(workdir: Path, shared: Path, minutes: float) -> None:
    """Train (or resume) the coder on real photos only."""
    require_training_extra()
    from realeyes.training.surprisal.train import CoderConfig, train

    click.echo(train(shared, workdir, CoderConfig(minutes=minutes)))


@surprisal.command("export")
@_workdir
@_shared
@click.option("--version", required=True, help="Bundle version, e.g. 0.1.0.")
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_MODELS_DIR)
def export_command(workdir: Path, shared: Path, version: str, models_dir: Path) -> None:
    """ONNX export, statistic chosen on validation images, reference real photos: a bundle under models/surprisal."""
    require_training_extra()
    from realeyes.training.surprisal.build import build_bundle
    from realeyes.training.surprisal.train import CHECKPOINT

    folder = models_dir / "surprisal" / f"realeyes-coding-cost-{version}"
    click.echo(build_bundle(workdir / CHECKPOINT, shared, folder, version))


COMMANDS = [surprisal]
