"""The localizer analyzer without a model, and its image score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realeyes import Engine, samples
from realeyes.analyzers.localizer import LocalizerAnalyzer, top_mean
from realeyes.config import Settings
from realeyes.errors import ModelUnavailable


def test_without_a_promoted_localizer_the_analyzer_raises_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="No promoted localizer model"):
        LocalizerAnalyzer(Settings(models_dir=tmp_path))


def test_the_engine_skips_a_missing_localizer_and_says_so(tmp_path: Path) -> None:
    engine = Engine(Settings(models_dir=tmp_path))
    verdict = engine.analyze(samples.jpeg_bytes(samples.photo_like(96, 96)))
    assert "localizer" in engine.unavailable and "localizer" not in {e.analyzer for e in verdict.evidence}
    assert any(note.startswith("The localizer analyzer is unavailable") for note in verdict.notes)
    assert not any(str(tmp_path) in note for note in verdict.notes), "the host's models path leaked into results"
    assert "No promoted localizer model in the models folder" in engine.unavailable["localizer"]


def test_the_image_score_averages_the_highest_share_of_logits() -> None:
    logits = np.zeros((10, 20))
    logits[3, 4], logits[5, 6] = 5.0, 3.0
    assert top_mean(logits, 0.01) == pytest.approx(4.0)  # top 2 of 200
    assert top_mean(logits, 0.0001) == pytest.approx(5.0)  # never fewer than one value


@pytest.mark.parametrize("layout", ["random", "ties", "on_the_sampled_grid", "tiny"])
def test_the_image_score_equals_a_full_partition_of_the_map(layout: str) -> None:
    rng = np.random.default_rng(0)
    logits = {
        "random": rng.normal(size=(300, 401)),
        "ties": rng.integers(0, 4, size=(256, 256)).astype(float),
        # The largest values all sit on the sampled grid: the bound comes out too high, fewer values than needed
        # pass it, and the whole map is partitioned instead.
        "on_the_sampled_grid": np.where(
            np.arange(256 * 256).reshape(256, 256) % 16 == 0, rng.normal(size=(256, 256)) + 10, 0.0
        ),
        "tiny": rng.normal(size=(3, 5)),
    }[layout].astype(np.float32)
    flat = np.sort(logits.ravel())
    for fraction in (0.01, 0.05, 0.5):
        k = max(1, round(flat.size * fraction))
        assert top_mean(logits, fraction) == pytest.approx(float(flat[-k:].mean()), rel=1e-6)  # same values summed
