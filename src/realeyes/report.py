"""What a scan reports: the machine-readable record, a stable contract other tools parse (documented in
docs/OUTPUT.md), and text from files made safe to print on a terminal."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from realeyes.verdict import Verdict

CSV_COLUMNS = [
    "path", "label", "p_fake", "threshold", "reasons", "c2pa_validation", "error_code", "error_message",
]  # fmt: skip


def verdict_record(
    path: str, verdict: Verdict, maps: dict[str, str] | None = None, frames: dict[str, str] | None = None
) -> dict[str, Any]:
    """A successful scan: the verdict's fields plus the path, `error: null` and any map and key-frame files
    written."""
    return {"path": path, **verdict.to_dict(), "maps": maps or {}, "frames": frames or {}, "error": None}


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
        "timeline": None,
        "maps": {},
        "frames": {},
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


# ANSI/VT escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks) and two-character escapes.
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def terminal_safe(value: object) -> str:
    """Text that came from files (names, signer names, messages) without ANSI escape sequences or other control
    characters: each such character becomes '?' (tabs and newlines a space), so nothing reaches the terminal
    that it would act on. Undecodable bytes in file names (surrogates) become '?' as well."""
    text = _ANSI_ESCAPE.sub("", str(value))
    return "".join(_printable(ch) for ch in text)


def _printable(ch: str) -> str:
    if ch in "\t\n\r":
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") and ch != "\u200d":  # ZWJ joins emoji
        return "?"
    return ch
