"""The localizer network: any input size in, a logit per pixel out; the image score pools the top logits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.nn import functional  # noqa: E402

from realeyes.training.localizer.model import (  # noqa: E402  (needs torch, checked just above)
    _LUMA,
    _SRM_KERNELS,
    _SRM_NORMS,
    RESIDUAL_TRUNCATION,
    LocalizerConfig,
    ManipulationLocalizer,
    NoiseResiduals,
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


def test_noise_residuals_cancel_smooth_content_and_keep_noise() -> None:
    residuals = NoiseResiduals()
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    ramp = ((0.2 + 0.01 * x + 0.005 * y) * torch.ones(3, 1, 1))[None]  # a plane: every SRM kernel sums it to 0
    noisy = ramp + 0.01 * torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        flat, textured = residuals(ramp)[..., 2:-2, 2:-2], residuals(noisy)[..., 2:-2, 2:-2]
    assert flat.abs().max() < 1e-4 and textured.abs().mean() > 0.1
    assert textured.abs().max() <= 1.0  # truncated


def test_noise_residuals_equal_one_rgb_conv_with_the_luma_folded_in() -> None:
    """The luma-first form served since 0.4.0 computes what bundles <= 0.3 computed as one RGB conv."""
    kernels = torch.tensor(_SRM_KERNELS) / torch.tensor(_SRM_NORMS)[:, None, None]
    rgb_kernels = kernels[:, None] * torch.tensor(_LUMA)[None, :, None, None]
    image = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        before = torch.clamp(functional.conv2d(image, rgb_kernels, padding=2) / RESIDUAL_TRUNCATION, -1.0, 1.0)
        # Float32 rounding of a 75-term sum (~1e-7), magnified 85x by the 3/255 truncation scale; which of
        # oneDNN's CPU kernels runs decides the last bits, so 1e-5 failed on some CPUs. A wrong kernel is off by > 0.01.
        assert torch.allclose(NoiseResiduals()(image), before, atol=1e-4)


@pytest.mark.parametrize("stem_stride", [1, 2])
def test_both_stem_strides_give_full_size_logits(stem_stride: int) -> None:
    config = LocalizerConfig(encoder=(4, 6, 8, 8, 8), decoder=(8, 6, 4), stem_stride=stem_stride)
    with torch.inference_mode():
        assert ManipulationLocalizer(config).eval()(torch.rand(1, 3, 45, 37)).shape == (1, 1, 45, 37)


def test_the_fixed_filters_are_not_saved_and_colour_only_models_have_none() -> None:
    with_residuals = ManipulationLocalizer(LocalizerConfig(encoder=(4, 6, 8, 8, 8), decoder=(8, 6, 4)))
    assert not any(key.startswith("residuals.") for key in with_residuals.state_dict())
    old = ManipulationLocalizer(LocalizerConfig(encoder=(4, 6, 8, 8, 8), decoder=(8, 6, 4), residuals=False)).eval()
    assert old.residuals is None
    assert old(torch.rand(1, 3, 32, 32)).shape == (1, 1, 32, 32)
