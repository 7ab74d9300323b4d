"""The engine: one entry point, isolation of failing analyzers, analyzer selection, pixel-less containers."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from realeyes import Engine, samples
from realeyes.analyzers import Analyzer, Evidence, register
from realeyes.config import Settings
from realeyes.errors import CorruptMedia, UnknownAnalyzer
from realeyes.media import Media


@pytest.fixture
def broken_registered(isolated_registry: None) -> str:
    @register
    class Broken(Analyzer):
        """Always fails."""

        name = "broken"
        version = "0"

        def analyze(self, media: Media) -> Evidence:
            raise RuntimeError("model file vanished")

    return "broken"


def test_a_failing_analyzer_is_recorded_and_the_scan_goes_on(
    broken_registered: str, photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(analyzers=["metadata", broken_registered])
    with caplog.at_level(logging.ERROR):
        verdict = engine.analyze(samples.png_bytes(photo, {"parameters": samples.sd_webui_parameters()}))
    broken = next(e for e in verdict.evidence if e.analyzer == "broken")
    assert broken.error is not None and broken.error.code == "analyzer_failed"
    assert "model file vanished" in broken.error.message
    assert verdict.label == "ai-generated"  # the working analyzer still decides
    assert any("broken analyzer failed" in note for note in verdict.notes)
    assert "analyzer broken failed" in caplog.text


def test_only_the_selected_analyzers_run(photo: np.ndarray) -> None:
    verdict = Engine(analyzers=["ela", "c2pa"]).analyze(samples.jpeg_bytes(photo))
    assert [e.analyzer for e in verdict.evidence] == ["ela", "c2pa"]
    assert verdict.versions == {"realeyes": "0.1.0", "ela": "1.1", "c2pa": "1.0"}


def test_an_engine_runs_blas_on_one_thread() -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> set[int]:
        return {library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()  # {2} on this project's 2-core machines
        Engine(analyzers=["ela"])
        assert before and blas_threads() == {1}


def test_a_bundle_with_an_incomplete_or_broken_card_makes_its_analyzer_unavailable(tmp_path: Path) -> None:
    from conftest import SHIPPED_MODELS
    from realeyes.models import Registry

    models = tmp_path / "models"
    shutil.copytree(SHIPPED_MODELS, models)
    promoted = Registry(models).promoted_paths()
    classifier_card = models / promoted["classifier"] / "card.json"
    card = json.loads(classifier_card.read_text())
    del card["input"]["crop"]
    classifier_card.write_text(json.dumps(card))
    (models / promoted["surprisal"] / "card.json").write_text("{ not json")
    localizer_card = models / promoted["localizer"] / "card.json"
    localizer_card.write_text(json.dumps({**json.loads(localizer_card.read_text()), "threshold": "high"}))

    engine = Engine(Settings(models_dir=models))  # builds: the other analyzers still run
    assert "incomplete card: no input.crop" in engine.unavailable["classifier"]
    assert "not a readable JSON model card" in engine.unavailable["surprisal"]
    assert "not a valid model card: threshold: Input should be a valid number" in engine.unavailable["localizer"]
    assert {"ela", "spectrum"} <= {analyzer.name for analyzer in engine.analyzers}


def test_unknown_analyzer_is_refused_at_construction() -> None:
    with pytest.raises(UnknownAnalyzer, match="Known analyzers"):
        Engine(analyzers=["ela", "magic"])


def test_a_video_whose_frames_cannot_be_read_is_a_media_error(engine: Engine) -> None:
    with pytest.raises(CorruptMedia, match="cannot be opened"):
        engine.analyze(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\0" * 100)


def test_media_errors_reach_the_caller_typed(engine: Engine) -> None:
    with pytest.raises(CorruptMedia):
        engine.analyze(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)


def test_verdict_dict_has_the_documented_fields(engine: Engine, photo: np.ndarray) -> None:
    record = engine.analyze(samples.jpeg_bytes(photo)).to_dict()
    assert {
        "label",
        "p_fake",
        "threshold",
        "reasons",
        "evidence",
        "media",
        "notes",
        "versions",
    } <= record.keys()
    assert {"analyzer", "version", "score", "weight", "summary", "details", "error"} <= record["evidence"][0].keys()
    assert record["media"]["width"] == 640 and record["media"]["format"] == "jpeg"
    assert all(e["elapsed_ms"] is not None for e in record["evidence"])


def test_thresholds_must_leave_room_for_inconclusive() -> None:
    from pydantic import ValidationError

    from realeyes.config import Settings

    with pytest.raises(ValidationError, match="authentic_threshold must be below threshold"):
        Settings(threshold=0.3, authentic_threshold=0.4)


def test_an_empty_analyzer_list_means_none_not_all(photo: np.ndarray) -> None:
    verdict = Engine(analyzers=[]).analyze(samples.jpeg_bytes(photo))
    assert verdict.evidence == [] and verdict.label == "inconclusive"


def test_engine_uses_the_calibrated_thresholds_of_the_models_folder_fusion(tmp_path: Path) -> None:
    (tmp_path / "fusion.json").write_text(
        json.dumps(
            {"bias": 0, "coefficients": {}, "thresholds": {"ai_generated": 0.8, "authentic": 0.1}, "fitted_on": "bench"}
        )
    )
    engine = Engine(Settings(models_dir=tmp_path), analyzers=["metadata"])
    assert (engine.thresholds.ai_generated, engine.thresholds.authentic) == (0.8, 0.1)
    assert engine.versions["fusion"] == "bench"  # a recalibration invalidates cached results
    explicit = Engine(Settings(models_dir=tmp_path, threshold=0.7), analyzers=["metadata"])
    assert (explicit.thresholds.ai_generated, explicit.thresholds.authentic) == (0.7, 0.1)
    lower = Engine(Settings(models_dir=tmp_path, threshold=0.05), analyzers=["metadata"])
    assert lower.thresholds.authentic == 0.025  # an explicit threshold below the fitted band keeps a middle band


def test_each_evidence_carries_the_weight_the_fitted_fusion_gave_it(tmp_path: Path, photo: np.ndarray) -> None:
    # ELA was given no weight (it does not beat chance on held-out sources): the evidence a user reads must say so,
    # not show the analyzer's default; an analyzer the fusion does not list keeps its own weight.
    fusion = {"bias": 0.5, "coefficients": {"ela": 0.0, "noise": 0.25}, "fitted_on": "bench"}
    (tmp_path / "fusion.json").write_text(json.dumps(fusion))
    verdict = Engine(Settings(models_dir=tmp_path), analyzers=["ela", "noise", "spectrum"]).analyze(
        samples.jpeg_bytes(photo)
    )
    weights = {e.analyzer: e.weight for e in verdict.evidence}
    assert weights == {"ela": 0.0, "noise": 0.25, "spectrum": 0.1}
    assert not any("ELA" in reason or "Error levels" in reason for reason in verdict.reasons)


def test_a_failed_analyzer_shows_no_weight_the_verdict_did_not_give_it(
    broken_registered: str, photo: np.ndarray, tmp_path: Path
) -> None:
    (tmp_path / "fusion.json").write_text(json.dumps({"bias": 0, "coefficients": {broken_registered: 0.7}}))
    verdict = Engine(Settings(models_dir=tmp_path), analyzers=["ela", broken_registered]).analyze(
        samples.jpeg_bytes(photo)
    )
    broken = next(e for e in verdict.evidence if e.analyzer == broken_registered)
    assert broken.error is not None and broken.weight == 0.0


def test_without_a_fitted_fusion_the_default_thresholds_apply(tmp_path: Path) -> None:
    engine = Engine(Settings(models_dir=tmp_path), analyzers=["metadata"])
    assert (engine.thresholds.ai_generated, engine.thresholds.authentic) == (0.6, 0.25)


def test_analyzers_on_threads_give_the_same_verdict_in_the_same_order(photo: np.ndarray) -> None:
    image = samples.jpeg_bytes(photo)
    names = ["metadata", "watermark", "spectrum", "ela", "noise"]
    alone = Engine(Settings(analyzer_threads=1), analyzers=names).analyze(image)
    threaded = Engine(Settings(analyzer_threads=3), analyzers=names)
    for _ in range(2):  # the second run is scheduled slowest-first from the first run's times
        side_by_side = threaded.analyze(image)
        assert [e.analyzer for e in side_by_side.evidence] == names
        assert [(e.score, e.label) for e in side_by_side.evidence] == [(e.score, e.label) for e in alone.evidence]
        assert (side_by_side.label, side_by_side.p_fake) == (alone.label, alone.p_fake)


def test_analyzers_on_threads_start_slowest_first(isolated_registry: None, photo: np.ndarray) -> None:
    started: list[str] = []

    def timed(name: str, seconds: float) -> type[Analyzer]:
        class Timed(Analyzer):
            version = "0"

            def analyze(self, media: Media) -> Evidence:
                started.append(self.name)
                time.sleep(seconds)
                return self.evidence(summary="done")

        Timed.name = name
        return register(Timed)

    timed("quick", 0.0)
    timed("slow", 0.05)
    engine = Engine(Settings(analyzer_threads=2), analyzers=["quick", "slow"])
    first = engine.analyze(samples.png_bytes(photo))
    started.clear()
    second = engine.analyze(samples.png_bytes(photo))
    assert started[0] == "slow"  # learned from the first run: the longest starts at once
    assert [e.analyzer for e in first.evidence] == [e.analyzer for e in second.evidence] == ["quick", "slow"]


def test_a_media_error_raised_by_an_analyzer_on_a_thread_reaches_the_caller() -> None:
    threaded = Engine(Settings(analyzer_threads=2))
    with pytest.raises(CorruptMedia, match="cannot be opened"):  # raised by the video analyzer, not by intake
        threaded.analyze(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\0" * 100)
