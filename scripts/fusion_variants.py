"""Other input sets for the fused verdict, against the classifier alone, from the benchmark's cached scores.

Usage (repository root, project virtualenv, after `realeyes evaluate ../shared/data --protocol generalisation`):
    python scripts/fusion_variants.py [--out reports/generalisation] [--inputs classifier,reconstruction ...] \
        [--pair reconstruction,surprisal ...]

Each variant is the engine's fusion of the named score columns, refitted per pair of held-out sources exactly as
the shipped one is (`protocol.fusion`, `protocol.rankings`), and compared with the classifier alone on the same
comparisons (`summary.auc_difference`, paired bootstrap 95 % interval). Every variant is ranked on the shipped
fused verdict's held-out images, so the figures line up with the report's. A research tool: it records what
another input set would give; it changes nothing that ships. Then pairs of single detectors, each compared on the
sources neither saw, paired the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from realeyes.training.generalisation.benchmark import FUSED_INPUTS, SEEN, detectors
from realeyes.training.generalisation.protocol import Table, fixed, fusion, rankings
from realeyes.training.generalisation.reconstruction import with_reconstruction
from realeyes.training.generalisation.scores import CONDITIONS, read_rows
from realeyes.training.generalisation.summary import auc_difference, auc_from_wins

DEFAULT_VARIANTS = ["classifier,reconstruction", "classifier,surprisal,reconstruction"]
DEFAULT_PAIRS = ["reconstruction,surprisal"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/generalisation"))
    parser.add_argument("--inputs", action="append", help="Comma-separated score names (repeatable).")
    parser.add_argument("--pair", action="append", help="Two single detectors to compare, A,B (repeatable).")
    args = parser.parse_args()

    table = Table.from_rows(with_reconstruction(read_rows(args.out / "scores.csv"), args.out))
    found = {d.name: d for d in detectors(table)}
    universe = found["fused"].universe(table)
    alone = rankings(found["classifier"], table, universe, CONDITIONS)
    print("| fused inputs | " + " | ".join(f"{c}: AUC, minus classifier (95 % CI)" for c in CONDITIONS) + " |")
    print("|---|" + "---|" * len(CONDITIONS))
    for variant in [",".join(FUSED_INPUTS), *(args.inputs or DEFAULT_VARIANTS)]:
        names = _scored(table, variant, args.out)
        detector = fusion(variant, [f"score_{n}" for n in names], frozenset().union(*(SEEN.get(n, ()) for n in names)))
        if detector.universe(table) != universe:
            raise SystemExit(f"{variant}: its inputs saw sources the shipped fused verdict is tested on")
        ranked = rankings(detector, table, universe, CONDITIONS)
        print(f"| {variant} | " + " | ".join(_cell(ranked[c].wins, alone[c].wins) for c in CONDITIONS) + " |")

    # Single detectors compared on the same images: the sources neither saw.
    print("\n| A,B | " + " | ".join(f"{c}: AUC of A, A minus B (95 % CI)" for c in CONDITIONS) + " |")
    print("|---|" + "---|" * len(CONDITIONS))
    for pair in args.pair or DEFAULT_PAIRS:
        first, second = (fixed(n, f"score_{n}", SEEN.get(n, frozenset())) for n in _scored(table, pair, args.out))
        shared = [s for s in first.universe(table) if s in second.universe(table)]
        a, b = rankings(first, table, shared, CONDITIONS), rankings(second, table, shared, CONDITIONS)
        print(f"| {pair} | " + " | ".join(_cell(a[c].wins, b[c].wins) for c in CONDITIONS) + " |")


def _scored(table: Table, names: str, out: Path) -> list[str]:
    """The comma-separated score names, each checked to be in the table."""
    listed = names.split(",")
    absent = [name for name in listed if f"score_{name}" not in table.columns]
    if absent:  # reconstruction, the autoencoder distance, is scored by `realeyes evaluate ... --reconstruction`
        raise SystemExit(f"no {', '.join(absent)} scores in {out}")
    return listed


def _cell(first: np.ndarray, second: np.ndarray) -> str:
    difference = auc_difference(first, second)
    if difference["difference"] is None:
        return "–"  # no real-vs-generated comparison held out (a data folder without one class)
    low, high = difference["ci"]
    return f"{auc_from_wins(first)['auc']:.3f}, {difference['difference']:+.3f} ({low:+.3f} to {high:+.3f})"


if __name__ == "__main__":
    main()
