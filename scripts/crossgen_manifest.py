"""Write the cross-generator evaluation manifest: the test split plus every image of the held-out generators.

Usage: python scripts/crossgen_manifest.py MANIFEST PREFIX [PREFIX ...] > crossgen.csv
(a model trained with `realeyes train --hold-out PREFIX` saw none of those generators in any split).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def main(manifest: Path, prefixes: tuple[str, ...]) -> None:
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        if row["split"] == "test" or (row["label"] == "1" and row["generator"].startswith(prefixes)):
            writer.writerow({**row, "split": "test"})


if __name__ == "__main__":
    main(Path(sys.argv[1]), tuple(sys.argv[2:]))
