"""Export a trained classifier to an ONNX bundle: parity check against torch, calibration, model card."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from realeyes.models.bundle import CARD_FILE, MODEL_FILE, sha256_of
from realeyes.training.model import ClassifierConfig, ResidualClassifier
from realeyes.training.onnx_export import parity, write_onnx


def load_checkpoint(path: Path) -> tuple[ResidualClassifier, dict[str, Any]]:
    checkpoint = torch.load(path, weights_only=True)  # plain dicts and tensors: no pickled code runs
    model_config = checkpoint["config"]["model"]
    model = ResidualClassifier(
        ClassifierConfig(widths=tuple(model_config["widths"]), residual_gain=model_config["residual_gain"])
    )
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint


def export_onnx(model: ResidualClassifier, path: Path, crop: int) -> float:
    """Write the ONNX graph (dynamic batch and size) and return the max |ONNX - torch| logit difference."""
    dims = {0: torch.export.Dim("batch", min=1, max=64), 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    write_onnx(model, path, torch.rand(2, 3, crop, crop), dims, "logit")
    return parity(model, path, [(4, 3, crop, crop), (1, 3, crop + 64, crop - 32)])


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


def render_card(card: dict[str, Any]) -> str:
    """The model card for people: the same facts as card.json."""
    lines = [f"# {card['name']} {card['version']} ({card['task']})", "", card.get("description", ""), ""]
    lines += ["## Input", "", "```json", json.dumps(card["input"], indent=2), "```", ""]
    lines += [f"Threshold {card['threshold']}; calibration {json.dumps(card['calibration'])}.", ""]
    lines += ["## Training data", ""] + [f"- {item}" for item in card["training_data"]] + [""]
    if selection := card.get("selection_data"):
        lines += ["## Held out of training to choose the recipe on", ""]
        lines += [f"- {name}: licence {licence}" for name, licence in selection["sources"].items()]
        auc = json.dumps(selection["auc"])
        lines += ["", f"AUC on them, scored as the generalisation benchmark scores: `{auc}`", ""]
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
