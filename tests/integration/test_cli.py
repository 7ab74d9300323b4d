"""`realeyes scan` and `realeyes analyzers` through the real command line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from realeyes import samples
from realeyes.cli import EXIT_FILE_FAILED, main

RECORD_KEYS = {"path", "label", "p_fake", "threshold", "reasons", "evidence", "error"}
EVIDENCE_KEYS = {"analyzer", "version", "score", "weight", "summary", "details"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, identity: samples.SigningIdentity) -> Path:
    root = tmp_path_factory.mktemp("scan")
    photo = samples.photo_like(400, 300, seed=5)
    (root / "nested").mkdir()
    (root / "camera.jpg").write_bytes(samples.jpeg_bytes(photo, exif=samples.camera_exif()))
    signed = samples.sign_c2pa(samples.jpeg_bytes(photo), "image/jpeg", identity, "trainedAlgorithmicMedia")
    (root / "nested" / "signed.jpg").write_bytes(signed)
    (root / "nested" / "webui.png").write_bytes(samples.png_bytes(photo, {"parameters": samples.sd_webui_parameters()}))
    (root / "README.txt").write_text("not media: skipped in directory scans")
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_jsonl_records_keep_the_contract(folder: Path) -> None:
    code, out, err = run("scan", str(folder), "--jsonl", "--workers", "1")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0, err
    assert [Path(r["path"]).name for r in records] == ["camera.jpg", "signed.jpg", "webui.png"]
    assert "skipped 1 file(s) that are not media" in err
    for record in records:
        assert record.keys() >= RECORD_KEYS and record["error"] is None
        assert all(e.keys() >= EVIDENCE_KEYS for e in record["evidence"])
    by_name = {Path(r["path"]).name: r for r in records}
    signed = by_name["signed.jpg"]
    assert signed["label"] == "ai-generated" and signed["reasons"][0].startswith("Valid C2PA")
    c2pa = next(e for e in signed["evidence"] if e["analyzer"] == "c2pa")["details"]
    assert (c2pa["manifest_present"], c2pa["validation"], c2pa["digital_source_type"]) == (
        True, "valid", "trainedAlgorithmicMedia"
    )  # fmt: skip
    assert by_name["webui.png"]["label"] == "ai-generated"
    assert by_name["camera.jpg"]["label"] != "ai-generated"


def test_json_array_from_two_worker_processes_matches_one_process(folder: Path) -> None:
    _, single, _ = run("scan", str(folder), "--json", "--workers", "1")
    code, pooled, _ = run("scan", str(folder), "--json", "--workers", "2")
    assert code == 0
    strip = lambda records: [(r["path"], r["label"], r["p_fake"]) for r in json.loads(records)]  # noqa: E731
    assert strip(pooled) == strip(single)


def test_csv_has_one_row_per_file(folder: Path) -> None:
    code, out, _ = run("scan", str(folder / "nested"), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 2
    assert {row["c2pa_validation"] for row in rows} == {"valid", "absent"}
    assert all(row["label"] == "ai-generated" for row in rows)


def test_a_bad_file_gets_an_error_record_and_a_distinct_exit_code(folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(samples.png_bytes(np.zeros((64, 64, 3), np.uint8))[:60])
    code, out, err = run("scan", str(folder / "camera.jpg"), str(broken), "--jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_FILE_FAILED == 3
    assert records[0]["error"] is None
    assert records[1]["error"]["code"] == "corrupt_media" and records[1]["label"] is None
    assert f"error: {broken}" in err


def test_missing_path_is_reported_and_fails(folder: Path) -> None:
    code, _, err = run("scan", str(folder / "camera.jpg"), str(folder / "nope.jpg"), "--jsonl")
    assert code == EXIT_FILE_FAILED and "nope.jpg: no such file" in err


def test_glob_patterns_are_expanded(folder: Path) -> None:
    code, out, _ = run("scan", f"{folder}/**/*.png", "--jsonl")
    assert code == 0 and [Path(json.loads(line)["path"]).name for line in out.splitlines()] == ["webui.png"]


def test_save_maps_writes_the_maps_the_api_stores(folder: Path, tmp_path: Path) -> None:
    code, out, _ = run("scan", str(folder / "camera.jpg"), "--jsonl", "--save-maps", str(tmp_path / "maps"))
    record = json.loads(out)
    assert code == 0 and set(record["maps"]) == {"spectrum", "ela", "noise"} and record["frames"] == {}
    # Each at its analyzer's own resolution (ELA per 8x8 block, noise per 4x4) with the image's aspect ratio.
    for name, size in (("ela", (50, 37)), ("noise", (100, 75))):
        with Image.open(tmp_path / "maps" / f"camera.{name}.png") as image:
            assert (image.mode, image.size) == ("L", size)
    with Image.open(tmp_path / "maps" / "camera.spectrum.png") as spectrum:
        assert spectrum.mode == "L" and spectrum.size[0] == spectrum.size[1]


def test_analyzer_selection_and_unknown_names(folder: Path) -> None:
    code, out, _ = run("scan", str(folder / "camera.jpg"), "--jsonl", "--analyzers", "metadata,c2pa")
    assert code == 0 and [e["analyzer"] for e in json.loads(out)["evidence"]] == ["metadata", "c2pa"]
    code, _, err = run("scan", str(folder / "camera.jpg"), "--analyzers", "oracle")
    assert code == 2 and "Known analyzers: c2pa" in err


def test_table_output_shows_the_verdicts(folder: Path) -> None:
    code, out, _ = run("scan", str(folder / "nested" / "signed.jpg"))
    assert code == 0 and "ai-generated" in out and "0.99" in out


def test_analyzers_command_lists_versions() -> None:
    code, out, _ = run("analyzers", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows][:3] == ["c2pa", "metadata", "watermark"]
    assert all(r["version"] for r in rows)


def test_console_script_runs_as_a_real_process(folder: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from realeyes.cli import main; main()", "scan", str(folder), "--jsonl"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_requesting_an_analyzer_whose_model_is_missing_is_a_usage_error(folder: Path) -> None:
    code, _, err = run("scan", str(folder / "camera.jpg"), "--analyzers", "classifier")
    assert code == 2 and "No promoted classifier model" in err and "Traceback" not in err
