"""The localizer pipeline end to end on tiny generated photos: prepare -> train -> export -> promote -> analyze.

It proves every stage fits together; the figures it produces mean nothing (a few steps on toy images).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
import onnx

from realeyes import Engine, samples
from realeyes.analyzers import create
from realeyes.config import Settings
from realeyes.media import load_media
from realeyes.models import Registry
from realeyes.training.dataset import collect_folder
from realeyes.training.localizer.build import _choose_int8
from realeyes.training.localizer.prepare import FixedImage, LocalizerPrepareConfig, prepare_localizer, read_fixed_set
from realeyes.training.localizer.real_forgeries import read_coverage
from realeyes.training.pipeline_cli import pipeline_group
from realeyes.training.prepare import read_prepared

localizer = pipeline_group("localizer", "localizer")


def fake_autoencoder(photo: np.ndarray, region: np.ndarray) -> np.ndarray:
    """A cheap stand-in for TAEF2 (the real one needs ../shared/data and seconds per image)."""
    return np.asarray(np.clip(photo.astype(int) // 8 * 8 + 4, 0, 255).astype(np.uint8))


def write_fake_coverage(shared: Path, pairs: int = 4) -> None:
    """A COVERAGE-shaped folder: originals, forgeries with a copied block, their masks, pairs.csv."""
    root = shared / "forgeries" / "coverage"
    for folder in ("forged", "authentic", "mask"):
        (root / folder).mkdir(parents=True)
    rows = ["image,mask,kind,pair_id,authentic,mask_ok,forged_mask_fraction,notes"]
    for pair in range(1, pairs + 1):
        original = samples.photo_like(96, 80, seed=60 + pair)
        forged, mask = original.copy(), np.zeros(original.shape[:2], np.uint8)
        forged[40:72, 8:40] = original[4:36, 40:72]
        mask[40:72, 8:40] = 255
        (root / "authentic" / f"{pair}.jpg").write_bytes(samples.jpeg_bytes(original, quality=95))
        (root / "forged" / f"{pair}t.jpg").write_bytes(samples.jpeg_bytes(forged, quality=95))
        (root / "mask" / f"{pair}forged.png").write_bytes(samples.png_bytes(np.repeat(mask[:, :, None], 3, 2)))
        rows.append(f"forged/{pair}t.jpg,mask/{pair}forged.png,copy-move,{pair},authentic/{pair}.jpg,True,0.13,")
    (root / "pairs.csv").write_text("\n".join(rows) + "\n")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(localizer, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("localizer")
    photos = root / "photos" / "real"
    photos.mkdir(parents=True)
    for index in range(10):
        (photos / f"{index:02d}.png").write_bytes(samples.png_bytes(samples.photo_like(288, 264, seed=40 + index)))
    workdir = root / "run"
    config = LocalizerPrepareConfig(eval_side=256, edits_per_photo=2, reconstructions=2)
    prepare_localizer(collect_folder(root / "photos"), workdir, config, fake_autoencoder)
    shared = root / "shared"
    write_fake_coverage(shared)
    train = ["train", "--workdir", str(workdir), "--minutes", "2", "--max-steps", "3", "--batch-size", "2"]
    invoke(*train, "--eval-every", "3", "--shared", str(shared))
    bundle = root / "models" / "localizer" / "toy-localizer-0.0.1"
    export = ["export", "--workdir", str(workdir), "--version", "0.0.1", "--out", str(bundle), "--no-sweep"]
    invoke(*export, "--shared", str(shared))
    Registry(root / "models").promote(bundle, "test")
    return {"workdir": workdir, "bundle": bundle, "models": root / "models", "shared": shared}


def test_no_photo_is_in_two_splits_and_fixed_sets_use_held_out_photos(run: dict[str, Path]) -> None:
    rows = read_prepared(run["workdir"] / "manifest.csv")
    splits_of_group: dict[str, set[str]] = {}
    for sample, split in rows:
        splits_of_group.setdefault(sample.group, set()).add(split)
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    split_of_photo = {sample.path: split for sample, split in rows}
    for split in ("val", "test"):
        with (run["workdir"] / split / "index.csv").open(newline="") as handle:
            used = {row["photo"] for row in csv.DictReader(handle)}
        assert used and {split_of_photo[path] for path in used} == {split}


def test_the_bundle_records_parity_metrics_and_provenance(run: dict[str, Path]) -> None:
    card = json.loads((run["bundle"] / "card.json").read_text())
    assert card["task"] == "localizer" and card["onnx_parity_max_abs_diff"] < 1e-3
    test = card["metrics"]["test"]
    assert "held-out photos" in test["data"] and set(test["per_kind"]) == {
        "autoencoder",
        "blur",
        "copy-move",
        "inpaint",
        "resample",
        "splice",
    } & set(test["per_kind"])
    assert test["pixel"]["auc"] is not None and card["calibration"]["fitted_on"] == "validation fixed set"
    assert (run["bundle"] / "evaluation-test" / "examples.png").stat().st_size > 0


def test_the_card_leads_with_real_forgeries_and_their_baselines(run: dict[str, Path]) -> None:
    card = json.loads((run["bundle"] / "card.json").read_text())
    assert next(iter(card["metrics"])) == "real_forgeries_test"
    test = card["metrics"]["real_forgeries_test"]
    methods = {"localizer", "localizer_network_only", "copy_move_only", "ela", "noise", "flag_everything"}
    assert "even ids" in test["data"] and set(test["methods"]) == methods
    localizer, everything = test["methods"]["localizer"], test["methods"]["flag_everything"]
    assert (localizer["n_forged"], localizer["n_authentic"]) == (2, 2)
    assert 0 <= localizer["authentic_labelled_manipulated"] <= 1 and everything["authentic_flagged_area"] == 1.0
    # A forged region of 32x32 in 96x80 px: flagging every pixel scores 2p / (1 + p) whatever the level.
    share = 32 * 32 / (96 * 80)
    assert everything["pixel_f1_at_level"] == pytest.approx(2 * share / (1 + share), abs=1e-3)
    assert "originals of the real forgeries' validation half" in card["threshold_rule"]
    markdown = (run["bundle"] / "card.md").read_text()
    assert markdown.index("## Real forgeries") < markdown.index("## Input")


def test_the_promoted_bundle_serves_a_mask_of_the_image_size(run: dict[str, Path]) -> None:
    settings = Settings(models_dir=run["models"])
    media = load_media(samples.png_bytes(samples.photo_like(300, 200, seed=9)), settings)
    evidence = create("localizer", settings).analyze(media)
    mask = evidence.maps["mask"]
    assert mask.spatial and mask.values.shape == (200, 300) and 0.0 <= mask.values.min() <= mask.values.max() <= 1.0
    assert evidence.score is not None and evidence.details["model"] == "realeyes-unet-localizer-0.0.1"
    verdict = Engine(settings).analyze(samples.png_bytes(samples.photo_like(300, 200, seed=9)))
    assert "localizer" in {e.analyzer for e in verdict.evidence}


def test_int8_export_keeps_the_quantized_graph_within_the_tolerance(run: dict[str, Path], tmp_path: Path) -> None:
    bundle = tmp_path / "int8"
    args = ("--workdir", str(run["workdir"]), "--version", "0.0.2", "--out", str(bundle), "--no-sweep")
    invoke("export", *args, "--shared", str(run["shared"]), "--int8", "--int8-tolerance", "1.0")  # the test's own data
    decision = json.loads((bundle / "card.json").read_text())["quantization"]
    assert decision["kept"] is True and decision["decided_on"] == "validation pixel F1 at 0.5"
    graph = onnx.load(str(bundle / "model.onnx")).graph
    assert any(node.op_type == "QuantizeLinear" for node in graph.node)


def test_int8_calibration_accepts_validation_images_of_any_size(run: dict[str, Path], tmp_path: Path) -> None:
    # Real fixed sets mix sizes; the percentile calibrator needs one shape (it failed on ../shared/data before).
    folder = tmp_path / "bundle"
    shutil.copytree(run["bundle"], folder)
    val = read_fixed_set(run["workdir"] / "val")
    varied = [FixedImage(i.rgb[: 256 - 8 * n, : 256 - 4 * n], i.mask[: 256 - 8 * n, : 256 - 4 * n], i.kind, i.group)
              for n, i in enumerate(val)]  # fmt: skip
    decision = _choose_int8(folder, varied, varied, tolerance=1.0)
    assert decision["kept"] is True and decision["calibration_batches"] == len(varied)


def test_evaluate_real_reports_any_bundle_beside_the_baselines(run: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "real.json"
    printed = invoke("evaluate-real", "--bundle", str(run["bundle"]), "--shared", str(run["shared"]), "--out", str(out))
    report = json.loads(out.read_text())
    assert report["bundle"] == "realeyes-unet-localizer-0.0.1"
    assert set(json.loads(printed)) == set(report["real_forgeries_test"]["methods"]) >= {"localizer", "ela"}
    assert "val half" in report["real_forgeries_val"]["data"] and report["unseen_authentic_laundered"]["n"] == 0


def test_real_forgeries_split_by_pair_and_forgeries_without_a_usable_mask_are_left_out(tmp_path: Path) -> None:
    write_fake_coverage(tmp_path, pairs=5)
    index = tmp_path / "forgeries" / "coverage" / "pairs.csv"
    index.write_text(index.read_text().replace("authentic/5.jpg,True", "authentic/5.jpg,False"))
    val, test = read_coverage(tmp_path, "val"), read_coverage(tmp_path, "test")
    assert [i.group for i in val if i.mask.any()] == ["coverage/1", "coverage/3"]
    assert sum(not i.mask.any() for i in val) == 3  # pair 5's original stays; its forgery has no usable mask
    assert {i.group for i in val}.isdisjoint({i.group for i in test}) and len(test) == 4
    with pytest.raises(FileNotFoundError, match="no COVERAGE set"):
        read_coverage(tmp_path / "elsewhere", "val")
