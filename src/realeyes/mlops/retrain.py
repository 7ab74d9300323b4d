"""The retraining loop: merge labelled feedback and new data with the training sources, run the pipeline,
evaluate the candidate against the promoted model on the same held-out split, and promote only if it is better.

Every decision is recorded in models/registry.json ("candidates"), promoted or not."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from realeyes.analyzers.classifier import ClassifierAnalyzer
from realeyes.application.storage import FileStore
from realeyes.config import Settings
from realeyes.errors import ModelUnavailable
from realeyes.mlops.monitor import write_reference
from realeyes.models.bundle import load_bundle
from realeyes.models.registry import Registry
from realeyes.store import Analysis, Database, Feedback, FeedbackStatus
from realeyes.training import tracking
from realeyes.training.dataset import Sample

# A person's correction, as the classifier's label (manipulated images are the localizer's business).
FEEDBACK_LABELS = {"authentic": 0, "ai-generated": 1}


@dataclass
class RetrainConfig:
    workdir: Path
    models_dir: Path
    samples: list[Sample] = field(default_factory=list)  # training sources and new data folders
    minutes: float = 35.0
    max_steps: int = 100_000
    batch_size: int = 32
    eval_every: int = 300
    reconstructions: int = 240
    seed: int = 0
    min_gain: float = 0.0  # the candidate's test AUC must beat the promoted model's by more than this
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


def next_version(registry: Registry) -> str:
    try:
        major, minor, patch = registry.promoted("classifier").version.split(".")
    except ModelUnavailable:
        return "0.1.0"
    return f"{major}.{minor}.{int(patch) + 1}"


def test_auc(bundle_dir: Path, test: list[Sample], described: str) -> float:
    from realeyes.training.evaluate import evaluate

    analyzer = ClassifierAnalyzer(Settings(), bundle=load_bundle(bundle_dir))
    return float(evaluate(analyzer, test, described, sweep=False)["as_served"]["auc"])


def retrain(config: RetrainConfig) -> dict[str, Any]:
    from realeyes.training import taesd
    from realeyes.training.build import build_classifier_bundle
    from realeyes.training.prepare import RECONSTRUCTION, PrepareConfig, prepare, read_prepared
    from realeyes.training.train_classifier import TrainConfig, train

    if not config.samples:
        raise ValueError("no training data: give data folders, manifests or ../shared/data, or collect feedback")
    work = config.workdir
    reconstructor = None
    if config.reconstructions:
        autoencoder = taesd.load_taef2()
        reconstructor = lambda rgb: taesd.reconstruct(autoencoder, rgb)  # noqa: E731
    manifest = prepare(
        config.samples, work, PrepareConfig(seed=config.seed, reconstructions=config.reconstructions), reconstructor
    )
    train_config = TrainConfig(
        minutes=config.minutes, max_steps=config.max_steps, batch_size=config.batch_size, eval_every=config.eval_every
    )
    history = train(manifest, work / "classifier.pt", train_config)
    tracking.track_training(work, tracking.CLASSIFIER_EXPERIMENT, {**asdict(train_config), "retrain": True}, history)

    registry = Registry(config.models_dir)
    version = config.version or next_version(registry)
    candidate = work / "candidate" / f"realeyes-npr-classifier-{version}"
    build_classifier_bundle(work / "classifier.pt", manifest, candidate, version, sweep=False)
    tracking.track_bundle(work, tracking.CLASSIFIER_EXPERIMENT, candidate)

    rows = read_prepared(manifest)
    test = [sample for sample, split in rows if split == "test"]
    described = f"test split of {manifest} ({len(test)} images)"
    candidate_auc = test_auc(candidate, test, described)
    try:
        promoted_dir: Path | None = registry.promoted("classifier").path
    except ModelUnavailable:
        promoted_dir = None
    promoted_auc = test_auc(promoted_dir, test, described) if promoted_dir else None
    better = promoted_auc is None or candidate_auc > promoted_auc + config.min_gain
    decision: dict[str, Any] = {
        "task": "classifier",
        "candidate": f"realeyes-npr-classifier-{version}",
        "promoted_before": None if promoted_dir is None else promoted_dir.name,
        "data": described,
        "candidate_test_auc": round(candidate_auc, 4),
        "promoted_test_auc": None if promoted_auc is None else round(promoted_auc, 4),
        "min_gain": config.min_gain,
        "feedback_samples": sum(sample.source == "feedback" for sample in config.samples),
        "decision": "promoted" if better else "rejected",
    }
    if better:
        destination = config.models_dir / "classifier" / candidate.name
        if destination.exists():
            raise FileExistsError(f"{destination} exists; pass another --version")
        shutil.copytree(candidate, destination)
        # Real inputs only: the autoencoder reconstructions are a training aid, not traffic a service would see.
        validation = [
            Path(sample.path) for sample, split in rows if split == "val" and sample.generator != RECONSTRUCTION
        ]
        write_reference(destination, validation, f"the validation split of {manifest}", Settings())
        note = f"retrain: test AUC {decision['candidate_test_auc']} vs {decision['promoted_test_auc']} ({described})"
        registry.promote(destination, note)
        decision["mlflow"] = tracking.mirror_promotion(destination, note)
    registry.record_candidate(decision)
    (work / "decision.json").write_text(json.dumps(decision, indent=2) + "\n")
    return decision
