"""Each served model's card leads with its generalisation figures and says what weight the verdict gives it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from realeyes.models import Registry
from realeyes.models.bundle import CARD_FILE
from realeyes.training.generalisation.scores import CONDITIONS

# Promoted task -> (the detector's name in the report, the analyzer whose fusion weight applies)
CARD_DETECTORS = {
    "classifier": ("classifier", "classifier"),
    "surprisal": ("surprisal", "surprisal"),
    "localizer": ("localizer (manipulation vote)", "localizer"),
}


def card_block(report: dict[str, Any], detector: str, analyzer: str, command: str) -> dict[str, Any]:
    figures = report["detectors"][detector]
    shipped = report["shipped"]
    block: dict[str, Any] = {
        "data": report["data"],
        "command": command,
        "held_out_sources": figures["universe"],
        "accuse_target": report["targets"]["manipulation_vote" if analyzer in shipped["votes"] else "real_accused"],
        "conditions": {},
    }
    for condition in CONDITIONS:
        found = figures["conditions"].get(condition)
        if not found:
            continue
        pooled, across = found["pooled"], found["across_folds"]
        block["conditions"][condition] = {
            "auc": pooled["auc"],
            "auc_ci": pooled["auc_ci"],
            "mean_fold_auc": across["mean_auc"],
            "worst_fold_auc": across["worst_auc"],
            "real_accused": pooled["real_accused"]["rate"],
            "worst_real_fold_accused": across["worst_real_accused"],
            "generated_caught": pooled["generated_caught"]["rate"],
        }
    if analyzer in shipped["votes"]:
        block["verdict_role"] = f"votes 'manipulated' only at a score of {shipped['votes'][analyzer]} or more"
    else:
        weight = shipped["coefficients"].get(analyzer, 0.0)
        block["fusion_weight"] = weight
        block["verdict_role"] = (
            f"fusion coefficient {weight}"
            if weight > 0
            else "no fusion weight: it does not rank held-out sources better than chance (see conditions)"
        )
    return block


def attach_to_cards(report: dict[str, Any], models_dir: Path, command: str) -> list[Path]:
    """Write the `generalisation` block into every promoted card it concerns and re-render its card.md."""
    written = []
    for task, relative in Registry(models_dir).promoted_paths().items():
        if task not in CARD_DETECTORS or CARD_DETECTORS[task][0] not in report["detectors"]:
            continue
        folder = models_dir / relative
        card = json.loads((folder / CARD_FILE).read_text())
        card["generalisation"] = card_block(report, *CARD_DETECTORS[task], command)
        (folder / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
        markdown = folder / "card.md"
        markdown.write_text(with_generalisation(markdown.read_text(), card["generalisation"]))
        written.append(folder)
    return written


def render_block(block: dict[str, Any]) -> str:
    lines = [
        _START,
        "## Generalisation: sources it never saw (read this first)",
        "",
        f"Leave-one-source-out benchmark (../shared/docs/EVALUATION.md) on {len(block['held_out_sources'])} held-out "
        f"sources: {', '.join(block['held_out_sources'])}. Command: `{block['command']}`. In the verdict: "
        f"{block['verdict_role']}. Accused and caught: this detector alone, its thresholds calibrated per fold "
        f"the way the verdict's are (at most {block['accuse_target']:.0%} of other sources' real photos accused, "
        "as they are, laundered and hard alike).",
        "",
        "| condition | AUC (95 % CI) | mean fold AUC | worst fold AUC | real photos accused | worst real fold | "
        "generated caught |",
        "|---|---|---|---|---|---|---|",
    ]
    for condition, f in block["conditions"].items():
        low, high = f["auc_ci"] or (None, None)
        lines.append(
            f"| {condition} | {f['auc']} ({low}–{high}) | {f['mean_fold_auc']} | {f['worst_fold_auc']} "
            f"| {f['real_accused']} | {f['worst_real_fold_accused']} | {f['generated_caught']} |"
        )
    return "\n".join([*lines, "", _END, ""])


_START, _END = "<!-- generalisation -->", "<!-- /generalisation -->"


def with_generalisation(markdown: str, block: dict[str, Any]) -> str:
    """The card's Markdown with the generalisation section right under its title (replacing an older one)."""
    if _START in markdown:
        before, rest = markdown.split(_START, 1)
        markdown = before + rest.split(_END, 1)[1].lstrip("\n")
    title, _, body = markdown.partition("\n")
    return f"{title}\n\n{render_block(block)}{body.lstrip(chr(10))}"
