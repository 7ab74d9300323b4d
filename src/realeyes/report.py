"""The machine-readable scan record: a stable contract other tools parse (documented in docs/OUTPUT.md)."""

from __future__ import annotations

from typing import Any

from realeyes.verdict import Verdict

CSV_COLUMNS = [
    "path", "label", "p_fake", "threshold", "reasons", "c2pa_validation", "error_code", "error_message",
]  # fmt: skip


def verdict_record(path: str, verdict: Verdict, maps: dict[str, str] | None = None) -> dict[str, Any]:
    """A successful scan: the verdict's fields plus the path, `error: null` and any map files written."""
    return {"path": path, **verdict.to_dict(), "maps": maps or {}, "error": None}


def error_record(path: str, code: str, message: str, threshold: float) -> dict[str, Any]:
    """A file that could not be analysed: same keys, no verdict, and an error a person can act on."""
    return {
        "path": path,
        "label": None,
        "p_fake": None,
        "threshold": threshold,
        "reasons": [],
        "evidence": [],
        "media": {},
        "notes": [],
        "versions": {},
        "elapsed_ms": None,
        "maps": {},
        "error": {"code": code, "message": message},
    }


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """Flatten a record into the CSV columns (reasons joined with ' | ')."""
    c2pa: dict[str, Any] = next((e["details"] for e in record["evidence"] if e["analyzer"] == "c2pa"), {})
    error = record["error"] or {}
    return {
        "path": record["path"],
        "label": record["label"] or "",
        "p_fake": "" if record["p_fake"] is None else record["p_fake"],
        "threshold": record["threshold"],
        "reasons": " | ".join(record["reasons"]),
        "c2pa_validation": c2pa.get("validation", ""),
        "error_code": error.get("code", ""),
        "error_message": error.get("message", ""),
    }
