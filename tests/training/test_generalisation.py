"""The generalisation benchmark: laundering, leave-one-source-out fitting and calibration, ranking, figures."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFilter

from conftest import REPO, SHIPPED_MODELS
from realeyes.training.dataset import FAKE, REAL
from realeyes.training.generalisation import launder
from realeyes.training.generalisation.benchmark import RECONSTRUCTION
from realeyes.training.generalisation.protocol import (
    Detector,
    Table,
    Targets,
    calibrate,
    file_feature_baseline,
    fixed,
    fusion,
    out_of_fold,
    rankings,
    run_protocol,
)
from realeyes.training.generalisation.reconstruction import COLUMN, RECONSTRUCTION_FILE
from realeyes.training.generalisation.scores import FILE_FEATURES, accused_at_catch, read_rows, write_rows
from realeyes.training.generalisation.summary import auc_difference, auc_from_wins, wilson


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_laundering_makes_a_512_jpeg_without_metadata_the_same_way_every_time() -> None:
    rgb = photo(300, 700)
    first = launder.launder(rgb, launder.rng_for("a.jpg", "launder"))
    again = launder.launder(rgb, launder.rng_for("a.jpg", "launder"))
    other = launder.launder(rgb, launder.rng_for("b.jpg", "launder"))
    with Image.open(io.BytesIO(first)) as image:
        assert image.format == "JPEG" and image.size == (512, 512)
        assert not image.getexif() and "icc_profile" not in image.info
    assert first == again and first != other


def test_laundering_applies_the_exif_orientation() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    Image.fromarray(photo(100, 200)).save(buffer, format="JPEG", exif=exif)
    assert launder.read_oriented(buffer.getvalue()).shape == (200, 100, 3)


@pytest.mark.parametrize("pipeline", sorted(launder.HARD_PIPELINES))
def test_every_hard_pipeline_keeps_the_photo_shape(pipeline: str) -> None:
    rgb = photo(96, 128)
    out = launder.HARD_PIPELINES[pipeline](rgb, np.random.default_rng(0))
    assert out.shape == rgb.shape and out.dtype == np.uint8 and not np.array_equal(out, rgb)


def test_hard_pipelines_accept_tiny_images() -> None:
    name, out = launder.harden(photo(9, 9), launder.rng_for("tiny", "harden"))
    assert name in launder.HARD_PIPELINES and out.shape[:2] == (9, 9)


def table_of(sources: dict[str, tuple[int, list[float]]]) -> Table:
    """A table with one row per (source, score) in each condition; label from the source spec."""
    label, source, condition, score = [], [], [], []
    for name, (cls, values) in sources.items():
        for kind in ("clean", "laundered", "hard"):
            if kind == "hard" and cls == FAKE:
                continue
            for value in values:
                label.append(cls)
                source.append(name)
                condition.append(kind)
                score.append(value)
    n = len(label)
    columns = {"score_x": np.array(score), **{f: np.zeros(n) for f in FILE_FEATURES}}
    return Table(np.array(label), np.array(source), np.array(condition), columns)


def test_a_fitted_detector_never_sees_the_held_out_source() -> None:
    table = table_of({"r1": (REAL, [0.1, 0.2]), "r2": (REAL, [0.3]), "g1": (FAKE, [0.9]), "g2": (FAKE, [0.8])})
    seen_when_scoring: dict[str, set[str]] = {}

    def fit(t: Table, mask: np.ndarray):  # type: ignore[no-untyped-def]
        trained_on = set(t.source[mask].tolist())

        def score(t2: Table, rows: np.ndarray) -> np.ndarray:
            for s in set(t2.source[rows].tolist()):
                seen_when_scoring.setdefault(s, set()).update(trained_on)
            return np.zeros(int(rows.sum()))

        return score

    out_of_fold(Detector("spy", fit, fitted=True), table, ["r1", "r2", "g1", "g2"])
    assert all(source not in trained for source, trained in seen_when_scoring.items())
    assert set(seen_when_scoring) == {"r1", "r2", "g1", "g2"}


def test_seen_sources_are_outside_a_detectors_universe() -> None:
    table = table_of({"r1": (REAL, [0.1]), "r2": (REAL, [0.2]), "g1": (FAKE, [0.9])})
    assert fixed("x", "score_x", frozenset({"r1"})).universe(table) == ["g1", "r2"]


def test_calibration_keeps_accused_real_photos_under_the_target() -> None:
    scores = np.linspace(0.0, 1.0, 100)
    table = table_of({"r": (REAL, list(scores)), "g": (FAKE, list(np.linspace(0.5, 1.0, 50)))})
    thresholds = calibrate(table.columns["score_x"], table, np.ones(table.label.size, bool), Targets(0.04, 0.1))
    real_laundered = scores
    assert np.mean(real_laundered > thresholds.accuse) <= 0.04
    assert np.mean(np.linspace(0.5, 1.0, 50) < thresholds.authentic) <= 0.1
    assert thresholds.authentic <= thresholds.accuse


def test_the_accusation_threshold_holds_for_real_photos_in_every_condition() -> None:
    scores = np.linspace(0.0, 0.5, 100)
    table = table_of({"r": (REAL, list(scores)), "g": (FAKE, [0.9] * 10)})
    clean_real = (table.label == REAL) & (table.condition == "clean")
    table.columns["score_x"][clean_real] += 0.4  # the untouched files score higher than their laundered copies
    thresholds = calibrate(table.columns["score_x"], table, np.ones(table.label.size, bool), Targets(0.04, 0.1))
    assert np.mean(table.columns["score_x"][clean_real] > thresholds.accuse) <= 0.04
    assert thresholds.accuse > 0.8


def test_protocol_labels_each_held_out_source_with_thresholds_fitted_without_it() -> None:
    rng = np.random.default_rng(0)
    spec = {f"r{i}": (REAL, list(rng.uniform(0.0, 0.6, 30))) for i in range(3)}
    spec |= {f"g{i}": (FAKE, list(rng.uniform(0.4, 1.0, 30))) for i in range(3)}
    table = table_of(spec)
    result = run_protocol(fixed("x", "score_x"), table, Targets(0.05, 0.1))
    assert set(result.thresholds) == set(spec)
    real = (table.label == REAL) & (table.condition == "laundered")
    assert np.mean(result.labels[real] == "accused") <= 0.1
    assert np.mean(result.labels[(table.label == FAKE)] == "accused") > 0.3


def test_rankings_of_a_fitted_detector_come_from_models_without_either_source() -> None:
    sources = ["r1", "r2", "g1", "g2"]
    table = table_of({"r1": (REAL, [0.1, 0.2]), "r2": (REAL, [0.3]), "g1": (FAKE, [0.9]), "g2": (FAKE, [0.8])})
    wins = rankings(fusion("f", ["score_x"], frozenset()), table, sources, ["laundered"])["laundered"].wins
    assert wins.shape == (3, 2) and wins.tolist() == [[1.0, 1.0]] * 3
    assert auc_from_wins(wins)["auc"] == 1.0
    # g2 now scores below the real photos: the model for (r1, g1) learns from r2 and g2 alone, finds no positive
    # weight, and ties everything - it never saw that g1 scores high.
    table = table_of({"r1": (REAL, [0.1, 0.2]), "r2": (REAL, [0.3]), "g1": (FAKE, [0.9]), "g2": (FAKE, [0.05])})
    wins = rankings(fusion("f", ["score_x"], frozenset()), table, sources, ["laundered"])["laundered"].wins
    assert wins[:2, 0].tolist() == [0.5, 0.5]


def test_file_feature_baseline_finds_a_size_shortcut_when_there_is_one() -> None:
    spec = {f"r{i}": (REAL, [0.5] * 20) for i in range(3)} | {f"g{i}": (FAKE, [0.5] * 20) for i in range(3)}
    table = table_of(spec)
    table.columns["log_bytes"] = np.where(table.label == FAKE, 12.0, 10.0) + np.random.default_rng(0).normal(
        0, 0.1, table.label.size
    )
    detector = file_feature_baseline()
    ranked = rankings(detector, table, detector.universe(table), ["laundered"])
    assert auc_from_wins(ranked["laundered"].wins)["auc"] > 0.95


def test_wilson_interval_contains_the_rate_and_stays_in_unit_range() -> None:
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-3))
    low, high = wilson(5, 10) or (0, 0)
    assert low < 0.5 < high
    assert wilson(0, 0) is None


def write_data_folder(root: Path) -> None:
    """A tiny ../shared/data with the benchmark's layout: three real sources and three generator families."""
    from realeyes import samples

    def save(path: Path, seed: int, smooth: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rgb = samples.photo_like(320, 256, seed=seed)
        if smooth:  # a stand-in "generator": the same scenes, blurred
            rgb = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(2)))
        path.write_bytes(samples.jpeg_bytes(rgb, quality=92))

    for i in range(3):
        save(root / "real-photos/imagenet-sample" / f"n{i}.JPEG", i, False)
        save(root / "real-photos/diverse-2026/pub" / f"p{i}.jpg", 10 + i, False)
        save(root / "faces/ecuador-flux-faces/real/ana" / f"r{i}.jpg", 20 + i, False)
        save(root / "faces/ecuador-flux-faces/fake/ana" / f"f{i}.jpg", 30 + i, True)
    rows = ["file,generator"]
    for generator in ("sd1.x", "kolors"):
        for i in range(3):
            save(root / "ai-generated" / generator / f"{i}.jpg", 40 + i, True)
            rows.append(f"{generator}/{i}.jpg,{generator}")
    (root / "ai-generated/labels.csv").write_text("\n".join(rows) + "\n")


