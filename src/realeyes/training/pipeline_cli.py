"""Command lines generated from the pipeline registry: `realeyes model <task> <stage> --set key=value`, and the
per-pipeline commands with one option per setting (`realeyes train --minutes 5`, `realeyes localizer train ...`)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import click

from realeyes.training import pipeline as contract


def run_stage(stage: contract.Stage, settings: Any) -> None:
    """Run a stage and print what it returns; a stage's refusal is a usage error, not a traceback."""
    logging.getLogger("realeyes").setLevel(logging.INFO)
    try:
        result = stage.run(settings)
    except contract.PipelineError as exc:
        raise click.UsageError(str(exc)) from exc
    if isinstance(result, dict):
        click.echo(json.dumps(result, indent=2))
    elif result is not None:
        click.echo(result)


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, Path) else repr(value)


def _describe(settings: type) -> str:
    lines = []
    for f, annotation in contract.settings_fields(settings):
        kind, optional, many = contract.value_type(annotation)
        shown = f"{kind.__name__}{'[,...]' if many else ''}{' | none' if optional else ''}"
        default = "required" if f.default is dataclasses.MISSING else f"default {_shown(f.default)}"
        lines.append(f"{f.name} ({shown}; {default}): {f.metadata.get('help', '')}")
    return "\b\nSettings:\n" + "\n".join(lines)


def set_command(task: str, name: str, stage: contract.Stage) -> click.Command:
    """`realeyes model TASK NAME --set key=value ...`: settings validated against the stage's dataclass."""

    def callback(assignments: tuple[str, ...]) -> None:
        try:
            settings = contract.configure(stage.settings, contract.parse_assignments(assignments), f"{task} {name}")
        except contract.PipelineError as exc:
            raise click.UsageError(str(exc)) from exc
        run_stage(stage, settings)

    option = click.Option(["--set", "assignments"], multiple=True, metavar="KEY=VALUE", help="A setting.")
    return click.Command(name, callback=callback, params=[option], help=stage.help, epilog=_describe(stage.settings))


def _parameter(f: dataclasses.Field[Any], annotation: Any) -> click.Parameter:
    kind, _, many = contract.value_type(annotation)
    meta = f.metadata
    if meta.get("choices"):
        param_type: Any = click.Choice(meta["choices"])
    elif kind is Path:
        param_type = click.Path(
            path_type=Path,
            exists=meta.get("exists", False),
            file_okay=meta.get("file_okay", True),
            dir_okay=meta.get("dir_okay", True),
        )
    else:
        param_type = kind
    required = f.default is dataclasses.MISSING
    if meta.get("argument"):
        return click.Argument([f.name], type=param_type, required=required)
    declaration = [meta.get("option", "--" + f.name.replace("_", "-")), f.name]
    if kind is bool and not many:
        return click.Option(declaration, is_flag=True, help=meta.get("help"))
    if required:  # no default at all: since Click 8.3 an explicit default=None satisfies `required`
        return click.Option(declaration, type=param_type, multiple=many, required=True, help=meta.get("help"))
    return click.Option(
        declaration,
        type=param_type,
        multiple=many,
        default=f.default,
        show_default=f.default not in (None, ()),
        help=meta.get("help"),
    )


def options_command(task: str, name: str, command_name: str | None = None) -> click.Command:
    """A stage as a command with one typed option per setting (the per-pipeline command lines)."""
    stage = contract.create(task).stages[name]

    def callback(**values: Any) -> None:
        run_stage(stage, stage.settings(**values))

    params = [_parameter(f, annotation) for f, annotation in contract.settings_fields(stage.settings)]
    return click.Command(command_name or name, callback=callback, params=params, help=stage.help)


def pipeline_group(task: str, name: str) -> click.Group:
    """Every stage of TASK's pipeline as a command of the group NAME (`realeyes localizer train ...`)."""
    pipeline = contract.create(task)
    group = click.Group(name, help=pipeline.summary)
    for stage_name in pipeline.stages:
        group.add_command(options_command(task, stage_name))
    return group


class ModelGroup(click.Group):
    """`realeyes model`: one subgroup per registered pipeline, built when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return contract.tasks()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        try:
            pipeline = contract.create(cmd_name)
        except contract.PipelineError as exc:
            raise click.UsageError(str(exc)) from exc
        group = click.Group(cmd_name, help=pipeline.summary)
        for name, stage in pipeline.stages.items():
            group.add_command(set_command(cmd_name, name, stage))
        return group


model = ModelGroup(
    "model",
    help="Every model pipeline through one contract: realeyes model TASK STAGE --set key=value (see each --help).",
)
