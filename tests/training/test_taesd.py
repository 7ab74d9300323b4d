"""TAEF2 tiny autoencoder: strict weight loading, shapes, reconstruction error and tiling.

Needs torch and the MIT-licensed weights (``$REALEYES_TAESD_DIR`` or ``../shared/data/weights/taesd``); the whole
module is skipped without either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from realeyes.training import taesd  # noqa: E402  (needs torch, checked just above)

WEIGHTS = taesd.default_weights_dir()
if not all((WEIGHTS / name).is_file() for name in (taesd.ENCODER_FILE, taesd.DECODER_FILE)):
    pytest.skip(
        f"TAEF2 weights not found in {WEIGHTS} (set {taesd.ENV_VAR} to the directory holding "
        f"{taesd.ENCODER_FILE} and {taesd.DECODER_FILE})",
        allow_module_level=True,
    )

pytestmark = pytest.mark.shared_data

# Mean absolute error bound for the smooth test image, in [0, 1] units. Measured: 0.0245 on `_smooth(256, 256)`
# (the weights' MANIFEST reports 0.033 on its own gradient). 0.04 leaves room for BLAS/thread-count numerical noise
# and other smooth content, yet a mis-wired network fails it clearly: applying the GroupNorm pool to the body only
# (skip on the un-pooled input) gives 0.127, dropping the pools gives 0.133, an all-grey output ~0.2.
SMOOTH_MAE_BOUND = 0.04


def _smooth(height: int, width: int) -> np.ndarray:
    """Smooth RGB uint8 test image: a linear gradient per channel plus a slow sinusoid (no edges, no noise)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    image = np.stack([u, v, 0.5 + 0.35 * np.sin(2 * np.pi * (u + v) / 2) * (1 - u)], axis=-1)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / 255)


@pytest.fixture(scope="module")
def model() -> taesd.TinyAutoencoder:
    return taesd.load_taef2(WEIGHTS)


def test_state_dicts_load_strictly() -> None:
    for name, network, params in (
        (taesd.ENCODER_FILE, taesd.build_encoder(), 1_338_528),
        (taesd.DECODER_FILE, taesd.build_decoder(), 1_338_499),
    ):
        state = torch.load(WEIGHTS / name, map_location="cpu", weights_only=True)
        result = network.load_state_dict(state, strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        assert sum(p.numel() for p in network.parameters()) == params


def test_loaded_model_is_float32_eval(model: taesd.TinyAutoencoder) -> None:
    assert not model.training
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    with torch.inference_mode():
        latent = model.encode(torch.rand(1, 3, 64, 96))
        assert latent.shape == (1, 32, 8, 12)
        assert model.decode(latent).shape == (1, 3, 64, 96)


def test_missing_weights_raise_with_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match=taesd.ENV_VAR) as excinfo:
        taesd.load_taef2(tmp_path)
    assert str(tmp_path) in str(excinfo.value)
    monkeypatch.setenv(taesd.ENV_VAR, str(tmp_path))
    assert taesd.default_weights_dir() == tmp_path


def test_output_shape_matches_non_multiple_of_8_input(model: taesd.TinyAutoencoder) -> None:
    image = _smooth(250, 333)
    out = taesd.reconstruct(model, image)
    assert out.shape == image.shape and out.dtype == np.uint8


def test_smooth_image_reconstructs_closely_but_not_identically(model: taesd.TinyAutoencoder) -> None:
    image = _smooth(256, 256)
    out = taesd.reconstruct(model, image)
    assert _mae(out, image) < SMOOTH_MAE_BOUND
    changed = np.any(out != image, axis=-1).mean()
    assert changed > 0.5, f"only {changed:.1%} of pixels changed"


def test_tiling_matches_a_whole_image_pass(model: taesd.TinyAutoencoder) -> None:
    """Two 256 px tiles (128 px overlap) vs one pass: GroupNorm runs on the whole 1/8 map, so no tile seams."""
    image = _smooth(128, 384)
    whole = taesd.reconstruct(model, image, tile=4096)
    tiled = taesd.reconstruct(model, image, tile=256, overlap=128)
    diff = np.abs(tiled.astype(np.int16) - whole.astype(np.int16))
    assert diff.max() <= 2 and diff.mean() < 0.01


def test_rejects_non_rgb_uint8(model: taesd.TinyAutoencoder) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        taesd.reconstruct(model, np.zeros((16, 16), dtype=np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        taesd.reconstruct(model, np.zeros((16, 16, 3), dtype=np.float32))


def test_1024_image_goes_through_tiles(model: taesd.TinyAutoencoder) -> None:
    image = _smooth(1024, 1024)
    out = taesd.reconstruct(model, image)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert _mae(out, image) < SMOOTH_MAE_BOUND
