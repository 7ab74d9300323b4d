"""The training-pipeline contract: settings validated from key=value, the registry, the generated commands, and
retraining any registered task, shown with a toy pipeline (no torch) whose "quality" setting decides its figure."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realeyes.cli import main
from realeyes.mlops.retrain import RetrainConfig, retrain
from realeyes.models.bundle import load_bundle, sha256_of
from realeyes.models.registry import Registry
from realeyes.training import pipeline as contract
from realeyes.training.bundles import BundleSteps, build_bundle
from realeyes.training.pipeline import Figure, Pipeline, PipelineError, Stage, configure, setting, workdir_setting
from realeyes.training.pipeline_cli import options_command


@dataclass(frozen=True, kw_only=True)
class ToyTrain:
    workdir: Path = workdir_setting()
    quality: float = setting(0.5, "What the toy model will score.")
    tags: tuple[str, ...] = setting((), "Labels.", option="--tag")
    data: Path | None = setting(None, "A data folder.", exists=True)
    note: str | None = setting(None)
    fast: bool = setting(False, "A flag.")
    mode: str = setting("a", choices=["a", "b"])


@dataclass(frozen=True, kw_only=True)
class ToyExport:
    workdir: Path = workdir_setting()
    version: str = setting("0.1.0")
    out: Path | None = setting(None, file_okay=False)


def toy_train(settings: ToyTrain) -> dict[str, Any]:
    settings.workdir.mkdir(parents=True, exist_ok=True)
    (settings.workdir / "quality.txt").write_text(str(settings.quality))
    return {"quality": settings.quality, "tags": list(settings.tags), "mode": settings.mode}


def toy_export(settings: ToyExport) -> Path:
    """Through the shared bundle builder: each step sees what the previous one wrote."""
    quality = float((settings.workdir / "quality.txt").read_text())
    card = {"name": "toy-model", "version": settings.version, "task": "toy", "input": {}, "threshold": 0.5,
            "calibration": {"scale": 1.0}, "training_data": ["toy"], "synthetic": "all", "limitations": []}  # fmt: skip

    def export(path: Path) -> float:
        path.write_bytes(f"toy model {quality} {settings.version}".encode())
        return 0.0

    def calibrate(bundle: Path) -> dict[str, Any]:
        assert json.loads((bundle / "card.json").read_text())["sha256"] == sha256_of(bundle / "model.onnx")
        return {"calibration": {"scale": 2.0}}

    def evaluate(bundle: Path) -> dict[str, Any]:
        assert load_bundle(bundle).card["calibration"] == {"scale": 2.0}  # evaluated as calibrated
        return {"metrics": {"quality": quality}}

    return build_bundle(settings.out or settings.workdir / "bundle", BundleSteps(card, export, calibrate, evaluate))


def toy_figure(bundle: Path, run: Any) -> Figure:
    return Figure(load_bundle(bundle).card["metrics"]["quality"], "the toy held-out set")


TOY = Pipeline(
    task="toy",
    summary="A toy pipeline.",
    stages={"train": Stage(toy_train, ToyTrain, "Train."), "export": Stage(toy_export, ToyExport, "Export.")},
    held_out_figure=toy_figure,
    figure_name="toy quality",
)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    monkeypatch.setitem(contract._registered, "toy", TOY)
    return TOY


def test_settings_are_parsed_and_validated_from_key_value_strings() -> None:
    settings = configure(ToyTrain, {"workdir": "w", "quality": "0.7", "tags": "x,y", "fast": "yes", "mode": "b"}, "t")
    assert settings == ToyTrain(workdir=Path("w"), quality=0.7, tags=("x", "y"), fast=True, mode="b")
    assert configure(ToyTrain, {"workdir": "w", "note": "none"}, "t").note is None
    with pytest.raises(PipelineError, match="no setting 'qualty'; did you mean 'quality'"):
        configure(ToyTrain, {"workdir": "w", "qualty": "1"}, "t")
    with pytest.raises(PipelineError, match="quality: expected float"):
        configure(ToyTrain, {"workdir": "w", "quality": "high"}, "t")
    with pytest.raises(PipelineError, match="fast: expected true or false"):
        configure(ToyTrain, {"workdir": "w", "fast": "maybe"}, "t")
    with pytest.raises(PipelineError, match="'c' is not one of a, b"):
        configure(ToyTrain, {"workdir": "w", "mode": "c"}, "t")
    with pytest.raises(PipelineError, match="data: /no/such/folder does not exist"):
        configure(ToyTrain, {"workdir": "w", "data": "/no/such/folder"}, "t")
    with pytest.raises(PipelineError, match="t needs workdir="):
        configure(ToyTrain, {}, "t")


def test_an_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(PipelineError, match="unknown model task 'nope'; known: classifier, face-forgery"):
        contract.create("nope")


def test_every_built_in_pipeline_loads_without_torch_and_can_be_retrained() -> None:
    code = (
        "import sys; from realeyes.training import pipeline as p; "
        "[p.create(t) for t in p.tasks()]; print('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
    for task in contract.BUILT_IN:
        pipeline = contract.create(task)
        assert pipeline.task == task and {"train", "export"} <= set(pipeline.stages)
        for name, stage in pipeline.stages.items():
            assert is_dataclass(stage.settings) and stage.help, f"{task} {name}"
        for name in ("train", "export"):
            assert "workdir" in {f.name for f in fields(pipeline.stages[name].settings)}
        assert {"version", "out"} <= {f.name for f in fields(pipeline.stages["export"].settings)}


def test_the_model_command_runs_a_stage_from_set_assignments(toy: Pipeline, tmp_path: Path) -> None:
    args = ["model", "toy", "train", "--set", f"workdir={tmp_path}", "--set", "quality=0.9", "--set", "tags=a,b"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"quality": 0.9, "tags": ["a", "b"], "mode": "a"}
    refused = CliRunner().invoke(main, ["model", "toy", "train", "--set", f"workdir={tmp_path}", "--set", "qualty=1"])
    assert refused.exit_code == 2 and "did you mean 'quality'" in refused.output
    assert "Traceback" not in refused.output
    unknown = CliRunner().invoke(main, ["model", "nope", "train"])
    assert unknown.exit_code == 2 and "known: classifier" in unknown.output


def test_the_per_pipeline_command_has_one_typed_option_per_setting(toy: Pipeline, tmp_path: Path) -> None:
    command = options_command("toy", "train")
    args = ["--workdir", str(tmp_path), "--quality", "0.25", "--tag", "a", "--tag", "b", "--fast", "--mode", "b"]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"quality": 0.25, "tags": ["a", "b"], "mode": "b"}
    assert CliRunner().invoke(command, ["--workdir", str(tmp_path), "--mode", "c"]).exit_code == 2
    missing = CliRunner().invoke(command, ["--quality", "0.25"])  # a required setting left out: a usage error
    assert missing.exit_code == 2 and "Missing option '--workdir'" in missing.output


def test_retraining_any_task_promotes_only_a_candidate_better_on_the_held_out_figure(
    toy: Pipeline, tmp_path: Path
) -> None:
    models = tmp_path / "models"

    def run(name: str, quality: str, **options: Any) -> dict[str, Any]:
        config = RetrainConfig("toy", tmp_path / name, models, {"train": {"quality": quality}}, **options)
        return retrain(config)

    first = run("run1", "0.6")
    assert first["decision"] == "promoted" and first["candidate"] == "toy-model-0.1.0"
    assert first["figure"] == "toy quality" and first["promoted_figure"] is None
    worse = run("run2", "0.5")
    assert worse["decision"] == "rejected" and (worse["candidate_figure"], worse["promoted_figure"]) == (0.5, 0.6)
    not_enough = run("run3", "0.65", min_gain=0.1)
    assert not_enough["decision"] == "rejected"
    better = run("run4", "0.8")
    assert better["decision"] == "promoted" and better["candidate"] == "toy-model-0.1.1"  # 0.1.0 was served
    registry = json.loads((models / "registry.json").read_text())
    assert registry["promoted"]["toy"] == "toy/toy-model-0.1.1"
    assert [c["decision"] for c in registry["candidates"]] == ["promoted", "rejected", "rejected", "promoted"]
    assert sorted(path.name for path in (models / "toy").iterdir()) == ["toy-model-0.1.0", "toy-model-0.1.1"]
    card_md = (models / "toy" / "toy-model-0.1.1" / "card.md").read_text()
    assert card_md.startswith("# toy-model 0.1.1 (toy)") and '"quality": 0.8' in card_md


def test_retraining_refuses_settings_for_a_stage_it_does_not_run(toy: Pipeline, tmp_path: Path) -> None:
    config = RetrainConfig("toy", tmp_path / "run", tmp_path / "models", {"prepare": {"seed": "1"}})
    with pytest.raises(PipelineError, match="runs no stage prepare"):
        retrain(config)


def _toy_steps(version: str, evaluate: Any = None) -> BundleSteps:
    card = {"name": "toy-model", "version": version, "task": "toy", "input": {}, "threshold": 0.5,
            "calibration": {"scale": 1.0}, "training_data": ["toy"], "synthetic": "all", "limitations": []}  # fmt: skip

    def export(path: Path) -> float:
        path.write_bytes(f"toy model {version}".encode())
        return 0.0

    return BundleSteps(card, export, lambda _: {}, evaluate or (lambda _: {"metrics": {"quality": 0.5}}))


def test_a_failed_export_leaves_no_bundle_and_keeps_the_one_already_there(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "toy" / "toy-model-0.1.0"
    build_bundle(folder, _toy_steps("0.1.0"))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    def evaluation_fails(bundle: Path) -> dict[str, Any]:
        assert (bundle / "card.json").is_file() and bundle != folder  # the steps work on a scratch copy
        assert [b.path for b in Registry(tmp_path / "models").bundles()] == [folder]  # which is never listed
        raise RuntimeError("held-out data unreadable")

    with pytest.raises(RuntimeError, match="unreadable"):
        build_bundle(folder, _toy_steps("0.1.0", evaluation_fails))
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert [path.name for path in folder.parent.iterdir()] == ["toy-model-0.1.0"]
    with pytest.raises(RuntimeError):
        build_bundle(folder.with_name("toy-model-0.2.0"), _toy_steps("0.2.0", evaluation_fails))
    assert [path.name for path in folder.parent.iterdir()] == ["toy-model-0.1.0"]


def test_an_export_never_replaces_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "mine"
    run.mkdir(parents=True)
    (run / "classifier.pt").write_bytes(b"weeks of training")
    with pytest.raises(ValueError, match="holds files but no bundle"):
        build_bundle(run, _toy_steps("0.1.0"))
    assert (run / "classifier.pt").read_bytes() == b"weeks of training"
    assert [path.name for path in run.parent.iterdir()] == ["mine"]
