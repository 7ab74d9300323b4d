"""Experiment tracking in MLflow: each pipeline's training run, the bundle it exported, evaluations and promotions.

Where runs go: REALEYES_TRACKING_URI (or MLflow's own MLFLOW_TRACKING_URI) names a store or a tracking server;
without either, a local SQLite store beside the run folders (<workdir>/../mlflow.db, artifacts in
<workdir>/../mlartifacts). REALEYES_TRACKING_URI=none turns tracking off, as does MLflow not being installed
(the `train` extra installs mlflow-skinny). Train and export of one workdir log to one MLflow run: its id is kept
in <workdir>/tracking.json, and the exported bundle's card names it, so promoting the bundle can register that
run's artifacts in MLflow's model registry.

Tracking never costs a finished training run: a store that fails is reported as a warning, and the files the
pipeline writes (history, bundle, report) stay the record."""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

# One experiment per model pipeline, one for stand-alone evaluations.
CLASSIFIER_EXPERIMENT = "realeyes-classifier"
LOCALIZER_EXPERIMENT = "realeyes-localizer"
FACE_FORGERY_EXPERIMENT = "realeyes-face-forgery"
EVALUATION_EXPERIMENT = "realeyes-evaluations"

RUN_FILE = "tracking.json"
STORE_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
REGISTERED_ALIAS = "production"  # the MLflow alias that follows registry.json's promoted bundle
_DISABLED = {"none", "off", "false", "0"}
_METRIC_KEY_UNSAFE = re.compile(r"[^\w\-./ ]")
_BATCH = 900  # MLflow accepts at most 1000 metrics per batch


@dataclass(frozen=True)
class TrackedRun:
    uri: str
    experiment: str
    run_id: str

    def as_dict(self) -> dict[str, str]:
        return {"uri": self.uri, "experiment": self.experiment, "run_id": self.run_id}


def tracking_uri(folder: Path) -> str | None:
    """The configured store, or the default SQLite store beside FOLDER; None when tracking is off."""
    configured = os.environ.get("REALEYES_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI")
    if configured is not None and configured.strip().lower() in _DISABLED:
        return None
    if configured:
        return configured
    return f"sqlite:///{(folder.resolve().parent / STORE_FILE)}"


