"""The benchmark report as Markdown: what MODELS.md and the model cards lead with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from realeyes.training.generalisation.scores import CONDITIONS

REPORT_JSON, REPORT_MD = "generalisation.json", "generalisation.md"


def _pct(figure: dict[str, Any] | None) -> str:
    if not figure or figure.get("rate") is None:
        return "–"
    low, high = figure["ci"]
    return f"{figure['rate']:.1%} ({low:.0%}–{high:.0%})"


def _auc(figures: dict[str, Any]) -> str:
    if figures.get("auc") is None:
        return "–"
    low, high = figures["auc_ci"]
    return f"{figures['auc']:.3f} ({low:.2f}–{high:.2f})"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def headline(report: dict[str, Any]) -> list[str]:
    """One row per detector and condition: pooled and across held-out folds."""
    lines = [
        "| detector | condition | held-out sources (real / generated) | AUC pooled (95 % CI) | AUC mean fold | "
        "AUC worst fold | real photos accused | worst real fold accused | generated caught | inconclusive |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, detector in report["detectors"].items():
        for condition in CONDITIONS:
            figures = detector["conditions"].get(condition)
            if not figures:
                continue
            pooled, across, folds = figures["pooled"], figures["across_folds"], figures["folds"]
            n_real = sum(1 for f in folds.values() if f["class"] == "real")
            n_fake = sum(1 for f in folds.values() if f["class"] == "generated")
            lines.append(
                f"| {name} | {condition} | {n_real} / {n_fake} ({pooled['n_real']} / {pooled['n_generated']} images) "
                f"| {_auc(pooled)} | {_num(across['mean_auc'])} | {_num(across['worst_auc'])} "
                f"| {_pct(pooled['real_accused'])} | {_num(across['worst_real_accused'])} "
                f"| {_pct(pooled['generated_caught'])} | {_pct(pooled['inconclusive'])} |"
            )
    return lines


def against_inputs(report: dict[str, Any]) -> list[str]:
    """The fused verdict's AUC minus each input's on the same held-out images, with paired intervals."""
    lines = ["| fused minus | " + " | ".join(CONDITIONS) + " |", "|---|" + "---|" * len(CONDITIONS)]
    for name, conditions in report["fused_against_inputs"].items():
        cells = [_difference(conditions[c]) for c in CONDITIONS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _difference(figure: dict[str, Any]) -> str:
    if figure["difference"] is None:
        return "–"
    low, high = figure["ci"]
    return f"{figure['difference']:+.4f} ({low:+.4f} to {high:+.4f})"


def fold_table(report: dict[str, Any], detector: str, condition: str) -> list[str]:
    figures = report["detectors"][detector]["conditions"][condition]
    lines = [
        "| held-out source | class | images | accused / caught | inconclusive | called authentic | AUC (95 % CI) |",
        "|---|---|---|---|---|---|---|",
    ]
    for source, fold in figures["folds"].items():
        flagged = fold.get("accused") or fold.get("caught")
        lines.append(
            f"| {source} | {fold['class']} | {fold['n']} | {_pct(flagged)} | {_pct(fold['inconclusive'])} "
            f"| {_pct(fold['authentic'])} | {_auc(fold)} |"
        )
    return lines


def render(report: dict[str, Any]) -> str:
    shipped = report["shipped"]
    lines = [
        "# Generalisation benchmark",
        "",
        f"Protocol: {report['protocol']}. Data: {report['data']}. Created {report['created']}.",
        "",
        "Every detector is tested only on sources none of its models trained on (its *universe*); fitted fusions "
        "and every threshold are refitted per fold without the held-out source. `laundered`: resized to 512 px, "
        "centre-cropped, JPEG q70-95, identically for both classes; `hard`: real photos upscaled, denoised, "
        "low-light or recompressed before laundering, ranked against laundered generated images. Rates carry "
        "95 % Wilson intervals, AUCs stratified bootstrap intervals. A detector marked *benchmark only* is "
        "scored for the record: it is never fused or served.",
        "",
        f"Targets on calibration sources: {json.dumps(report['targets'])}.",
        "",
        "## Every detector",
        "",
        *headline(report),
        "",
        "## The fused verdict against each of its inputs",
        "",
        "AUC of the fused verdict minus the input's alone, on the fused verdict's held-out images (every comparison "
        "made by a fusion fitted without either source), with a paired bootstrap 95 % interval: an interval "
        "that holds 0 is a difference these images cannot tell from noise.",
        "",
        *against_inputs(report),
        "",
        "## The verdict per held-out source (laundered)",
        "",
        *fold_table(report, "verdict (fused + localizer vote)", "laundered"),
        "",
        "## Shipped calibration (models/fusion.json)",
        "",
        "```json",
        json.dumps(shipped, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


def write_report(report: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n")
    (out / REPORT_MD).write_text(render(report))
    return out / REPORT_MD
