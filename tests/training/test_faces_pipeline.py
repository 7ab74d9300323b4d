"""The face-forgery pipeline end to end on toy faces: prepare -> train a few steps -> export + promote -> serve.

It proves every stage works and connects; the figures it produces mean nothing. No detector finds drawn toy
faces, so the detector is replaced by a centred box: the pipeline, not the detector, is under test here.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

# tests/training is on sys.path under pytest (as tests/ is, for conftest): share the toy face generator.
from test_faces_sbi import toy_face

from realeyes import samples
from realeyes.config import Settings
from realeyes.models.bundle import sha256_of
from realeyes.models.face_forgery import FaceForgeryModel
from realeyes.training.faces import prepare
from realeyes.training.faces.clips import earned_fusion_weight, labelled_clips
from realeyes.training.pipeline_cli import pipeline_group
from realeyes.video.faces import FACE_MARGIN, Box


def toy_folder(root: Path) -> Path:
    """real/<person>/: five people, four pictures each; fake/paste/: faces with a foreign patch pasted on."""
    for person in range(5):
        folder = root / "real" / f"person{person}"
        folder.mkdir(parents=True)
        for index in range(4):
            (folder / f"{index}.png").write_bytes(samples.png_bytes(toy_face(10 * person + index, side=160)))
    fakes = root / "fake" / "paste"
    fakes.mkdir(parents=True)
    for index in range(3):
        face = toy_face(100 + index, side=160)
        face[60:100, 60:100] = toy_face(200 + index, side=160)[60:100, 60:100]
        (fakes / f"{index}.png").write_bytes(samples.png_bytes(face))
    return root


def invoke(*args: str) -> str:
    result = CliRunner().invoke(faces, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("faces")
    data, work, models = toy_folder(root / "data"), root / "work", root / "models"
    bundle = models / "face-forgery" / "realeyes-face-swap-0.0.1"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepare, "detect_faces", lambda rgb: [Box(10, 10, rgb.shape[1] - 20, rgb.shape[0] - 20)])
        invoke("prepare", "--workdir", str(work), "--no-shared", "--folder", str(data))
    invoke(
        "train", "--workdir", str(work), "--minutes", "1", "--max-steps", "4", "--batch-size", "8", "--eval-every", "2"
    )
    no_clips = str(root / "no-shared")
    invoke(
        "export", "--workdir", str(work), "--version", "0.0.1", "--out", str(bundle), "--promote", "--note", "toy",
        "--shared", no_clips,
    )  # fmt: skip
    return {"work": work, "models": models, "bundle": bundle}


faces = pipeline_group("face-forgery", "faces")


def test_the_faces_group_has_every_stage_of_the_face_forgery_pipeline() -> None:
    assert {"prepare", "train", "export", "evaluate", "evaluate-clips"} == set(faces.commands)


def test_clip_evaluation_finds_the_labelled_clips_and_grants_weight_only_above_chance(tmp_path: Path) -> None:
    swaps = tmp_path / "video" / "faceswap-ndb796"
    for kind in ("real", "fake"):
        (swaps / kind).mkdir(parents=True)
        (swaps / kind / f"{kind}.mp4").write_bytes(b"")
    dfdc = tmp_path / "video" / "dfdc-sample" / "train_sample_videos"
    dfdc.mkdir(parents=True)
    (dfdc / "a.mp4").write_bytes(b"")
    (dfdc / "metadata.json").write_text('{"a.mp4": {"label": "FAKE"}, "missing.mp4": {"label": "REAL"}}')
    assert [(path.name, label) for path, label, _ in labelled_clips(tmp_path)] == [
        ("real.mp4", 0),
        ("fake.mp4", 1),
        ("a.mp4", 1),
    ]
    assert earned_fusion_weight({"clip_auc_ci95": [0.62, 1.0]}) == 1.0
    assert earned_fusion_weight({"clip_auc_ci95": [0.45, 0.98]}) == 0.0
    assert earned_fusion_weight({"clip_auc_ci95": None}) == 0.0


def test_prepare_splits_by_person_and_keeps_fakes_out_of_training(pipeline: dict[str, Path]) -> None:
    with (pipeline["work"] / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    splits_of_group = defaultdict(set)
    for row in rows:
        splits_of_group[row["group"]].add(row["split"])
    assert len(rows) == 23
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    assert {row["split"] for row in rows if row["label"] == "1"} == {"test"}
    assert {row["split"] for row in rows if row["label"] == "0"} == {"train", "val", "test"}


def test_training_writes_a_checkpoint_and_its_learning_curve(pipeline: dict[str, Path]) -> None:
    history = json.loads((pipeline["work"] / "faces.history.json").read_text())
    assert history["steps"] == 4
    assert [point["step"] for point in history["curve"]] == [2, 4]
    assert (pipeline["work"] / "faces.pt").is_file()


def test_export_writes_a_promoted_bundle_with_its_card(pipeline: dict[str, Path]) -> None:
    card = json.loads((pipeline["bundle"] / "card.json").read_text())
    assert card["task"] == "face-forgery"
    assert card["input"]["crop"] == 128 and card["input"]["margin"] == FACE_MARGIN
    assert card["clips"] is None and card["fusion_weight"] == 0.0  # no labelled clips: no say in a verdict
    assert card["sha256"] == sha256_of(pipeline["bundle"] / "model.onnx")
    assert card["onnx_parity_max_abs_diff"] < 1e-3
    assert card["calibration"]["fitted_on"].startswith("validation")
    assert {"val_self_blended", "test_self_blended", "test_labelled_data"} <= set(card["metrics"])
    assert card["metrics"]["test_labelled_data"]["as_served"]["n_fake"] == 3
    registry = json.loads((pipeline["models"] / "registry.json").read_text())
    assert registry["promoted"]["face-forgery"] == "face-forgery/realeyes-face-swap-0.0.1"


def test_the_promoted_bundle_serves_probabilities(pipeline: dict[str, Path]) -> None:
    model = FaceForgeryModel(Settings(models_dir=pipeline["models"]))
    crops = [toy_face(seed)[:128, :128] for seed in range(3)]
    p_fake = model.probabilities(crops)
    assert model.version == "realeyes-face-swap-0.0.1"
    assert p_fake.shape == (3,) and np.all((p_fake > 0) & (p_fake < 1))


def test_evaluate_reports_every_comparison(pipeline: dict[str, Path], tmp_path: Path) -> None:
    output = json.loads(
        invoke(
            "evaluate", "--workdir", str(pipeline["work"]), "--bundle", str(pipeline["bundle"]), "--out", str(tmp_path)
        )
    )
    assert set(output) == {"val_self_blended", "test_self_blended", "test_labelled_data", "test_labelled_all"}
    assert (tmp_path / "report.json").is_file() and (tmp_path / "test_self_blended-roc.png").is_file()
