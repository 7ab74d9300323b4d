"""The analyzer registry and the contract every registered analyzer must keep."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from realeyes import samples
from realeyes.analyzers import (
    Analyzer,
    Evidence,
    create,
    describe_analyzers,
    list_analyzers,
    register,
)
from realeyes.errors import UnknownAnalyzer
from realeyes.media import load_media

BUILT_IN = ["c2pa", "metadata", "watermark", "spectrum", "ela", "noise"]


def test_built_in_analyzers_are_registered_provenance_first() -> None:
    assert list_analyzers()[: len(BUILT_IN)] == BUILT_IN


def test_the_run_order_does_not_depend_on_which_analyzer_was_imported_first() -> None:
    """Built-ins load on the registry's first use; a module imported earlier (a training script importing the
    localizer) must not move its analyzer to the front of the run."""
    code = (
        "import realeyes.analyzers.localizer, realeyes.video.analyzer\n"
        "from realeyes.analyzers import list_analyzers\n"
        "print(' '.join(list_analyzers()))"
    )
    names = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert names == list_analyzers()
    assert names[: len(BUILT_IN)] == BUILT_IN and names[-2:] == ["video_metadata", "video"]


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownAnalyzer, match="Known analyzers: c2pa, classifier, ela, localizer, metadata"):
        create("deepfake-9000")


def test_unknown_analyzer_is_a_value_error() -> None:
    with pytest.raises(ValueError):  # as timm's create_model does
        create("nope")


@pytest.mark.usefixtures("isolated_registry")
def test_register_and_create_a_new_analyzer() -> None:
    @register
    class Constant(Analyzer):
        """Always the same."""

        name = "constant"
        version = "0.1"

        def analyze(self, media: object) -> Evidence:
            return self.evidence(score=0.5, summary="constant")

    analyzer = create("constant")
    assert isinstance(analyzer, Constant) and analyzer.version == "0.1"
    assert "constant" in list_analyzers()
    with pytest.raises(ValueError, match="already registered"):
        register(Constant)


def test_describe_lists_names_versions_and_media() -> None:
    rows = {row["name"]: row for row in describe_analyzers()}
    assert rows["c2pa"]["media"] == "document,image,video"
    assert rows["ela"]["version"] == "1.1" and rows["ela"]["summary"]


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize("size", [(48, 40), (300, 500), (1100, 700)])
def test_every_analyzer_keeps_the_evidence_contract(name: str, size: tuple[int, int]) -> None:
    analyzer = create(name)
    media = load_media(samples.jpeg_bytes(samples.photo_like(*size, seed=3)))
    first, second = analyzer.analyze(media), analyzer.analyze(media)
    assert first.analyzer == name and first.version == analyzer.version and first.error is None
    assert first.summary and isinstance(first.details, dict)
    assert first.score is None or 0.0 <= first.score <= 1.0
    assert first.score == second.score  # deterministic
    for heatmap in first.maps.values():
        values = heatmap.values
        assert values.ndim == 2 and values.dtype == np.float32 and np.isfinite(values).all()
        assert values.min() >= 0.0 and values.max() <= 1.0
        if heatmap.spatial:  # aligned with the image: same aspect ratio
            assert abs(values.shape[1] / values.shape[0] - size[0] / size[1]) < 0.1


def test_evidence_rejects_scores_outside_the_unit_interval() -> None:
    with pytest.raises(ValueError, match="score must be in"):
        Evidence(analyzer="x", version="1", score=1.5)
    with pytest.raises(ValueError, match="weight"):
        Evidence(analyzer="x", version="1", weight=float("nan"))
