"""The coder's pipeline end to end on a tiny generated stand-in for ../shared/data: train a few steps through the
shared loop, export a bundle, serve it. The figures mean nothing (photo-like noise, a few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

from realeyes import samples
from realeyes.analyzers.surprisal import SurprisalAnalyzer
from realeyes.cli import main
from realeyes.config import Settings
from realeyes.media import load_media
from realeyes.training.generalisation.validation import VALIDATION
from realeyes.training.surprisal.build import Layout, cheapest_close, coded_pixels, serving_cost
from realeyes.training.surprisal.train import TRAINING_SOURCES


def toy_shared(root: Path) -> Path:
    """Real training photos in the coder's two sources; real and 'generated' validation images (the fakes are
    the same scenes blurred, so that the statistic has something to rank)."""
    for index, source in enumerate(TRAINING_SOURCES * 2):
        folder = root / source
        folder.mkdir(parents=True, exist_ok=True)
        photo = samples.photo_like(320, 320, seed=40 + index)
        (folder / f"{index}.jpg").write_bytes(samples.jpeg_bytes(photo, quality=92))
    for label in ("real", "fake"):
        for index in range(3):
            folder = root / VALIDATION / label / "person"
            folder.mkdir(parents=True, exist_ok=True)
            photo = samples.photo_like(256, 256, seed=80 + index)
            if label == "fake":
                photo = (photo.astype(np.float32) * 0.5 + photo.mean() * 0.5).astype(np.uint8)
            (folder / f"{index}.jpg").write_bytes(samples.jpeg_bytes(photo, quality=92))
    return root


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_coder_trains_through_the_shared_loop_and_exports_a_served_bundle(tmp_path: Path) -> None:
    shared, work, bundle = toy_shared(tmp_path / "shared"), tmp_path / "work", tmp_path / "bundle"
    settings = [f"workdir={work}", f"shared={shared}", "max_steps=4", "eval_every=2", "batch_size=2"]
    summary = json.loads(invoke("model", "surprisal", "train", *(f"--set={setting}" for setting in settings)))
    assert summary["steps"] == 4
    history = json.loads((work / "coder.history.json").read_text())
    assert [point["step"] for point in history["curve"]] == [2, 4]
    assert all(point["train_bits_per_pixel"] > 0 for point in history["curve"])
    assert (work / "coder.last.pt").is_file()  # what --resume carries on from

    invoke("surprisal", "export", "--workdir", str(work), "--shared", str(shared), "--version", "0.0.1",
           "--out", str(bundle))  # fmt: skip
    card = json.loads((bundle / "card.json").read_text())
    assert card["task"] == "surprisal" and card["training"]["config"]["max_steps"] == 4
    assert card["onnx_parity_max_abs_diff"] < 1e-3 and len(card["reference"]["values"]) > 0
    # Chosen on the forms users meet: laundered, and hard real photos against laundered fakes.
    selection = card["statistic"]["selection"]
    assert "laundered; real also hard" in selection["data"] and "laundered and hard" in selection["rule"]
    chosen = selection["figures"][f"{card['statistic']['name']}, {card['input']['crops']} x {card['input']['crop']} px"]
    assert chosen["selection"] == pytest.approx((chosen["laundered"] + chosen["hard"]) / 2)
    analyzer = SurprisalAnalyzer.from_bundle(bundle)
    photo = samples.jpeg_bytes(samples.photo_like(400, 400, seed=7), quality=90)
    evidence = analyzer.analyze(load_media(photo, Settings()))
    assert evidence.score is not None and 0.0 <= evidence.score <= 1.0

    # A new layout and reference around the same network, without its checkpoint.
    rebuilt = tmp_path / "rebuilt"
    invoke("surprisal", "export", "--network", str(bundle), "--shared", str(shared), "--version", "0.0.2",
           "--out", str(rebuilt))  # fmt: skip
    again = json.loads((rebuilt / "card.json").read_text())
    assert (rebuilt / "model.onnx").read_bytes() == (bundle / "model.onnx").read_bytes()
    assert again["network_from"].startswith("realeyes-coding-cost-0.0.1") and again["training"] == card["training"]
    assert again["input"] == card["input"] and again["reference"] == card["reference"]  # same data, same choice


def test_the_statistic_and_layout_are_the_cheapest_to_serve_among_those_tied_for_the_best() -> None:
    assert coded_pixels([0.0, 0.0, -1.0, 1.0]) == 1 and coded_pixels([-1.0, 1.0, -1.0, 1.0]) == 5  # half; both
    four, one = Layout(4, 192), Layout(1, 192)
    assert serving_cost("gap, half resolution", one) * 4 == serving_cost("gap, half resolution", four)
    tied = {
        ("gap, both scales", four): 0.800,
        ("gap, half resolution", four): 0.797,
        ("gap, full resolution", four): 0.765,
    }
    assert cheapest_close(tied) == ("gap, half resolution", four)  # a 0.003 gain is not worth five times the coding
    apart = {
        ("gap, both scales", four): 0.82,
        ("gap, half resolution", four): 0.79,
        ("gap, full resolution", four): 0.815,
    }
    assert cheapest_close(apart) == ("gap, full resolution", four)  # within 0.01 of the best, cheaper than both
    fewer = {("gap, half resolution", four): 0.80, ("gap, half resolution", one): 0.792}
    assert cheapest_close(fewer) == ("gap, half resolution", one)  # a quarter of the crops, within the tolerance
    assert cheapest_close({**fewer, ("gap, half resolution", one): 0.785}) == ("gap, half resolution", four)