def _client(uri: str) -> MlflowClient | None:
    # MLflow sends usage telemetry to its vendor unless told not to; a self-hosted tool stays quiet by default
    # (set MLFLOW_DISABLE_TELEMETRY=false to allow it).
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    try:
        from mlflow import MlflowClient
    except ImportError:
        log.info("experiment tracking is off: MLflow is not installed (pip install -e '.[train]')")
        return None
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _experiment_id(client: MlflowClient, name: str, uri: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    location = None
    if uri.startswith("sqlite:///"):  # keep artifacts beside the local store, not in the current folder
        location = (Path(uri.removeprefix("sqlite:///")).parent / ARTIFACTS_DIR).as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def flatten_metrics(report: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every finite number in a nested report, keyed by its path (`test.as_served.auc`)."""
    flat: dict[str, float] = {}
    for key, value in report.items():
        name = _METRIC_KEY_UNSAFE.sub("_", f"{prefix}{key}")
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            flat[name] = float(value)
    return flat


def _log_metrics(client: MlflowClient, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    entries = [Metric(key, value, now, step) for key, value in metrics.items()]
    for start in range(0, len(entries), _BATCH):
        client.log_batch(run_id, metrics=entries[start : start + _BATCH])


def _log_params(client: MlflowClient, run_id: str, params: Mapping[str, Any]) -> None:
    from mlflow.entities import Param

    client.log_batch(run_id, params=[Param(key, str(value)[:6000]) for key, value in params.items()])


def _open_run(workdir: Path, experiment: str, stage: str, resume: bool) -> tuple[MlflowClient, TrackedRun] | None:
    """The workdir's MLflow run: training opens a new one; export resumes it (or opens one if training was not
    tracked in this store)."""
    uri = tracking_uri(workdir)
    client = _client(uri) if uri else None
    if client is None or uri is None:
        return None
    saved = workdir / RUN_FILE
    if resume and saved.is_file():
        previous = json.loads(saved.read_text())
        if previous.get("uri") == uri and previous.get("experiment") == experiment:
            client.update_run(previous["run_id"], status="RUNNING")
            return client, TrackedRun(uri, experiment, previous["run_id"])
    run = client.create_run(
        _experiment_id(client, experiment, uri),
        run_name=workdir.name,
        tags={"realeyes.workdir": str(workdir.resolve()), "realeyes.first_stage": stage},
    )
    tracked = TrackedRun(uri, experiment, run.info.run_id)
    workdir.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(tracked.as_dict(), indent=2) + "\n")
    return client, tracked


def track_training(workdir: Path, experiment: str, params: Mapping[str, Any], history: Mapping[str, Any]) -> None:
    """Log a finished training run: its parameters, the learning curve step by step, and the history file."""
    try:
        opened = _open_run(workdir, experiment, "train", resume=False)
        if opened is None:
            return
        client, run = opened
        summary_file = workdir / "summary.json"  # what `prepare` collected: counts per split, class and source
        data = flatten_metrics(json.loads(summary_file.read_text()), "data.") if summary_file.is_file() else {}
        _log_params(client, run.run_id, {**params, **{key: f"{value:g}" for key, value in data.items()}})
        for point in history.get("curve", []):
            step = int(point.get("step", 0))
            _log_metrics(client, run.run_id, flatten_metrics({k: v for k, v in point.items() if k != "step"}), step)
        summary = {k: v for k, v in history.items() if k != "curve"}
        _log_metrics(client, run.run_id, flatten_metrics(summary, "train."))
        for history_file in sorted(workdir.glob("*.history.json")):
            client.log_artifact(run.run_id, str(history_file), "training")
        client.set_terminated(run.run_id)
        log.info("tracked training in MLflow run %s (%s)", run.run_id, run.uri)
    except Exception as exc:  # the trained weights are on disk already; a store problem must not lose them
        log.warning("experiment tracking failed, training results are only in %s: %s", workdir, exc)


def track_bundle(workdir: Path, experiment: str, bundle: Path) -> TrackedRun | None:
    """Log an exported bundle (ONNX, card, evaluation reports and plots) and its held-out metrics to the
    workdir's run, and name that run in the card so a promotion can point the model registry at it."""
    try:
        opened = _open_run(workdir, experiment, "export", resume=True)
        if opened is None:
            return None
        client, run = opened
        card_path = bundle / "card.json"
        card = json.loads(card_path.read_text())
        card["tracking"] = run.as_dict()
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        with (bundle / "card.md").open("a") as markdown:
            markdown.write(
                f"\n## Experiment tracking\n\nMLflow run `{run.run_id}` in experiment `{run.experiment}` "
                f"(store `{run.uri}`); the bundle is that run's `bundle` artifact.\n"
            )
        client.set_tag(run.run_id, "realeyes.bundle", f"{card['name']}-{card['version']}")
        _log_metrics(client, run.run_id, flatten_metrics(card.get("metrics", {}), "bundle."))
        client.log_artifacts(run.run_id, str(bundle), "bundle")
        client.set_terminated(run.run_id)
        log.info("tracked bundle %s in MLflow run %s (%s)", bundle, run.run_id, run.uri)
        return run
    except Exception as exc:
        log.warning("experiment tracking failed, the bundle is only in %s: %s", bundle, exc)
        return None


def track_evaluation(out: Path, experiment: str, params: Mapping[str, Any], report: Mapping[str, Any]) -> None:
    """Log one evaluation (its own run: which bundle, which data) with every metric and the report folder."""
    try:
        uri = tracking_uri(out)
        client = _client(uri) if uri else None
        if client is None or uri is None:
            return
        run = client.create_run(_experiment_id(client, experiment, uri), run_name=f"evaluate {out.name}")
        _log_params(client, run.info.run_id, params)
        _log_metrics(client, run.info.run_id, flatten_metrics(report))
        client.log_artifacts(run.info.run_id, str(out), "evaluation")
        client.set_terminated(run.info.run_id)
        log.info("tracked evaluation in MLflow run %s (%s)", run.info.run_id, uri)
    except Exception as exc:
        log.warning("experiment tracking failed, the report is only in %s: %s", out, exc)


def mirror_promotion(bundle: Path, note: str = "") -> str:
    """Register the promoted bundle's tracked run in MLflow's model registry as `realeyes-<task>` and move the
    `production` alias to it. registry.json stays the source of truth: this only mirrors it."""
    card = json.loads((bundle / "card.json").read_text())
    tracked = card.get("tracking")
    if not tracked:
        return "not mirrored to MLflow: the bundle was exported without experiment tracking"
    uri = os.environ.get("REALEYES_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI") or tracked["uri"]
    if uri.strip().lower() in _DISABLED:
        return "not mirrored to MLflow: tracking is off"
    try:
        client = _client(uri)
        if client is None:
            return "not mirrored to MLflow: MLflow is not installed"
        name = f"realeyes-{card['task']}"
        if not client.search_registered_models(filter_string=f"name = '{name}'"):
            client.create_registered_model(name, description=f"RealEyes {card['task']} bundles (mirrors registry.json)")
        version = client.create_model_version(
            name,
            f"runs:/{tracked['run_id']}/bundle",
            run_id=tracked["run_id"],
            tags={"realeyes.bundle": f"{card['name']}-{card['version']}", "realeyes.sha256": card["sha256"]},
            description=note or None,
        )
        client.set_registered_model_alias(name, REGISTERED_ALIAS, version.version)
        return f"mirrored to MLflow: {name} version {version.version} is `{REGISTERED_ALIAS}` ({uri})"
    except Exception as exc:
        log.warning("MLflow model registry not updated: %s", exc)
        return f"not mirrored to MLflow: {exc}"
