"""Command line for the model pipelines, generated from their registry (`realeyes model TASK STAGE --set k=v`; the
classifier's `data prepare`, `train`, `export`, `evaluate`; the `localizer`, `faces` and `surprisal` groups), and
`realeyes models` for bundles. Torch loads lazily, inside the stages."""

from __future__ import annotations

import json
from pathlib import Path

import click

from realeyes.training.pipeline_cli import model, options_command, pipeline_group

# The other pipelines' older command groups (`realeyes localizer train ...`), by task.
PER_PIPELINE_GROUPS = {"localizer": "localizer", "face-forgery": "faces", "surprisal": "surprisal"}


def pipeline_commands() -> list[click.Command]:
    """Every pipeline command for the main CLI."""
    data = click.Group("data", help="Prepare labelled data for training.")
    data.add_command(options_command("classifier", "prepare"))
    classifier = [options_command("classifier", stage) for stage in ("train", "export", "evaluate")]
    groups = [pipeline_group(task, name) for task, name in PER_PIPELINE_GROUPS.items()]
    return [model, data, *classifier, *groups, models]


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
