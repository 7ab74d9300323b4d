"""Health, readiness, metrics, and what the engine runs (models and analyzers)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from realeyes.analyzers import describe_analyzers
from realeyes.application import metrics
from realeyes.models.registry import Registry
from realeyes.service.auth import Principal
from realeyes.service.deps import GatedRoute, analyze_caller, get_state
from realeyes.service.routes.compat import served_model_version
from realeyes.service.schemas import AnalyzersOut, HealthOut, HealthzOut, ModelsOut, ReadyOut
from realeyes.service.state import ServiceState
from realeyes.store import DriftReport, Job

router = APIRouter(tags=["system"], route_class=GatedRoute)
State = Annotated[ServiceState, Depends(get_state)]
Caller = Annotated[Principal, Depends(analyze_caller)]


@router.get(
    "/healthz",
    summary="Liveness: the process answers (and, for the RealEyes seed's clients, its model)",
    response_model=HealthzOut,
)
def healthz(state: State) -> dict[str, Any]:
    version = served_model_version(state.engine)
    return {"status": "ok", "model_loaded": version is not None, "model_version": version}


@router.get(
    "/readyz",
    summary="Readiness: models loaded, database and queue reachable (503 otherwise)",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "Not ready: `checks` says what is missing."}},
)
def readyz(state: State) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, check in (("database", state.database.ping), ("queue", state.queue.ping)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # the reason goes in the body; readiness itself must never raise
            checks[name] = str(exc)
    missing = state.missing_models()
    checks["models"] = "ok" if not missing else f"promoted but not loaded: {', '.join(missing)}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/health", summary="Compatibility with the earlier RealEyes and DFD services", response_model=HealthOut)
def health(state: State) -> dict[str, Any]:
    # `ok` is DFD's field; the others are the RealEyes seed's.
    return {"status": "ok", "ok": True, "model": served_model_version(state.engine), "models": _loaded_models(state)}


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def prometheus_metrics(state: State) -> PlainTextResponse:
    def job_counts() -> dict[str, int]:
        with state.database.session() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        counts = {"queued": 0, "running": 0}
        counts.update({status: count for status, count in rows})
        return counts

    def drift() -> tuple[dict[str, float], float | None] | None:
        with state.database.session() as session:
            latest = select(DriftReport).order_by(DriftReport.created_at.desc()).limit(1)
            report = session.scalars(latest).first()
        if report is None:
            return None
        return {name: feature["psi"] for name, feature in report.features.items()}, report.max_score

    body = metrics.render([metrics.QueueCollector(job_counts), metrics.DriftCollector(drift)])
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/models", summary="Model bundles in the registry and which are served", response_model=ModelsOut)
def list_models(state: State, _: Caller) -> dict[str, Any]:
    registry = Registry(state.engine.settings.models_dir)
    promoted = registry.promoted_paths()
    root = registry.root.resolve()
    models = []
    for bundle in registry.bundles():
        relative = str(bundle.path.resolve().relative_to(root))
        card = bundle.card
        models.append(
            {
                "task": bundle.task,
                "name": bundle.name,
                "version": bundle.version,
                "promoted": promoted.get(bundle.task) == relative,
                "threshold": card.get("threshold"),
                "metrics": public_card(card.get("metrics")),
                "card": public_card(card),
            }
        )
    return {"models": models}


@router.get("/v1/analyzers", summary="Analyzers and whether each runs", response_model=AnalyzersOut)
def list_analyzers(state: State, _: Caller) -> dict[str, Any]:
    running = {analyzer.name for analyzer in state.engine.analyzers}
    return {
        "analyzers": [
            {
                **entry,
                "description": entry["summary"],
                "available": entry["name"] in running,
                "unavailable_reason": state.engine.unavailable.get(entry["name"]),
            }
            for entry in describe_analyzers()
        ]
    }


def _loaded_models(state: ServiceState) -> dict[str, str]:
    return {
        name[: -len(".model")]: version for name, version in state.engine.versions.items() if name.endswith(".model")
    }


# Model cards record how they were built: commands and paths on the build host are not for API clients.
_HOST_DETAIL_KEYS = frozenset({"command", "commands", "cmd", "argv", "cwd", "workdir", "host", "hostname", "user"})
_HOST_PATH = re.compile(
    r"(?<![\w.:/~-])(?:[A-Za-z][\w+.-]*:///+|~?/)(?:[^\s/'\"(),;]+/)+[^\s/'\"(),;]*"  # /a/b, ~/a/b, sqlite:////a/b
    r"|\b[A-Za-z]:\\[^\s'\"(),;]+"  # C:\a\b
)


def public_card(value: Any) -> Any:
    """A model card (or part of one) as served: build commands dropped, absolute host paths cut to their last
    component ('…/manifest.csv'); everything else, URLs and bundle-relative paths included, unchanged."""
    if isinstance(value, dict):
        return {key: public_card(item) for key, item in value.items() if str(key).lower() not in _HOST_DETAIL_KEYS}
    if isinstance(value, list):
        return [public_card(item) for item in value]
    if isinstance(value, str):
        return _HOST_PATH.sub(_redact_path, value)
    return value


def _redact_path(match: re.Match[str]) -> str:
    last = re.split(r"[/\\]", match.group(0).rstrip("/\\"))[-1]
    return f"…/{last}" if last else "…"
