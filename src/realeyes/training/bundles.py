"""From a checkpoint to a bundle, the same steps for every model pipeline (`build_bundle`: ONNX with a parity
check, optional int8, calibration on validation data, evaluation on held-out data), and the card that records
them (card.json, with its sha256 and provenance, and card.md for people)."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realeyes.models.bundle import CARD_FILE, MODEL_FILE, PARTIAL_PREFIX, sha256_of


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def write_bundle(folder: Path, model_file: Path, card: dict[str, Any]) -> Path:
    """Finish a bundle: stamp the card with the ONNX sha256, provenance, and a rendered Markdown copy."""
    folder.mkdir(parents=True, exist_ok=True)
    if model_file != folder / MODEL_FILE:
        (folder / MODEL_FILE).write_bytes(model_file.read_bytes())
    card = {
        **card,
        "sha256": sha256_of(folder / MODEL_FILE),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(Path(sys.argv[0]).name if i == 0 else arg for i, arg in enumerate(sys.argv)),
        "commit": git_commit(),
    }
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    (folder / "card.md").write_text(render_card(card))
    return folder


Card = dict[str, Any]


@dataclass(frozen=True)
class BundleSteps:
    """What one model pipeline contributes; `build_bundle` runs the steps in the same order for every task. Each
    step after the export reads the bundle as written so far (its folder) and returns the card fields it adds."""

    card: Card  # what the model is and how it was trained (its `onnx_parity_max_abs_diff` and `metrics` are filled)
    export: Callable[[Path], float]  # writes the ONNX graph; returns the largest |ONNX - torch| output difference
    calibrate: Callable[[Path], Card]  # fitted on validation data, with the uncalibrated bundle
    evaluate: Callable[[Path], Card]  # measured on held-out data, with the calibrated bundle
    int8: Callable[[Path], Card] | None = None  # the int8 decision under its tolerance (it may replace the graph)
    render: Callable[[Card], str] | None = None  # card.md (default: render_card)


def build_bundle(folder: Path, steps: BundleSteps) -> Path:
    """Export, (int8), calibrate, evaluate: a bundle whose card says what each step measured.

    The steps run in a scratch folder beside `folder` (hidden from the registry), moved into place only when all
    have passed: a failed or interrupted export leaves no half-made bundle to list or promote, and a failed
    re-export of a version leaves the one already there untouched."""
    folder = folder.resolve()
    if folder.is_dir() and any(folder.iterdir()) and not (folder / CARD_FILE).is_file():
        raise ValueError(f"{folder} holds files but no bundle: export to a new folder (it would be replaced)")
    scratch = folder.with_name(f"{PARTIAL_PREFIX}{folder.name}")
    shutil.rmtree(scratch, ignore_errors=True)  # left by an export that was killed
    scratch.mkdir(parents=True)
    try:
        _run_steps(scratch, steps)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    if folder.exists():
        shutil.rmtree(folder)  # the same version exported again
    scratch.rename(folder)
    return folder


def _run_steps(folder: Path, steps: BundleSteps) -> None:
    card = {**steps.card, "onnx_parity_max_abs_diff": steps.export(folder / MODEL_FILE), "metrics": {}}
    write_bundle(folder, folder / MODEL_FILE, card)
    if steps.int8 is not None:
        card["quantization"] = steps.int8(folder)
        write_bundle(folder, folder / MODEL_FILE, card)
    card.update(steps.calibrate(folder))
    write_bundle(folder, folder / MODEL_FILE, card)
    # The evaluation leaves the graph as it is: the card keeps the provenance stamped with its sha256.
    final = {**json.loads((folder / CARD_FILE).read_text()), **steps.evaluate(folder)}
    (folder / CARD_FILE).write_text(json.dumps(final, indent=2) + "\n")
    (folder / "card.md").write_text((steps.render or render_card)(final))


def render_card(card: dict[str, Any]) -> str:
    """The model card for people: the same facts as card.json."""
    lines = [f"# {card['name']} {card['version']} ({card['task']})", "", card.get("description", ""), ""]
    lines += ["## Input", "", "```json", json.dumps(card["input"], indent=2), "```", ""]
    lines += [f"Threshold {card['threshold']}; calibration {json.dumps(card['calibration'])}.", ""]
    lines += ["## Training data", ""] + [f"- {item}" for item in card["training_data"]] + [""]
    if selection := card.get("selection_data"):
        lines += ["## Held out of training to choose the recipe on", ""]
        lines += [f"- {name}: licence {licence}" for name, licence in selection["sources"].items()]
        figures = json.dumps(selection["auc"])  # the key predates the tail figure; cards keep it
        lines += ["", "Scored as the generalisation benchmark scores (AUC per condition, their `selection` figure and,"]
        lines += [f"where recorded, the tail `accused_at_quarter_caught`): `{figures}`", ""]
    lines += ["## What was synthetic", "", card["synthetic"], ""]
    lines += ["## Metrics", "", "Held-out data only; see each block's `data` for exactly what it was measured on.", ""]
    lines += ["```json", json.dumps(card["metrics"], indent=2), "```", ""]
    lines += ["## Limitations", ""] + [f"- {item}" for item in card["limitations"]] + [""]
    lines += [
        "## Provenance",
        "",
        f"- sha256 `{card['sha256']}`",
        f"- command `{card['command']}`",
        f"- commit `{card['commit']}`",
        f"- created {card['created']}",
        "",
    ]
    return "\n".join(lines)
