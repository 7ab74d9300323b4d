"""The coding-cost statistics: the numpy likelihood the analyzer uses matches the torch one the coder trains on."""

from __future__ import annotations

import numpy as np
import pytest

from realeyes.models import coding_cost


def test_phases_and_inputs_cover_a_2x2_block_from_its_mean() -> None:
    high = np.arange(64, dtype=np.float64).reshape(8, 8)
    inputs, targets = coding_cost.coder_inputs(high)
    assert inputs.shape == (3, 6, 4, 4) and targets.shape == (3, 4, 4)
    assert inputs[0, 0, 0, 0] == pytest.approx((0 + 1 + 8 + 9) / 4 / 255 - 0.5)
    # Phase a is coded from the mean alone; b knows a; c knows a and b (an unknown phase reads as 0 grey levels).
    unknown = -0.5
    assert (inputs[0, 1:3] == unknown).all() and (inputs[1, 2] == unknown).all()
    assert inputs[1, 1, 0, 0] == pytest.approx(0 / 255 - 0.5) and inputs[2, 2, 0, 0] == pytest.approx(1 / 255 - 0.5)
    assert inputs[:, 3:].sum(axis=(2, 3)).tolist() == [[16, 0, 0], [0, 16, 0], [0, 0, 16]]


def test_likelihood_of_a_well_matched_prediction_equals_its_expected_cost() -> None:
    rng = np.random.default_rng(0)
    log_scale = np.log(3.0)
    values = np.clip(np.rint(128 + rng.logistic(0, 3.0, 20000)), 0, 255)
    actual = coding_cost.nll_bits(values, np.full(values.shape, 128.0), np.full(values.shape, log_scale)).mean()
    expected = float(coding_cost.expected_bits(np.array([log_scale]))[0])
    assert actual == pytest.approx(expected, abs=0.03)


def test_edges_absorb_the_tails_so_saturated_pixels_are_cheap() -> None:
    cost = coding_cost.nll_bits(np.array([0.0, 255.0]), np.array([-20.0, 280.0]), np.zeros(2))
    assert (cost < 1e-3).all()


def test_numpy_and_torch_likelihoods_agree() -> None:
    torch = pytest.importorskip("torch")
    from realeyes.training.surprisal.model import Coder, nll_bits

    high = np.random.default_rng(1).integers(0, 256, (32, 32)).astype(np.float64)
    inputs, targets = coding_cost.coder_inputs(high)
    with torch.inference_mode():
        outputs = Coder()(torch.from_numpy(inputs))
        reference = nll_bits(outputs, torch.from_numpy(targets)).numpy()
    mean, log_scale = coding_cost.outputs_to_pixels(outputs.numpy().astype(np.float64))
    exact = coding_cost.nll_bits(targets, mean, log_scale)
    # Training caps a pixel's cost near 20 bits for stable gradients; below the cap the two must agree.
    capped = reference > 19.9
    np.testing.assert_allclose(exact[~capped], reference[~capped], rtol=1e-3, atol=1e-3)
    assert (exact[capped] >= 19.9).all() and (~capped).mean() > 0.5


def test_smooth_images_cost_less_than_noisy_ones_under_the_same_coder() -> None:
    def run(inputs: np.ndarray) -> np.ndarray:  # a fixed coder: predicts the block mean, scale 2 grey levels
        out = np.zeros((inputs.shape[0], 2, *inputs.shape[2:]))
        out[:, 0] = inputs[:, 0]
        out[:, 1] = np.log(2.0) - np.log(255.0)
        return out

    rng = np.random.default_rng(2)
    smooth = np.full((64, 64), 120.0) + rng.normal(0, 0.5, (64, 64))
    noisy = np.full((64, 64), 120.0) + rng.normal(0, 8.0, (64, 64))
    (smooth_actual, smooth_expected), _ = coding_cost.coding_costs(smooth, run)
    (noisy_actual, noisy_expected), _ = coding_cost.coding_costs(noisy, run)
    assert smooth_expected == pytest.approx(noisy_expected)
    assert smooth_actual < smooth_expected < noisy_actual
