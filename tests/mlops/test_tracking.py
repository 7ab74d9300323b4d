"""Tracking's rules that need no training: where runs go, when tracking is off, how reports become metrics, and
that a store that fails never fails the pipeline."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from realeyes.training import tracking

pytest.importorskip("mlflow")


@pytest.fixture(autouse=True)
def no_configured_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REALEYES_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_the_default_store_is_sqlite_beside_the_run_folder(tmp_path: Path) -> None:
    assert tracking.tracking_uri(tmp_path / "runs" / "mine") == f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}"


@pytest.mark.parametrize("variable", ["REALEYES_TRACKING_URI", "MLFLOW_TRACKING_URI"])
def test_a_configured_store_wins_and_none_turns_tracking_off(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "http://mlflow.internal:5000")
    assert tracking.tracking_uri(tmp_path) == "http://mlflow.internal:5000"
    monkeypatch.setenv(variable, "none")
    assert tracking.tracking_uri(tmp_path) is None


def test_reports_flatten_to_finite_numbers_with_safe_keys() -> None:
    report = {"as_served": {"auc": 0.8, "n": 10, "per_group": {"sd-1.5 (img2img)": {"auc": 0.7}}}, "ok": True}
    report["as_served"]["ece"] = float("nan")
    report["data"] = "test split"
    assert tracking.flatten_metrics(report) == {
        "as_served.auc": 0.8,
        "as_served.n": 10.0,
        "as_served.per_group.sd-1.5 _img2img_.auc": 0.7,
    }


def test_training_is_logged_and_a_second_training_opens_a_new_run(tmp_path: Path) -> None:
    work = tmp_path / "runs" / "mine"
    work.mkdir(parents=True)
    history = {"steps": 20, "curve": [{"step": 10, "val_auc": 0.6}, {"step": 20, "val_auc": 0.7}]}
    tracking.track_training(work, "test-experiment", {"minutes": 1}, history)
    first = json.loads((work / tracking.RUN_FILE).read_text())["run_id"]
    tracking.track_training(work, "test-experiment", {"minutes": 2}, history)
    second = json.loads((work / tracking.RUN_FILE).read_text())["run_id"]
    assert first != second
    assert (tmp_path / "runs" / "mlflow.db").is_file()


def test_a_store_that_fails_is_a_warning_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    monkeypatch.setenv("REALEYES_TRACKING_URI", f"sqlite:///{blocked / 'mlflow.db'}")
    with caplog.at_level(logging.WARNING, logger="realeyes.training.tracking"):
        tracking.track_training(tmp_path, "test-experiment", {}, {"curve": []})
    assert "experiment tracking failed" in caplog.text
    assert not (tmp_path / tracking.RUN_FILE).exists()


def test_promotion_without_a_tracked_run_says_why_it_is_not_mirrored(tmp_path: Path) -> None:
    (tmp_path / "card.json").write_text(json.dumps({"task": "classifier"}))
    assert "exported without experiment tracking" in tracking.mirror_promotion(tmp_path)


def test_mlflow_telemetry_is_off_unless_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    tracking.track_training(tmp_path / "run", "test-experiment", {}, {"curve": []})
    from mlflow.environment_variables import MLFLOW_DISABLE_TELEMETRY

    assert MLFLOW_DISABLE_TELEMETRY.get() is True
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    tracking.track_training(tmp_path / "run", "test-experiment", {}, {"curve": []})
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "false"  # a user's explicit choice is kept
