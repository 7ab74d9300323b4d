"""The localizer network: any input size in, a logit per pixel out; the image score pools the top logits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from realeyes.training.localizer.model import (  # noqa: E402  (needs torch, checked just above)
    LocalizerConfig,
    ManipulationLocalizer,
    global_logit,
)


@pytest.fixture(scope="module")
def model() -> ManipulationLocalizer:
    torch.manual_seed(0)
    return ManipulationLocalizer(LocalizerConfig(encoder=(4, 6, 8, 8, 8), decoder=(8, 6, 4))).eval()


@pytest.mark.parametrize("height, width", [(64, 64), (57, 91), (33, 17), (128, 48)])
def test_logits_match_the_input_size_for_any_shape(model: ManipulationLocalizer, height: int, width: int) -> None:
    with torch.inference_mode():
        logits = model(torch.rand(2, 3, height, width))
    assert logits.shape == (2, 1, height, width) and torch.isfinite(logits).all()


def test_inference_is_deterministic(model: ManipulationLocalizer) -> None:
    image = torch.rand(1, 3, 40, 40)
    with torch.inference_mode():
        assert torch.equal(model(image), model(image))


def test_the_image_score_is_the_mean_of_the_top_share_of_logits() -> None:
    logits = torch.zeros(2, 1, 10, 10)
    logits[0, 0, 0, :2] = torch.tensor([4.0, 2.0])
    assert global_logit(logits, fraction=0.02).tolist() == [3.0, 0.0]
    assert global_logit(logits, fraction=0.001).tolist() == [4.0, 0.0]  # at least one pixel
