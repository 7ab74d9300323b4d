"""The localizer analyzer without a model, and its image score."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("vote", [0.0001, 0.9999])
def test_the_localizer_votes_at_the_score_the_verdict_needs_not_at_its_cards(tmp_path: Path, vote: float) -> None:
    from conftest import SHIPPED_MODELS

    fusion = tmp_path / "fusion.json"
    fusion.write_text(json.dumps({"coefficients": {}, "votes": {"localizer": vote}}))
    settings = Settings(models_dir=SHIPPED_MODELS, fusion_path=fusion)
    verdict = Engine(settings, analyzers=["localizer"]).analyze(samples.jpeg_bytes(samples.photo_like(96, 96)))
    localizer = verdict.evidence[0]
    assert localizer.details["threshold"] == vote  # what the web UI shows beside the mask
    voted = localizer.score is not None and localizer.score >= vote
    assert voted == (vote < 0.5)  # the sample photo scores in between
    assert (localizer.label == "manipulated") == voted and localizer.weight == (1.0 if voted else 0.0)
    assert ("finds a likely edited region" in localizer.summary) == voted


def test_without_a_fusion_vote_the_localizer_keeps_its_cards_threshold(tmp_path: Path) -> None:
    from conftest import SHIPPED_MODELS

    fusion = tmp_path / "fusion.json"
    fusion.write_text(json.dumps({"coefficients": {}}))
    engine = Engine(Settings(models_dir=SHIPPED_MODELS, fusion_path=fusion), analyzers=["localizer"])
    localizer = engine.analyzers[0]
    assert isinstance(localizer, LocalizerAnalyzer) and localizer.threshold == localizer.model.threshold
