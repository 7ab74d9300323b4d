"""The retraining loop for any model pipeline: run its prepare, train and export stages (people's accepted
corrections join the training data where the pipeline takes them), score the candidate and the promoted bundle on the
same held-out data with the pipeline's own figure, and promote the candidate only if it is better.

Every decision is recorded in models/registry.json ("candidates"), promoted or not."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from realeyes.application.storage import FileStore
from realeyes.config import Settings
from realeyes.errors import ModelUnavailable
from realeyes.mlops.monitor import write_reference
from realeyes.models.registry import Registry
from realeyes.store import Analysis, Database, Feedback, FeedbackStatus
from realeyes.training import tracking
from realeyes.training.dataset import Sample
from realeyes.training.pipeline import RETRAIN_STAGES, Pipeline, PipelineError, configure, create

# A person's correction, as the classifier's label (manipulated images are the localizer's business).
FEEDBACK_LABELS = {"authentic": 0, "ai-generated": 1}


@dataclass
class RetrainConfig:
    task: str
    workdir: Path
    models_dir: Path
    settings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # stage -> key -> value
    feedback: list[Sample] = field(default_factory=list)
    min_gain: float = 0.0  # the candidate's held-out figure must beat the promoted bundle's by more than this
    version: str | None = None  # default: the promoted version with its patch number + 1


def feedback_samples(database: Database, files: FileStore) -> list[Sample]:
    """The latest accepted correction of each upload still stored, as labelled samples. Only reviewed feedback
    counts (an admin key's, or one an admin accepted): pending and rejected labels never reach training."""
    latest: dict[str, tuple[str, str]] = {}
    with database.session() as session:
        rows = session.execute(
            select(Feedback.label, Analysis.sha256, Analysis.id)
            .join(Analysis, Feedback.analysis_id == Analysis.id)
            .where(Feedback.status == FeedbackStatus.accepted.value)
            .order_by(Feedback.created_at)
        ).all()
    for label, sha256, analysis_id in rows:
        latest[sha256] = (label, analysis_id)
    samples = []
    for sha256, (label, _analysis_id) in sorted(latest.items()):
        path = files.upload_path(sha256)
        if label in FEEDBACK_LABELS and path.exists():
            generator = "feedback-ai" if FEEDBACK_LABELS[label] else "feedback-real"
            samples.append(Sample(str(path), FEEDBACK_LABELS[label], "feedback", generator, f"feedback-{sha256}"))
    return samples


def next_version(registry: Registry, task: str) -> str:
    try:
        major, minor, patch = registry.promoted(task).version.split(".")
    except ModelUnavailable:
        return "0.1.0"
    return f"{major}.{minor}.{int(patch) + 1}"


def write_feedback_manifest(samples: list[Sample], path: Path) -> Path:
    """Feedback as a CSV manifest (absolute paths) that a prepare stage reads like any other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "source", "generator", "group"])
        for sample in samples:
            label = "ai" if sample.label else "real"
            writer.writerow([sample.path, label, sample.source, sample.generator, sample.group])
    return path


def stage_settings(pipeline: Pipeline, config: RetrainConfig, version: str, candidate: Path) -> dict[str, Any]:
    """Each retraining stage's settings: the run folder, the candidate's version and folder, the feedback
    manifest, then what the user set (validated against the stage)."""
    stages = [stage for stage in RETRAIN_STAGES if stage in pipeline.stages]
    unknown = set(config.settings) - set(stages)
    if unknown:
        known = ", ".join(stages)
        raise PipelineError(f"retraining {pipeline.task} runs no stage {', '.join(sorted(unknown))} (it runs {known})")
    run = {}
    for name in stages:
        values = {"workdir": str(config.workdir), **config.settings.get(name, {})}
        if name == "export":
            values |= {"version": version, "out": str(candidate)}
        if name == "prepare" and config.feedback and pipeline.feedback_setting:
            manifest = write_feedback_manifest(config.feedback, config.workdir / "feedback.csv")
            given = values.get(pipeline.feedback_setting, "")
            values[pipeline.feedback_setting] = ",".join(filter(None, [given, str(manifest)]))
        run[name] = configure(pipeline.stages[name].settings, values, f"{pipeline.task} {name}")
    return run


def retrain(config: RetrainConfig) -> dict[str, Any]:
    pipeline = create(config.task)
    registry = Registry(config.models_dir)
    version = config.version or next_version(registry, config.task)
    candidate = config.workdir / "candidate" / f"{config.task}-{version}"
    run = stage_settings(pipeline, config, version, candidate)
    for stage, settings in run.items():
        pipeline.stages[stage].run(settings)
    bundle_name = json.loads((candidate / "card.json").read_text())["name"]

    candidate_figure = pipeline.held_out_figure(candidate, run)
    try:
        promoted_dir: Path | None = registry.promoted(config.task).path
    except ModelUnavailable:
        promoted_dir = None
    promoted_figure = pipeline.held_out_figure(promoted_dir, run) if promoted_dir else None
    better = promoted_figure is None or candidate_figure.value > promoted_figure.value + config.min_gain
    used_feedback = len(config.feedback) if pipeline.feedback_setting else 0
    decision: dict[str, Any] = {
        "task": config.task,
        "candidate": f"{bundle_name}-{version}",
        "promoted_before": None if promoted_dir is None else promoted_dir.name,
        "figure": pipeline.figure_name,
        "data": candidate_figure.data,
        "candidate_figure": round(candidate_figure.value, 4),
        "promoted_figure": None if promoted_figure is None else round(promoted_figure.value, 4),
        "min_gain": config.min_gain,
        "feedback_samples": used_feedback,
        "decision": "promoted" if better else "rejected",
    }
    if better:
        destination = config.models_dir / config.task / decision["candidate"]
        if destination.exists():
            raise FileExistsError(f"{destination} exists; pass another --version")
        shutil.copytree(candidate, destination)
        if pipeline.drift_reference:
            files, described = pipeline.drift_reference(run)
            write_reference(destination, files, described, Settings())
        note = (
            f"retrain: {pipeline.figure_name} {decision['candidate_figure']} vs {decision['promoted_figure']} "
            f"({candidate_figure.data})"
        )
        registry.promote(destination, note)
        decision["mlflow"] = tracking.mirror_promotion(destination, note)
    registry.record_candidate(decision)
    (config.workdir / "decision.json").write_text(json.dumps(decision, indent=2) + "\n")
    return decision
