"""The C2PA SDK's own fixtures (../shared/data/provenance/c2pa-rs-fixtures): statuses match their names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realeyes.cli import main

# File name -> (manifest present, validation). Names in c2pa-rs say what each exercises: C/A = claims,
# X/E = tampered data or signature, cloud = a remote manifest, no_manifest = none.
EXPECTED = {
    "C.jpg": (True, "valid"),
    "CA.jpg": (True, "valid"),
    "CACA.jpg": (True, "valid"),
    "XCA.jpg": (True, "invalid"),
    "E-sig-CA.jpg": (True, "invalid"),
    "adobe-20220124-E-clm-CAICAI.jpg": (True, "invalid"),
    "cloud.jpg": (True, "unverified"),
    "libpng-test_with_url.png": (True, "unverified"),
    "no_manifest.jpg": (False, "absent"),
    "libpng-test.png": (False, "absent"),
    "video1.mp4": (True, "valid"),
    "video1_no_manifest.mp4": (False, "absent"),
    "dashinit.mp4": (True, "invalid"),
}


@pytest.fixture(scope="module")
def records(shared_data: Path) -> dict[str, dict[str, Any]]:
    fixtures = shared_data / "provenance" / "c2pa-rs-fixtures"
    if not fixtures.is_dir():
        pytest.skip(f"{fixtures} not found")
    result = CliRunner().invoke(main, ["scan", str(fixtures), "--jsonl"])
    assert result.exit_code in (0, 3), result.stderr
    return {Path(line["path"]).name: line for line in map(json.loads, result.stdout.splitlines())}


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_fixture_status_matches_its_name(
    records: dict[str, dict[str, Any]], name: str, expected: tuple[bool, str]
) -> None:
    c2pa = next(e for e in records[name]["evidence"] if e["analyzer"] == "c2pa")["details"]
    assert (c2pa["manifest_present"], c2pa["validation"]) == expected


def test_tampering_is_reported_with_its_failure_code(records: dict[str, dict[str, Any]]) -> None:
    c2pa = next(e for e in records["XCA.jpg"]["evidence"] if e["analyzer"] == "c2pa")["details"]
    assert "assertion.dataHash.mismatch" in c2pa["validation_codes"]
    assert records["XCA.jpg"]["label"] == "manipulated"


def test_no_fixture_crashes_the_scan(records: dict[str, dict[str, Any]]) -> None:
    assert len(records) >= 60
    errors = {name: r["error"]["code"] for name, r in records.items() if r["error"]}
    # Only deliberate refusals: a 51 MP HEIC over the 50 MP default, and a TIFF with too many sub-files.
    assert set(errors.values()) <= {"media_too_large", "corrupt_media"}, errors
    assert all(r["label"] for r in records.values() if not r["error"])
