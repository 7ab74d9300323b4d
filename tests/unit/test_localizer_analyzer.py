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