def test_the_generalisation_command_writes_a_report_and_a_fusion_the_engine_loads(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from realeyes.cli import main
    from realeyes.fusion import FusionModel

    write_data_folder(tmp_path / "data")
    out, fusion = tmp_path / "report", tmp_path / "fusion.json"
    command = ["evaluate", str(tmp_path / "data"), "--protocol", "generalisation", "--out", str(out)]
    env = {"REALEYES_MODELS_DIR": str(SHIPPED_MODELS)}
    result = CliRunner().invoke(main, [*command, "--workers", "1", "--write-fusion", str(fusion)], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "generalisation.json").read_text())
    assert set(report["detectors"]["spectrum"]["universe"]) == {
        "imagenet-sample",
        "diverse/pub",
        "ecuador-news-photos",
        "flux1-dev-lora",
        "sd1",
        "kolors",
    }
    # The shipped classifier trained on every source here but diverse-2026's publisher: its universe is that one.
    assert report["detectors"]["classifier"]["universe"] == ["diverse/pub"]
    rows = (out / "scores.csv").read_text().splitlines()
    assert len(rows) == 1 + 18 * 2 + 9  # clean and laundered for every image, hard for the real photos
    assert "## Every detector" in (out / "generalisation.md").read_text()
    against = report["fused_against_inputs"]
    assert {"classifier", "surprisal", "spectrum"} <= against.keys()
    # The fused verdict's universe here holds no generated source: nothing to compare, and it says so.
    assert against["classifier"]["laundered"] == {"difference": None, "ci": None}
    loaded = FusionModel.load(fusion)
    assert loaded.thresholds is not None and "generalisation benchmark" in loaded.fitted_on

    # A new version of one detector: only its column is scored again, the others are kept as they were.
    scored = read_rows(out / "scores.csv")
    write_rows([{**row, "score_spectrum": "0.5", "score_classifier": "0.25"} for row in scored], out / "scores.csv")
    result = CliRunner().invoke(main, [*command, "--workers", "1", "--rescore-only", "spectrum"], env=env)
    assert result.exit_code == 0, result.output
    rescored = read_rows(out / "scores.csv")
    assert [row["score_spectrum"] for row in rescored] == [row["score_spectrum"] for row in scored]
    assert {row["score_classifier"] for row in rescored} == {"0.25"}
    assert {row["verdict"] for row in rescored} == {""}  # the engine's verdict at the first scoring no longer holds

    # The benchmark-only autoencoder distance, read from its own cache: listed, never on its validation source,
    # and never fused: a distance that ranks perfectly leaves the shipped fusion as it was.
    without, with_distance = tmp_path / "without.json", tmp_path / "with.json"
    result = CliRunner().invoke(main, [*command, "--write-fusion", str(without)], env=env)
    assert result.exit_code == 0, result.output
    cached = [{"key": r["key"], "condition": r["condition"], COLUMN: 0.2 + 0.6 * int(r["label"])} for r in rescored]
    write_rows(cached, out / RECONSTRUCTION_FILE)
    result = CliRunner().invoke(main, [*command, "--write-fusion", str(with_distance)], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "generalisation.json").read_text())
    assert set(report["detectors"][RECONSTRUCTION]["universe"]) == {"imagenet-sample", "diverse/pub", "sd1", "kolors"}
    assert report["detectors"][RECONSTRUCTION]["conditions"]["laundered"]["pooled"]["auc"] == 1.0
    assert with_distance.read_text() == without.read_text()
    assert f"| {RECONSTRUCTION} | laundered |" in (out / "generalisation.md").read_text()
    variants = subprocess.run(
        [sys.executable, str(REPO / "scripts/fusion_variants.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "| classifier,reconstruction |" in variants and "| classifier,surprisal,reconstruction |" in variants


def test_laundering_augmentation_crops_a_512_px_copy_of_either_class() -> None:
    from realeyes.training.augment import AugmentConfig, augment

    rgb = photo(1400, 2000)
    crop = augment(rgb, AugmentConfig(crop=160, launder_probability=1.0), np.random.default_rng(0))
    assert crop.shape == (160, 160, 3)
    # Downscaled about 2.7x before cropping: the crop is far smoother than a native crop of the noise image.
    native = augment(rgb, AugmentConfig(crop=160, jpeg_probability=0.0), np.random.default_rng(0))
    assert np.abs(np.diff(crop.astype(float), axis=1)).mean() < np.abs(np.diff(native.astype(float), axis=1)).mean()


def train_holding_out(data: Path, workdir: Path, source: str) -> dict[str, Any]:
    """`realeyes data prepare` and two steps of `realeyes train --hold-out-source SOURCE`; the run's history."""
    from click.testing import CliRunner

    from realeyes.cli import main

    prepare = ["data", "prepare", "--workdir", str(workdir), "--shared", str(data), "--reconstructions", "0"]
    assert CliRunner().invoke(main, prepare).exit_code == 0
    train = ["train", "--workdir", str(workdir), "--max-steps", "2", "--eval-every", "1", "--batch-size", "4"]
    held_out = ["--hold-out-source", source, "--shared", str(data), "--threads", "1"]
    result = CliRunner().invoke(main, [*train, *held_out])
    assert result.exit_code == 0, result.output
    return dict(json.loads((workdir / "classifier.history.json").read_text()))


def test_a_source_held_out_of_training_is_scored_as_the_benchmark_scores_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_data_folder(data)
    history = train_holding_out(data, tmp_path / "run", "ecuador-flux-faces")
    assert "ecuador-flux-faces" not in history["train_sources"]
    assert "imagenet-sample" in history["train_sources"]
    figures = history["held_out_source"]
    assert all(0.0 <= figures[condition] <= 1.0 for condition in ("clean", "laundered", "hard"))
    assert figures["selection"] == pytest.approx((figures["laundered"] + figures["hard"]) / 2)
    assert 0.0 <= figures["accused_at_quarter_caught"] <= 1.0


def test_the_tail_figure_counts_real_photos_above_what_catches_a_quarter_of_the_generated() -> None:
    generated = [float(v) for v in range(1, 9)]  # a quarter of them (7, 8) lie above 6
    assert accused_at_catch([0.0, 6.5, 7.5, 9.0], generated, 0.25) == 0.75
    assert accused_at_catch([0.0, 5.0, 6.0], generated, 0.25) == 0.0  # a tie with the threshold is not accused
    # A better AUC can hide a worse tail: one confident real photo against four in the middle.
    assert accused_at_catch([9.0, 0.0, 0.0, 0.0], generated, 0.25) > accused_at_catch([5.5] * 4, generated, 0.25)
    assert accused_at_catch([], generated, 0.25) is None


def test_a_selection_source_can_hold_out_generator_families_with_a_real_source(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from realeyes import samples
    from realeyes.cli import main

    data = tmp_path / "data"
    write_data_folder(data)
    for i in range(3):
        path = data / "real-photos/camera-exif" / f"c{i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(samples.jpeg_bytes(samples.photo_like(320, 256, seed=60 + i), quality=90))
    history = train_holding_out(data, tmp_path / "run", "camera-exif-diffusion")
    assert "camera-exif" not in history["train_sources"] and "ecuador-flux-faces" in history["train_sources"]
    assert "kolors" not in history["train_generators"] and "sd1.x" in history["train_generators"]
    # camera-exif's photos against kolors (the only one of the three families in the tiny data set) is scored.
    assert 0.0 <= history["held_out_source"]["laundered"] <= 1.0
    # Nor does the held-out data calibrate an export or count among its split figures.
    bundle = tmp_path / "bundle"
    export = ["export", "--workdir", str(tmp_path / "run"), "--version", "0.0.1", "--out", str(bundle), "--no-sweep"]
    result = CliRunner().invoke(main, export)
    assert result.exit_code == 0, result.output
    card = json.loads((bundle / "card.json").read_text())
    assert not any("kolors" in line or "camera-exif" in line for line in card["training_data"])
    assert card["selection_data"]["sources"].keys() == {"camera-exif"}


def test_hardening_augmentation_changes_the_crop_and_keeps_its_shape() -> None:
    from realeyes.training.augment import AugmentConfig, augment

    rgb = photo(400, 500)
    hardened = augment(rgb, AugmentConfig(crop=160, harden_probability=1.0), np.random.default_rng(0))
    plain = augment(rgb, AugmentConfig(crop=160), np.random.default_rng(0))
    assert hardened.shape == plain.shape == (160, 160, 3) and hardened.dtype == np.uint8
    assert not np.array_equal(hardened, plain)
    negatives = AugmentConfig(crop=160, harden_real_probability=1.0)
    assert np.array_equal(augment(rgb, negatives, np.random.default_rng(0), real=False), plain)  # fakes untouched
    assert not np.array_equal(augment(rgb, negatives, np.random.default_rng(0), real=True), plain)


def test_hard_real_photos_are_laundered_whole_kept_per_photo_and_never_used_for_fakes() -> None:
    from realeyes.training.augment import AugmentConfig, HardRealPhotos, augment, decode_jpeg

    rgb = photo(400, 500)
    config = AugmentConfig(crop=160, launder_probability=1.0, hard_real_share=1.0)
    photos = HardRealPhotos(per_photo=2)
    laundered = augment(rgb, AugmentConfig(crop=160, launder_probability=1.0), np.random.default_rng(0))
    fake = augment(rgb, config, np.random.default_rng(0), real=False, hard_photos=(photos, "a"))
    assert np.array_equal(fake, laundered) and not photos._variants  # fakes: plain laundering
    rng = np.random.default_rng(0)
    crops = [augment(rgb, config, rng, real=True, hard_photos=(photos, "a")) for _ in range(12)]
    assert all(crop.shape == (160, 160, 3) and crop.dtype == np.uint8 for crop in crops)
    assert not any(np.array_equal(crop, laundered) for crop in crops)
    assert len(photos._variants["a"]) == 2  # at most per_photo variants of one photo, then reused
    assert all(decode_jpeg(data).shape == (512, 512, 3) for data in photos._variants["a"])  # laundered JPEGs


def test_the_train_command_offers_exactly_the_sources_that_can_be_scored_held_out() -> None:
    from realeyes.training.classifier_pipeline import ClassifierTrainSettings
    from realeyes.training.pipeline import settings_fields
    from realeyes.training.selection_source import SELECTION_SOURCES

    setting = next(f for f, _ in settings_fields(ClassifierTrainSettings) if f.name == "hold_out_sources")
    assert set(setting.metadata["choices"]) == set(SELECTION_SOURCES)


def test_a_card_states_the_accusation_target_its_own_role_was_calibrated_to() -> None:
    from realeyes.training.generalisation.cards import card_block, with_generalisation

    figures = {"auc": 0.6, "auc_ci": [0.5, 0.7], "real_accused": {"rate": 0.01}, "generated_caught": {"rate": 0.1}}
    across = {"mean_auc": 0.6, "worst_auc": 0.4, "worst_real_accused": 0.05}
    detector = {"universe": ["r", "g"], "conditions": {"clean": {"pooled": figures, "across_folds": across}}}
    report = {
        "data": "d",
        "targets": {"real_accused": 0.04, "manipulation_vote": 0.01},
        "detectors": {"classifier": detector, "localizer (manipulation vote)": detector},
        "shipped": {"coefficients": {"classifier": 0.5}, "votes": {"localizer": 0.79}},
    }
    fused = with_generalisation("# card\n\nbody\n", card_block(report, "classifier", "classifier", "cmd"))
    vote = card_block(report, "localizer (manipulation vote)", "localizer", "cmd")
    assert "fusion coefficient 0.5" in fused and "at most 4% of other sources' real photos accused" in fused
    assert "at most 1% of other sources' real photos accused" in with_generalisation("# card\n", vote)
    assert fused.startswith("# card\n\n<!-- generalisation -->") and fused.rstrip().endswith("body")


def test_a_paired_auc_difference_is_noise_free_for_the_same_ranking_and_finds_a_better_one() -> None:
    rng = np.random.default_rng(0)
    ranking = (rng.uniform(size=(30, 40)) > 0.4).astype(float)  # AUC about 0.6
    same = auc_difference(ranking, ranking)
    assert same["difference"] == 0.0 and same["ci"] == [0.0, 0.0]
    better = np.maximum(ranking, (rng.uniform(size=(30, 40)) > 0.5).astype(float))
    gain = auc_difference(better, ranking)
    assert gain["difference"] == pytest.approx(float((better - ranking).mean()), abs=1e-4)
    assert 0.0 < gain["ci"][0] <= gain["difference"] <= gain["ci"][1]
    assert auc_difference(ranking, ranking[:, :10]) == {"difference": None, "ci": None}  # not the same images
