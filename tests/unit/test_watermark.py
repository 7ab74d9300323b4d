"""Watermark analyzer against marks embedded by the real invisible-watermark package."""

from __future__ import annotations

import importlib.util
from typing import Any

import cv2
import numpy as np
import pytest

from realeyes import samples
from realeyes.analyzers import create
from realeyes.analyzers.watermark import KNOWN_MARKS, block_votes, chance_of_matches, decode_bits
from realeyes.media import load_media


def invisible_watermark_embedder() -> Any:
    """invisible-watermark's dwtDct embedder, loaded from its own file: the package's __init__ imports torch."""
    package = importlib.util.find_spec("imwatermark")
    if package is None or package.submodule_search_locations is None:
        pytest.skip("invisible-watermark is not installed (make test installs it)")
    path = f"{next(iter(package.submodule_search_locations))}/maxDct.py"
    spec = importlib.util.spec_from_file_location("imwatermark_maxdct", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EmbedMaxDct


def embed(rgb: np.ndarray, bits: tuple[int, ...], swap_channels: bool = False) -> np.ndarray:
    """Embed as WatermarkEncoder.encode(bgr, 'dwtDct') does; return RGB."""
    embedder = invisible_watermark_embedder()(list(bits), wmLen=len(bits), scales=[0, 36, 36], block=4)
    bgr = rgb if swap_channels else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    marked = embedder.encode(np.ascontiguousarray(bgr))
    return marked if swap_channels else cv2.cvtColor(marked, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def square() -> np.ndarray:
    return samples.photo_like(512, 512, seed=7)


@pytest.fixture(scope="module")
def smooth() -> np.ndarray:
    """A flat colour with faint noise, on which the embedder round-trips every bit (it does not on every colour)."""
    noise = np.random.default_rng(0).normal(0.0, 2.0, size=(512, 512, 3))
    return np.clip(np.array([100.0, 140.0, 120.0]) + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("mark", KNOWN_MARKS, ids=lambda mark: mark.name.split(" (")[0])
def test_known_marks_are_found_exactly_when_the_embedder_round_trips(smooth: np.ndarray, mark: Any) -> None:
    evidence = create("watermark").analyze(load_media(samples.png_bytes(embed(smooth, mark.bits))))
    assert evidence.decisive and evidence.label == "ai-generated"
    assert evidence.details["best"]["mark"] == mark.name
    assert evidence.details["best"]["matching_bits"] == len(mark.bits)


@pytest.mark.parametrize("mark", [KNOWN_MARKS[0], KNOWN_MARKS[2]], ids=["sd1", "sdxl"])
def test_long_marks_survive_the_embedders_own_losses_on_textured_images(square: np.ndarray, mark: Any) -> None:
    # On textured images the embedder itself loses bits (its decoder recovers ~80%); the binomial rule still
    # finds the long marks, because that many matching bits by chance is far below one in a million.
    evidence = create("watermark").analyze(load_media(samples.png_bytes(embed(square, mark.bits))))
    assert evidence.decisive and evidence.details["best"]["mark"] == mark.name
    assert 0.75 * len(mark.bits) <= evidence.details["best"]["matching_bits"] < len(mark.bits)


def test_decoded_sd1_message_is_readable(smooth: np.ndarray) -> None:
    marked = embed(smooth, KNOWN_MARKS[0].bits)
    evidence = create("watermark").analyze(load_media(samples.png_bytes(marked)))
    assert evidence.details["sd1_text"] == "StableDiffusionV1"


def test_mark_embedded_in_rgb_order_is_found_too(smooth: np.ndarray) -> None:
    sdxl = KNOWN_MARKS[2]
    marked = embed(smooth, sdxl.bits, swap_channels=True)
    evidence = create("watermark").analyze(load_media(samples.png_bytes(marked)))
    assert evidence.decisive and evidence.details["best"]["channel_order"] == "rgb"


@pytest.mark.parametrize("length", [32, 48, 136])
def test_our_decoder_agrees_bit_for_bit_with_the_package_decoder(square: np.ndarray, length: int) -> None:
    bits = tuple(int(b) for b in np.random.default_rng(length).integers(0, 2, length))
    bgr = cv2.cvtColor(embed(square, bits), cv2.COLOR_RGB2BGR)
    theirs = invisible_watermark_embedder()([], wmLen=length, scales=[0, 36, 36], block=4).decode(bgr)
    assert decode_bits(block_votes(bgr), length).tolist() == np.asarray(theirs, dtype=np.uint8).tolist()


def test_unmarked_image_has_no_match(square: np.ndarray) -> None:
    evidence = create("watermark").analyze(load_media(samples.png_bytes(square)))
    assert evidence.score is None and evidence.details["best"]["chance"] > 1e-6


def test_small_images_are_not_checked() -> None:
    evidence = create("watermark").analyze(load_media(samples.png_bytes(samples.photo_like(200, 200))))
    assert evidence.details["checked"] is False and evidence.score is None


def test_chance_of_matches_is_a_binomial_tail() -> None:
    assert chance_of_matches(32, 32) == pytest.approx(2.0**-32)
    assert chance_of_matches(0, 10) == pytest.approx(1.0)
