"""The benchmark-only autoencoder distance: crops, distances, the choice on validation images, its own score file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from realeyes import samples
from realeyes.training import taesd
from realeyes.training.dataset import FAKE, REAL
from realeyes.training.generalisation.benchmark import RECONSTRUCTION, detectors
from realeyes.training.generalisation.catalog import BenchImage
from realeyes.training.generalisation.protocol import Table
from realeyes.training.generalisation.reconstruction import (
    COLUMN,
    DISTANCES,
    RECONSTRUCTION_FILE,
    WEIGHTS,
    Reconstructor,
    centre_crop,
    choose_distance,
    score,
    score_benchmark,
    with_reconstruction,
)
from realeyes.training.generalisation.scores import FILE_FEATURES
from realeyes.training.generalisation.validation import VALIDATION, validation_set
from realeyes.training.pipeline import PipelineError


class Blur(torch.nn.Module):
    """A stand-in autoencoder that smooths: smooth images come back closer than textured ones."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)


def toy_validation(root: Path) -> Path:
    """Textured 'real' photos and smoothed 'generated' ones under the validation folder."""
    for label in ("real", "fake"):
        folder = root / VALIDATION / label / "person"
        folder.mkdir(parents=True)
        for index in range(3):
            photo = samples.photo_like(320, 320, seed=60 + index)
            if label == "fake":
                photo = np.asarray(Blur()(torch.from_numpy(photo.transpose(2, 0, 1)[None] / 255.0))[0])
                photo = np.rint(photo.transpose(1, 2, 0) * 255).astype(np.uint8)
            (folder / f"{index}.jpg").write_bytes(samples.jpeg_bytes(photo, quality=95))
    return root


def test_the_crop_is_central_and_on_the_autoencoders_8_px_grid() -> None:
    rgb = np.arange(300 * 500 * 3, dtype=np.uint32).reshape(300, 500, 3)
    crop = centre_crop(rgb)
    assert crop.shape == (256, 256, 3) and np.array_equal(crop[0, 0], rgb[22, 122])
    assert centre_crop(rgb[:100]).shape == (96, 96, 3)


def test_an_exact_reconstruction_is_at_distance_zero_and_scores_highest() -> None:
    rgb = samples.photo_like(200, 240, seed=1)
    assert all(d == 0.0 for d in Reconstructor(torch.nn.Identity()).distances(rgb).values())
    blurred = Reconstructor(Blur()).distances(rgb)
    assert set(blurred) == set(DISTANCES) and all(d > 0 for d in blurred.values())
    assert score(0.0) == 1.0 and score(blurred["luma MAE"]) < 1.0


def test_the_distance_is_chosen_by_the_validation_sets_selection_figure(tmp_path: Path) -> None:
    validation = validation_set(toy_validation(tmp_path))
    reconstructor = Reconstructor(Blur())
    choice = choose_distance(validation, [reconstructor.distances(rgb) for rgb in validation.images])
    selection = {name: figures["selection"] for name, figures in choice["figures"].items()}
    assert set(selection) == set(DISTANCES) and choice["distance"] == max(selection, key=selection.__getitem__)
    assert selection[choice["distance"]] > 0.9  # the smoothed fakes come back closer, laundered and hard alike
    assert "3 real and 3 generated" in choice["data"]


def test_the_benchmark_scores_live_in_their_own_file_and_join_the_table_unfused(tmp_path: Path) -> None:
    shared = toy_validation(tmp_path / "shared")
    weights = shared / WEIGHTS
    weights.mkdir(parents=True)
    model = taesd.TinyAutoencoder()  # untrained weights in the published layout: the loading path is the real one
    torch.save({k: v.half() for k, v in model.encoder.state_dict().items()}, weights / taesd.ENCODER_FILE)
    torch.save({k: v.half() for k, v in model.decoder.state_dict().items()}, weights / taesd.DECODER_FILE)
    photo = shared / "photo.jpg"
    photo.write_bytes(samples.jpeg_bytes(samples.photo_like(96, 128, seed=3), quality=90))
    images = [BenchImage(photo, "photo.jpg", REAL, "elsewhere")]
    images += [BenchImage(p, p.name, REAL, "ecuador-news-photos") for p in (shared / VALIDATION).rglob("*.jpg")]

    out = tmp_path / "out"
    choice = score_benchmark(images, shared, out, workers=1)
    assert choice["distance"] in DISTANCES and json.loads((out / "reconstruction.json").read_text()) == choice
    with (out / RECONSTRUCTION_FILE).open(newline="") as handle:
        scored = list(csv.DictReader(handle))
    # the validation source is never scored: it chose the distance
    assert sorted(row["condition"] for row in scored) == ["clean", "hard", "laundered"]
    assert {row["key"] for row in scored} == {"photo.jpg"} and all(0 < float(row[COLUMN]) <= 1 for row in scored)

    def engine_row(key: str, source: str, label: int) -> dict[str, str]:
        return {"key": key, "source": source, "label": str(label), "condition": "clean", "score_classifier": "0.7"} | {
            feature: "0" for feature in FILE_FEATURES
        }

    engine_rows = [engine_row("photo.jpg", "elsewhere", REAL), engine_row("r.jpg", "ecuador-news-photos", REAL)]
    rows = with_reconstruction(engine_rows, out)
    assert rows[0][COLUMN] == next(r[COLUMN] for r in scored if r["condition"] == "clean") and rows[1][COLUMN] == ""
    found = {d.name: d for d in detectors(Table.from_rows(rows))}
    assert RECONSTRUCTION in found and "ecuador-news-photos" in found[RECONSTRUCTION].seen
    assert with_reconstruction(engine_rows, tmp_path / "nothing") == engine_rows
    # a catalogue that grew since the scores were cached: no figures from part of the images
    grown = [*engine_rows, engine_row("new.png", "generator", FAKE)]
    assert with_reconstruction(grown, out) == grown


def test_the_autoencoder_distance_is_never_a_fusion_input() -> None:
    rng = np.random.default_rng(0)
    label = np.repeat([REAL, FAKE], 40)
    table = Table(
        label=label,
        source=np.where(label == REAL, "photos", "generator"),
        condition=np.tile(np.repeat(["clean", "laundered"], 20), 2),
        columns={
            "score_classifier": np.clip(0.5 + 0.2 * (label - 0.5) + rng.normal(0, 0.2, 80), 0.01, 0.99),
            COLUMN: np.where(label == FAKE, 0.95, 0.05),  # a perfect ranking the fusion would weight heavily
        },
    )
    rows = np.ones(80, dtype=bool)
    fused = next(d for d in detectors(table) if d.name == "fused").fit(table, rows)
    swapped = Table(table.label, table.source, table.condition, {**table.columns, COLUMN: 1 - table.columns[COLUMN]})
    assert np.ptp(fused(table, rows)) > 0  # the classifier carries the fusion
    assert np.array_equal(fused(table, rows), fused(swapped, rows))


def test_missing_weights_are_a_clear_error_before_any_image_is_scored(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="TAEF2"):
        score_benchmark([], tmp_path, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()
