"""The retraining loop end to end on tiny generated data: feedback stored by the service and a data folder are
merged, a candidate is trained and evaluated against the promoted model on the same held-out split, and it is
promoted only when better. The figures mean nothing (a few steps on toy images); the decisions are the point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("torch")

from realeyes import samples
from realeyes.application.analyses import Analyses
from realeyes.application.storage import FileStore
from realeyes.cli import main
from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.store import Database, Feedback


def toy_folder(root: Path, count: int = 12) -> Path:
    """Real: photo-like scenes; AI: the same scenes with a faint checkerboard (an up-sampling trace)."""
    y, x = np.mgrid[0:256, 0:256]
    checker = (1 + 0.05 * (-1.0) ** (x + y))[:, :, None]
    for index in range(count):
        scene = samples.photo_like(256, 256, seed=300 + index)
        for label, pixels in (("real", scene), ("ai/toygen", np.clip(scene * checker, 0, 255).astype(np.uint8))):
            (root / label).mkdir(parents=True, exist_ok=True)
            (root / label / f"{index:02d}.png").write_bytes(samples.png_bytes(pixels))
    return root


def store_feedback(data_dir: Path) -> None:
    """Two analyses a person corrected (and an admin accepted), stored the way the service stores them."""
    database = Database(f"sqlite:///{data_dir / 'realeyes.db'}")
    database.upgrade()
    analyses = Analyses(Engine(Settings(analyzers=["metadata"])), database, FileStore(data_dir / "files"))
    for seed, label in ((901, "authentic"), (902, "ai-generated")):
        buffer = io.BytesIO()
        Image.fromarray(samples.photo_like(256, 256, seed=seed)).save(buffer, format="PNG")
        analysis = analyses.analyze(buffer.getvalue(), f"{seed}.png").analysis
        with database.session() as session:
            session.add(Feedback(analysis_id=analysis.id, label=label, note="test", status="accepted"))
    database.dispose()


def retrain(work: Path, data: Path, env: dict[str, str], *extra: str) -> dict:
    settings = ["prepare.no_shared=true", f"prepare.folders={data}", "prepare.reconstructions=0", "train.minutes=1",
                "train.max_steps=10", "train.batch_size=8", "train.eval_every=5", "export.no_sweep=true"]  # fmt: skip
    args = ["retrain", "--workdir", str(work), *(f"--set={setting}" for setting in settings), *extra]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_retrain_promotes_only_a_better_candidate(tmp_path: Path) -> None:
    data = toy_folder(tmp_path / "data")
    env = {"REALEYES_MODELS_DIR": str(tmp_path / "models"), "REALEYES_DATA_DIR": str(tmp_path / "service")}
    store_feedback(tmp_path / "service")

    first = retrain(tmp_path / "run1", data, env)
    assert first["decision"] == "promoted" and first["promoted_before"] is None  # nothing served yet
    assert first["candidate"] == "realeyes-npr-classifier-0.1.0" and first["feedback_samples"] == 2
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    assert registry["promoted"]["classifier"] == "classifier/realeyes-npr-classifier-0.1.0"
    card = json.loads((tmp_path / "models" / "classifier" / "realeyes-npr-classifier-0.1.0" / "card.json").read_text())
    assert card["reference"]["samples"] > 0  # drift monitoring can start right away

    # Demanding a gain no model can reach (AUC cannot rise by 1): the candidate is evaluated and rejected.
    second = retrain(tmp_path / "run2", data, env, "--min-gain", "1.0")
    assert second["decision"] == "rejected" and second["promoted_before"] == "realeyes-npr-classifier-0.1.0"
    assert second["candidate"] == "realeyes-npr-classifier-0.1.1"
    assert second["data"] == first["data"].replace("run1", "run2")  # both models scored on the same split
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    assert registry["promoted"]["classifier"] == "classifier/realeyes-npr-classifier-0.1.0"
    assert [c["decision"] for c in registry["candidates"]] == ["promoted", "rejected"]
    assert not (tmp_path / "models" / "classifier" / "realeyes-npr-classifier-0.1.1").exists()
