"""The training-pipeline contract and its registry.

A model pipeline is a task (the models/<task>/ folder its bundles serve from) and its stages: prepare, train, export
(ONNX + parity + calibration + card) and evaluate, plus any extra evaluation. Each stage is a function of one
settings dataclass; its fields, types, defaults and help are the stage's whole interface, from which the command line
(`realeyes model <task> <stage> --set key=value`, and the older per-pipeline commands) and `realeyes retrain` are
generated. A pipeline also says which held-out figure decides whether a retrained candidate replaces the promoted
bundle. Training runs through `realeyes.training.fit`; this module imports no torch.

Adding a detector: one subpackage with a `pipeline.py` defining `PIPELINE`, and its module path in `BUILT_IN`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realeyes.config import DEFAULT_MODELS_DIR

DEFAULT_SHARED = Path(os.environ.get("REALEYES_SHARED_DATA", DEFAULT_MODELS_DIR.parent.parent / "shared" / "data"))

# Every built-in pipeline, by task; modules load on first use (they define `PIPELINE`).
BUILT_IN = {
    "classifier": "realeyes.training.classifier_pipeline",
    "localizer": "realeyes.training.localizer.pipeline",
    "face-forgery": "realeyes.training.faces.pipeline",
    "surprisal": "realeyes.training.surprisal.pipeline",
}
RETRAIN_STAGES = ("prepare", "train", "export")


class PipelineError(ValueError):
    """A stage cannot run as configured (no data, an unknown setting, a bad value): said to the user, no trace."""


def setting(default: Any = dataclasses.MISSING, help: str = "", **cli: Any) -> Any:
    """A stage setting: its default and help, plus how the per-pipeline commands spell it (`option="--csv"`,
    `argument=True`, `choices=[...]`, `exists=True`, `file_okay=False`)."""
    if default is dataclasses.MISSING:
        return field(metadata={"help": help, **cli})
    return field(default=default, metadata={"help": help, **cli})


def workdir_setting(help: str = "Run folder.") -> Any:
    return setting(help=help, file_okay=False)


def shared_setting(help: str = "The shared training data.") -> Any:
    return setting(DEFAULT_SHARED, help)


@dataclass(frozen=True, kw_only=True)
class TrainSettings:
    """What every training stage takes (a pipeline's own extends it, redeclaring a default where it differs)."""

    workdir: Path = workdir_setting()
    minutes: float = setting(25.0, "Training time budget.")
    max_steps: int = setting(100_000)
    batch_size: int = setting(32)
    eval_every: int = setting(150, "Steps between validations.")
    resume: bool = setting(False, "Carry on from WORKDIR's last saved state (<checkpoint>.last.pt), same settings.")

    def budget(self) -> dict[str, Any]:
        """The fields every pipeline's training config (`fit.Schedule`) shares with these settings."""
        return {name: getattr(self, name) for name in ("minutes", "max_steps", "batch_size", "eval_every")}


@dataclass(frozen=True)
class Stage:
    run: Callable[[Any], object]  # takes the settings; what it returns is printed (a dict as JSON)
    settings: type  # a dataclass
    help: str


@dataclass(frozen=True)
class Figure:
    value: float  # higher is better
    data: str  # what it was measured on


@dataclass(frozen=True)
class Pipeline:
    task: str
    summary: str
    stages: Mapping[str, Stage]
    # The held-out figure a retrained candidate must beat the promoted bundle on: (bundle, finished run settings).
    held_out_figure: Callable[[Path, Mapping[str, Any]], Figure]
    figure_name: str
    feedback_setting: str | None = None  # the prepare setting (a tuple of CSV manifests) that takes feedback
    # The inputs drift monitoring compares live traffic with, from a finished run (files, what they are).
    drift_reference: Callable[[Mapping[str, Any]], tuple[list[Path], str]] | None = None


_registered: dict[str, Pipeline] = {}


def register(pipeline: Pipeline) -> Pipeline:
    _registered[pipeline.task] = pipeline
    return pipeline


def tasks() -> list[str]:
    return sorted({*BUILT_IN, *_registered})


def create(task: str) -> Pipeline:
    """The pipeline for TASK; an unknown task names the known ones."""
    if task not in _registered and task in BUILT_IN:
        register(importlib.import_module(BUILT_IN[task]).PIPELINE)
    if task not in _registered:
        raise PipelineError(f"unknown model task {task!r}; known: {', '.join(tasks())}")
    return _registered[task]


def settings_fields(settings: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """Each field of a settings dataclass with its resolved type."""
    hints = typing.get_type_hints(settings)
    return [(f, hints[f.name]) for f in dataclasses.fields(settings)]


def value_type(annotation: Any) -> tuple[type, bool, bool]:
    """(element type, optional, many) of a setting's annotation: T, T | None or tuple[T, ...]."""
    arguments = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [a for a in arguments if a is not type(None)]
        return inner, True, False
    if typing.get_origin(annotation) is tuple:
        return arguments[0], False, True
    return annotation, False, False


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _convert(text: str, kind: type, name: str) -> Any:
    if kind is bool:
        if text.lower() not in _TRUE | _FALSE:
            raise PipelineError(f"{name}: expected true or false, got {text!r}")
        return text.lower() in _TRUE
    try:
        return kind(text)
    except ValueError as exc:
        raise PipelineError(f"{name}: expected {kind.__name__}, got {text!r}") from exc


def configure(settings: type, assignments: Mapping[str, str], where: str) -> Any:
    """Settings from `key=value` strings (tuples comma-separated, `none` for an optional value), validated: an
    unknown key names the closest known one, a missing required one is named, a value of the wrong type is refused."""
    fields = {f.name: (f, annotation) for f, annotation in settings_fields(settings)}
    values: dict[str, Any] = {}
    for raw_key, text in assignments.items():
        key = raw_key.replace("-", "_")
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PipelineError(f"{where} has no setting {raw_key!r}{hint} Known: {', '.join(fields)}")
        f, annotation = fields[key]
        kind, optional, many = value_type(annotation)
        choices = f.metadata.get("choices")
        if optional and text.lower() == "none":
            values[key] = None
        elif many:
            values[key] = tuple(_convert(part, kind, key) for part in text.split(",") if part)
        else:
            values[key] = _convert(text, kind, key)
        for value in values[key] if many else [values[key]]:
            if choices and value not in choices:
                raise PipelineError(f"{key}: {value!r} is not one of {', '.join(choices)}")
            if f.metadata.get("exists") and value is not None and not Path(value).exists():
                raise PipelineError(f"{key}: {value} does not exist")
    missing = [
        name
        for name, (f, _) in fields.items()
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise PipelineError(f"{where} needs {', '.join(f'{name}=...' for name in missing)}")
    return settings(**values)


def parse_assignments(pairs: tuple[str, ...]) -> dict[str, str]:
    """`key=value` strings as a mapping (the last one of a key wins)."""
    assignments = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise PipelineError(f"expected key=value, got {pair!r}")
        assignments[key.strip()] = value
    return assignments


def require_training_extra() -> None:
    """Training stages need torch; say how to get it instead of failing with an import traceback."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise PipelineError("This stage needs the training extra: pip install -e '.[train]'") from exc


def finish_training(workdir: Path, experiment: str, config: Any, history: Mapping[str, Any]) -> dict[str, Any]:
    """Log a finished training run to MLflow; its summary (the learning curve stays in its history file)."""
    from realeyes.training import tracking

    tracking.track_training(workdir, experiment, dataclasses.asdict(config), history)
    return {key: value for key, value in history.items() if key != "curve"}
