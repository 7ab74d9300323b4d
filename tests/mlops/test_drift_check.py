"""`realeyes drift reference` and `realeyes drift check` end to end: the shipped classifier gets a reference from
held-out-like images, the service stores live analyses, and the check tells similar traffic from shifted
traffic (exit 0 vs 1); the API's /metrics then exports the latest drift scores."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

from conftest import SHIPPED_MODELS
from realeyes import samples
from realeyes.application.analyses import Analyses
from realeyes.application.settings import ServiceSettings
from realeyes.application.storage import FileStore
from realeyes.cli import main
from realeyes.config import Settings
from realeyes.mlops.monitor import engine_serving
from realeyes.service.app import create_app
from realeyes.store import Database

BUNDLE = "classifier/realeyes-npr-classifier-0.1.0"


def photo_jpeg(seed: int, quality: int = 90) -> bytes:
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(600, 900)), int(rng.integers(400, 700))
    buffer = io.BytesIO()
    Image.fromarray(samples.photo_like(width, height, seed=seed)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def small_png(seed: int) -> bytes:
    return samples.png_bytes(samples.photo_like(160, 120, seed=seed))


def models_copy(root: Path) -> Path:
    """The shipped classifier alone, promoted, in a folder the test may write (the card gets a reference)."""
    shutil.copytree(SHIPPED_MODELS / BUNDLE, root / BUNDLE)
    (root / "registry.json").write_text(json.dumps({"promoted": {"classifier": BUNDLE}, "history": []}))
    return root


def live_traffic(data_dir: Path, models: Path, images: list[bytes]) -> None:
    settings = Settings(models_dir=models)
    database = Database(f"sqlite:///{data_dir / 'realeyes.db'}")
    database.upgrade()
    analyses = Analyses(engine_serving(models / BUNDLE, settings), database, FileStore(data_dir / "files"))
    for index, data in enumerate(images):
        analyses.analyze(data, f"{index}.img")
    database.dispose()


def drift_check(env: dict[str, str]) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["drift", "check", "--min-samples", "30"], env=env, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_drift_check_tells_similar_from_shifted_traffic(tmp_path: Path) -> None:
    models = models_copy(tmp_path / "models")
    held_out = tmp_path / "held-out"
    held_out.mkdir()
    for seed in range(40):
        (held_out / f"{seed}.jpg").write_bytes(photo_jpeg(seed))
    result = CliRunner().invoke(
        main, ["drift", "reference", str(models / BUNDLE), str(held_out)], env={"REALEYES_MODELS_DIR": str(models)}
    )
    assert result.exit_code == 0, result.output
    card = json.loads((models / BUNDLE / "card.json").read_text())
    assert card["reference"]["samples"] == 40 and card["reference"]["measured_on"] == str(held_out)
    assert "Reference distribution for drift monitoring" in (models / BUNDLE / "card.md").read_text()

    similar, shifted = tmp_path / "similar", tmp_path / "shifted"
    live_traffic(similar, models, [photo_jpeg(1000 + seed) for seed in range(40)])
    live_traffic(shifted, models, [small_png(2000 + seed) for seed in range(40)])

    code, report = drift_check({"REALEYES_MODELS_DIR": str(models), "REALEYES_DATA_DIR": str(similar)})
    assert code == 0 and report["status"] == "ok" and report["samples"] == 40, report
    code, report = drift_check({"REALEYES_MODELS_DIR": str(models), "REALEYES_DATA_DIR": str(shifted)})
    assert code == 1 and report["status"] == "drifted", report
    assert report["features"]["format"]["psi"] > 0.25 and report["features"]["log10_megapixels"]["psi"] > 0.25

    app = create_app(ServiceSettings(data_dir=shifted, allowed_hosts=["testserver"]), Settings(models_dir=models))
    with TestClient(app) as client:
        metrics = client.get("/metrics").text
    assert 'realeyes_drift_score{feature="format"}' in metrics
    assert f"realeyes_drift_max_score {report['max_score']}" in metrics


def test_drift_check_needs_a_reference(tmp_path: Path) -> None:
    models = models_copy(tmp_path / "models")
    card_path = models / BUNDLE / "card.json"
    card = json.loads(card_path.read_text())
    card.pop("reference", None)  # as a bundle made before drift monitoring existed
    card_path.write_text(json.dumps(card))
    env = {"REALEYES_MODELS_DIR": str(models), "REALEYES_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(main, ["drift", "check"], env=env)
    assert result.exit_code == 2 and "realeyes drift reference" in result.output
