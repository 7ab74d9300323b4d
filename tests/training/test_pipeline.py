"""The whole model pipeline end to end on tiny generated data: prepare -> train -> export -> promote -> scan ->
evaluate, tracked in a real MLflow store (SQLite). It proves every stage works; the figures it produces mean
nothing (a few steps on toy images)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("mlflow")

import onnx
from mlflow import MlflowClient

from realeyes import samples
from realeyes.analyzers.classifier import ClassifierAnalyzer
from realeyes.cli import main
from realeyes.media import load_media
from realeyes.training.tracking import CLASSIFIER_EXPERIMENT, EVALUATION_EXPERIMENT


def toy_dataset(root: Path) -> Path:
    """Real: photo-like scenes. AI: the same kind of scenes with a faint checkerboard (an up-sampling trace)."""
    y, x = np.mgrid[0:256, 0:256]
    checker = (1 + 0.05 * (-1.0) ** (x + y))[:, :, None]
    for index in range(14):
        scene = samples.photo_like(256, 256, seed=100 + index)
        for label, pixels in (("real", scene), ("ai/toygen", np.clip(scene * checker, 0, 255).astype(np.uint8))):
            folder = root / label
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:02d}.png").write_bytes(samples.png_bytes(pixels))
    return root


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REALEYES_TRACKING_URI", f"sqlite:///{root / 'tracking.db'}")
        yield run_pipeline(root)


def run_pipeline(root: Path) -> dict[str, Path]:
    data, work, models = toy_dataset(root / "data"), root / "work", root / "models"
    invoke("data", "prepare", "--workdir", str(work), "--no-shared", "--folder", str(data), "--reconstructions", "0")
    invoke(
        "train",
        "--workdir",
        str(work),
        "--minutes",
        "1",
        "--max-steps",
        "30",
        "--batch-size",
        "8",
        "--eval-every",
        "10",
    )
    bundle = models / "classifier" / "toy-0.0.1"
    invoke("export", "--workdir", str(work), "--version", "0.0.1", "--out", str(bundle), "--no-sweep")
    return {"data": data, "work": work, "models": models, "bundle": bundle, "store": root / "tracking.db"}


def tracked_runs(store: Path, experiment: str) -> list[Any]:
    client = MlflowClient(f"sqlite:///{store}")
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no MLflow experiment {experiment}"
    return list(client.search_runs([found.experiment_id]))


def test_prepare_splits_by_group_and_summarises(pipeline: dict[str, Path]) -> None:
    summary = json.loads((pipeline["work"] / "summary.json").read_text())
    assert summary["skipped"] == 0
    assert sum(summary["counts"].values()) == 28
    assert set(summary["groups"]) == {"train", "val", "test"} and all(summary["groups"].values())


def test_training_records_a_learning_curve_on_held_out_data(pipeline: dict[str, Path]) -> None:
    history = json.loads((pipeline["work"] / "classifier.history.json").read_text())
    assert history["steps"] == 30 and [point["step"] for point in history["curve"]] == [10, 20, 30]
    assert all(0.0 <= point["val_auc"] <= 1.0 for point in history["curve"])


def test_bundle_has_a_card_with_parity_calibration_and_held_out_metrics(pipeline: dict[str, Path]) -> None:
    card = json.loads((pipeline["bundle"] / "card.json").read_text())
    assert card["task"] == "classifier" and card["version"] == "0.0.1"
    assert card["onnx_parity_max_abs_diff"] < 1e-3
    assert card["calibration"]["fitted_on"] == "validation split"
    assert set(card["metrics"]) == {"val", "test", "fusion"}
    assert set(card["metrics"]["fusion"]["fitted"]["coefficients"]) == {"spectrum", "ela", "noise", "classifier"}
    assert (pipeline["bundle"] / "fusion.json").is_file()
    assert "held out" in card["metrics"]["test"]["data"]
    assert card["metrics"]["test"]["as_served"]["per_group"].keys() == {"real", "toygen"}
    assert (pipeline["bundle"] / "card.md").read_text().startswith("# realeyes-npr-classifier 0.0.1")


def test_promoted_bundle_serves_scans(pipeline: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALEYES_MODELS_DIR", str(pipeline["models"]))
    assert "promoted realeyes-npr-classifier 0.0.1" in invoke("models", "promote", str(pipeline["bundle"]))
    assert "* classifier" in invoke("models", "list")
    record = json.loads(invoke("scan", str(pipeline["data"] / "ai" / "toygen" / "00.png"), "--jsonl"))
    classifier = next(e for e in record["evidence"] if e["analyzer"] == "classifier")
    assert 0.0 <= classifier["score"] <= 1.0 and classifier["details"]["model"] == "realeyes-npr-classifier-0.0.1"
    assert record["versions"]["classifier.model"] == "realeyes-npr-classifier-0.0.1"


def test_evaluate_writes_a_report(pipeline: dict[str, Path], tmp_path: Path) -> None:
    manifest = str(pipeline["work"] / "manifest.csv")
    args = ("evaluate", manifest, "--split", "test", "--bundle", str(pipeline["bundle"]), "--out", str(tmp_path))
    invoke(*args, "--no-sweep")
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"as_served", "same_reencode_jpeg90"} <= report.keys() and report["n_images"] > 0
    assert (tmp_path / "roc.png").stat().st_size > 0


def test_train_and_export_log_one_mlflow_run_with_curve_params_and_bundle(pipeline: dict[str, Path]) -> None:
    (run,) = tracked_runs(pipeline["store"], CLASSIFIER_EXPERIMENT)
    assert run.info.status == "FINISHED"
    assert run.data.params["minutes"] == "1.0" and run.data.params["batch_size"] == "8"
    assert run.data.params["data.counts.train/real/real"] == "8" and run.data.params["data.groups.test"] == "3"
    assert run.data.tags["realeyes.bundle"] == "realeyes-npr-classifier-0.0.1"
    client = MlflowClient(f"sqlite:///{pipeline['store']}")
    curve = client.get_metric_history(run.info.run_id, "val_auc")
    history = json.loads((pipeline["work"] / "classifier.history.json").read_text())
    assert [(m.step, m.value) for m in curve] == [(p["step"], p["val_auc"]) for p in history["curve"]]
    card = json.loads((pipeline["bundle"] / "card.json").read_text())
    assert run.data.metrics["bundle.test.as_served.auc"] == card["metrics"]["test"]["as_served"]["auc"]
    assert card["tracking"]["run_id"] == run.info.run_id
    logged = {item.path for item in client.list_artifacts(run.info.run_id, "bundle")}
    assert {"bundle/model.onnx", "bundle/card.json", "bundle/card.md"} <= logged
    assert client.list_artifacts(run.info.run_id, "training")[0].path == "training/classifier.history.json"


def test_promotion_is_mirrored_to_the_mlflow_model_registry(
    pipeline: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEYES_MODELS_DIR", str(pipeline["models"]))
    monkeypatch.setenv("REALEYES_TRACKING_URI", f"sqlite:///{pipeline['store']}")
    output = invoke("models", "promote", str(pipeline["bundle"]), "--note", "second look")
    assert "mirrored to MLflow: realeyes-classifier version" in output
    client = MlflowClient(f"sqlite:///{pipeline['store']}")
    production = client.get_model_version_by_alias("realeyes-classifier", "production")
    card = json.loads((pipeline["bundle"] / "card.json").read_text())
    assert production.run_id == card["tracking"]["run_id"] and production.description == "second look"
    assert production.tags["realeyes.sha256"] == card["sha256"]


def test_evaluation_is_tracked_as_its_own_run(
    pipeline: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REALEYES_TRACKING_URI", f"sqlite:///{tmp_path / 'evaluations.db'}")
    manifest = str(pipeline["work"] / "manifest.csv")
    out = tmp_path / "report"
    invoke("evaluate", manifest, "--split", "test", "--bundle", str(pipeline["bundle"]), "--out", str(out))
    (run,) = tracked_runs(tmp_path / "evaluations.db", EVALUATION_EXPERIMENT)
    report = json.loads((out / "report.json").read_text())
    assert run.data.metrics["as_served.auc"] == report["as_served"]["auc"]
    assert run.data.params["bundle"] == str(pipeline["bundle"])


def quantized(bundle: Path) -> bool:
    graph = onnx.load(str(bundle / "model.onnx")).graph
    return any(node.op_type == "QuantizeLinear" for node in graph.node)


@pytest.mark.parametrize(("tolerance", "kept"), [("1.0", True), ("-1.0", False)])
def test_int8_export_ships_the_quantized_graph_only_within_the_tolerance(
    pipeline: dict[str, Path], tmp_path: Path, tolerance: str, kept: bool
) -> None:
    bundle = tmp_path / "bundle"
    args = ("--workdir", str(pipeline["work"]), "--version", "0.0.2", "--out", str(bundle), "--no-sweep")
    invoke("export", *args, "--int8", "--int8-tolerance", tolerance)
    card = json.loads((bundle / "card.json").read_text())
    decision = card["quantization"]
    assert decision["kept"] is kept and decision["served"] == ("int8" if kept else "fp32")
    assert decision["decided_on"] == "validation AUC" and 0.0 <= decision["int8"] <= 1.0
    assert 0.0 <= decision["test_int8"] <= 1.0 and 0.0 <= decision["test_fp32"] <= 1.0  # reported, not decided on
    assert quantized(bundle) is kept
    analyzer = ClassifierAnalyzer.from_bundle(bundle)  # the card's sha256 names the served graph
    assert 0.0 <= analyzer.analyze(load_media(pipeline["data"] / "real" / "00.png")).score <= 1.0


def test_models_compare_lists_the_shared_held_out_figures(pipeline: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    invoke("export", "--workdir", str(pipeline["work"]), "--version", "0.0.3", "--out", str(other), "--no-sweep")
    card = json.loads((other / "card.json").read_text())
    card["metrics"]["test"]["as_served"]["auc"] -= 0.25
    (other / "card.json").write_text(json.dumps(card))
    rows = {
        line.split()[0]: line.split()[1:]
        for line in invoke("models", "compare", str(pipeline["bundle"]), str(other)).splitlines()[1:]
    }
    assert rows["test.as_served.auc"][-1] == "-0.2500"
    assert rows["val.as_served.auc"][-1] == "+0.0000"
    assert not any(".per_group." in key for key in rows)
