"""Other input sets for the fused verdict, against the classifier alone, from the benchmark's cached scores.

Usage (repository root, project virtualenv, after `realeyes evaluate ../shared/data --protocol generalisation`):
    python scripts/fusion_variants.py [--out reports/generalisation] [--inputs classifier,reconstruction ...]

Each variant is the engine's fusion of the named score columns, refitted per pair of held-out sources exactly as
the shipped one is (`protocol.fusion`, `protocol.rankings`), and compared with the classifier alone on the same
comparisons (`summary.auc_difference`, paired bootstrap 95 % interval). Every variant is ranked on the shipped
fused verdict's held-out images, so the figures line up with the report's. A research tool: it records what
another input set would give; it changes nothing that ships.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from realeyes.training.generalisation.benchmark import FUSED_INPUTS, RECONSTRUCTION, SEEN, detectors
from realeyes.training.generalisation.protocol import Table, fusion, rankings
from realeyes.training.generalisation.reconstruction import with_reconstruction
from realeyes.training.generalisation.scores import CONDITIONS, read_rows
from realeyes.training.generalisation.summary import auc_difference, auc_from_wins
from realeyes.training.generalisation.validation import VALIDATION_SOURCES

DEFAULT_VARIANTS = ["classifier,reconstruction", "classifier,surprisal,reconstruction"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/generalisation"))
    parser.add_argument("--inputs", action="append", help="Comma-separated score names (repeatable).")
    args = parser.parse_args()

    table = Table.from_rows(with_reconstruction(read_rows(args.out / "scores.csv"), args.out))
    found = {d.name: d for d in detectors(table)}
    universe = found["fused"].universe(table)
    alone = rankings(found["classifier"], table, universe, CONDITIONS)
    seen = dict(SEEN, reconstruction=VALIDATION_SOURCES)
    print("| inputs | " + " | ".join(f"{c}: AUC, minus classifier (95 % CI)" for c in CONDITIONS) + " |")
    print("|---|" + "---|" * len(CONDITIONS))
    for variant in [",".join(FUSED_INPUTS), *(args.inputs or DEFAULT_VARIANTS)]:
        names = variant.split(",")
        if "reconstruction" in names and RECONSTRUCTION not in found:
            raise SystemExit(f"no reconstruction scores in {args.out}: run the benchmark with --reconstruction")
        detector = fusion(variant, [f"score_{n}" for n in names], frozenset().union(*(seen.get(n, ()) for n in names)))
        if detector.universe(table) != universe:
            raise SystemExit(f"{variant}: its inputs saw sources the shipped fused verdict is tested on")
        ranked = rankings(detector, table, universe, CONDITIONS)
        cells = [_cell(ranked[c].wins, alone[c].wins) for c in CONDITIONS]
        print(f"| {variant} | " + " | ".join(cells) + " |")


def _cell(fused: np.ndarray, classifier: np.ndarray) -> str:
    difference = auc_difference(fused, classifier)
    if difference["difference"] is None:
        return "–"  # no real-vs-generated comparison held out (a data folder without one class)
    low, high = difference["ci"]
    return f"{auc_from_wins(fused)['auc']:.3f}, {difference['difference']:+.3f} ({low:+.3f} to {high:+.3f})"


if __name__ == "__main__":
    main()
