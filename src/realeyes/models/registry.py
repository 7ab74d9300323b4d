"""Which bundle serves each task: models/registry.json records promotions (who, when, which bundle)."""

from __future__ import annotations

import datetime
import getpass
import json
from pathlib import Path
from typing import Any

from realeyes.errors import ModelUnavailable
from realeyes.models.bundle import PARTIAL_PREFIX, Bundle, load_bundle

REGISTRY_FILE = "registry.json"


class Registry:
    """Bundles live in ROOT/<task>/<name>-<version>/; ROOT/registry.json names the promoted one per task."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _read(self) -> dict[str, Any]:
        path = self.root / REGISTRY_FILE
        return json.loads(path.read_text()) if path.is_file() else {"promoted": {}, "history": []}

    def bundles(self) -> list[Bundle]:
        found = []
        for card in sorted(self.root.glob("*/*/card.json")):
            if card.parent.name.startswith(PARTIAL_PREFIX):
                continue
            try:
                found.append(load_bundle(card.parent))
            except ModelUnavailable:
                continue
        return found

    def promoted_paths(self) -> dict[str, str]:
        """task -> bundle folder (relative to the root) of every promoted model."""
        return dict(self._read()["promoted"])

    def promoted(self, task: str) -> Bundle:
        entry = self._read()["promoted"].get(task)
        if entry is None:
            raise ModelUnavailable(
                f"No promoted {task} model in {self.root} (train one, then `realeyes models promote`)."
            )
        return load_bundle(self.root / entry)

    def record_candidate(self, entry: dict[str, Any]) -> None:
        """Keep every retraining decision (promoted or not) with the figures it was based on."""
        registry = self._read()
        registry.setdefault("candidates", []).append(
            {**entry, "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
        )
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / REGISTRY_FILE).write_text(json.dumps(registry, indent=2) + "\n")

    def promote(self, bundle_path: Path, note: str = "") -> Bundle:
        bundle = load_bundle(bundle_path)
        registry = self._read()
        relative = str(bundle_path.resolve().relative_to(self.root.resolve()))
        registry["promoted"][bundle.task] = relative
        registry["history"].append(
            {
                "task": bundle.task,
                "bundle": relative,
                "version": bundle.version,
                "promoted_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "by": getpass.getuser(),
                "note": note,
            }
        )
        (self.root / REGISTRY_FILE).write_text(json.dumps(registry, indent=2) + "\n")
        return bundle
