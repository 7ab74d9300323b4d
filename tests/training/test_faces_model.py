"""The face-forgery CNN: one finite logit per crop, a CPU-sized parameter count, and deterministic in eval mode."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from realeyes.training.faces.model import FaceForgeryNet, FaceNetConfig  # noqa: E402


@pytest.mark.parametrize("widths", [(16, 32, 64, 96, 128), (8, 16, 32)])
@pytest.mark.parametrize("batch", [1, 5])
def test_forward_gives_one_finite_logit_per_crop(widths: tuple[int, ...], batch: int) -> None:
    model = FaceForgeryNet(FaceNetConfig(widths=widths)).eval()
    with torch.inference_mode():
        logits = model(torch.rand(batch, 3, 128, 128))
    assert logits.shape == (batch, 1)
    assert torch.isfinite(logits).all()


def test_default_model_is_small_enough_for_the_cpu() -> None:
    parameters = sum(p.numel() for p in FaceForgeryNet().parameters())
    assert 200_000 <= parameters <= 1_000_000


def test_eval_mode_is_deterministic() -> None:
    torch.manual_seed(0)
    model = FaceForgeryNet().eval()
    crops = torch.rand(3, 3, 128, 128)
    with torch.inference_mode():
        assert torch.equal(model(crops), model(crops))
