"""Drift monitoring in practice: the served model's reference distribution (written into its card from
held-out data) and the check of the live window of stored analyses against it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from realeyes.analyzers import Analyzer, create, list_analyzers
from realeyes.analyzers.classifier import ClassifierAnalyzer
from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.errors import MediaError, ModelUnavailable
from realeyes.mlops.drift import build_reference, compare
from realeyes.models.bundle import CARD_FILE
from realeyes.models.registry import Registry
from realeyes.store import Analysis, Database, DriftReport

REFERENCE_NOTE = "\n## Reference distribution for drift monitoring\n\n{text}\n"


def engine_serving(bundle_dir: Path, settings: Settings) -> Engine:
    """The engine a deployment would run with this classifier bundle promoted (other analyzers as configured)."""
    analyzers: list[Analyzer] = []
    for name in list_analyzers():
        if name == "classifier":
            analyzers.append(ClassifierAnalyzer.from_bundle(bundle_dir, settings))
            continue
        try:
            analyzers.append(create(name, settings))
        except ModelUnavailable:
            continue
    return Engine.from_analyzers(analyzers, settings)


def write_reference(bundle_dir: Path, files: Iterable[Path], measured_on: str, settings: Settings) -> dict[str, Any]:
    """Analyse held-out files as the service would and store their feature distribution in the bundle's card."""
    engine = engine_serving(bundle_dir, settings)
    records = []
    for path in files:
        try:
            records.append(engine.analyze(path).to_dict())
        except MediaError:
            continue  # the same files a deployment would refuse
    reference = build_reference(records, measured_on)
    card_path = bundle_dir / CARD_FILE
    card = json.loads(card_path.read_text())
    card["reference"] = reference
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    summary = {name: spec["proportions"] for name, spec in reference["features"].items()}
    text = (
        f"{reference['samples']} analyses of {measured_on}, through the whole engine as served; "
        f"`realeyes drift check` compares live traffic with these proportions:\n\n"
        f"```json\n{json.dumps(summary, indent=2)}\n```"
    )
    markdown = bundle_dir / "card.md"
    if markdown.exists():
        kept = markdown.read_text().split(REFERENCE_NOTE.split("{")[0])[0].rstrip("\n") + "\n"
        markdown.write_text(kept + REFERENCE_NOTE.format(text=text))
    return reference


def check_drift(
    database: Database, models_dir: Path, window_days: float, threshold: float, min_samples: int
) -> dict[str, Any]:
    """Compare the last `window_days` of analyses by the promoted classifier with its card's reference; the
    report is stored (the API's /metrics exports the latest) and returned."""
    bundle = Registry(models_dir).promoted("classifier")
    reference = bundle.card.get("reference")
    if reference is None:
        raise ModelUnavailable(
            f"{bundle.name}-{bundle.version} has no reference distribution; run `realeyes drift reference`"
        )
    model = f"{bundle.name}-{bundle.version}"
    since = datetime.now(UTC) - timedelta(days=window_days)
    with database.session() as session:
        results = session.scalars(select(Analysis.result).where(Analysis.created_at >= since)).all()
    live = [result for result in results if result.get("versions", {}).get("classifier.model") == model]
    report = compare(reference, live, threshold, min_samples)
    with database.session() as session:
        session.add(
            DriftReport(
                model=model,
                window_days=window_days,
                samples=report["samples"],
                status=report["status"],
                max_score=report["max_score"],
                threshold=threshold,
                features=report["features"],
            )
        )
    return {"model": model, "window_days": window_days, **report}
