"""Shared fixtures: tests build their own media; tests that need ../shared/data skip without it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from realeyes import Engine, samples
from realeyes.analyzers import _registry
from realeyes.config import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REALEYES_SHARED_DATA", REPO.parent / "shared" / "data"))
SHIPPED_MODELS = REPO / "models"

# Behaviour tests must not depend on whichever model is shipped: by default they see no models at all.
# Tests of the shipped models (and of the README's output) point REALEYES_MODELS_DIR back at SHIPPED_MODELS.
os.environ["REALEYES_MODELS_DIR"] = tempfile.mkdtemp(prefix="realeyes-no-models-")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    return Engine(settings)


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A 640x480 photo-like RGB image (synthetic, deterministic)."""
    return samples.photo_like(640, 480, seed=1)


@pytest.fixture(scope="session")
def identity() -> samples.SigningIdentity:
    return samples.make_signing_identity()


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyzers registered by a test disappear after it."""
    monkeypatch.setattr(_registry, "_FACTORIES", _registry._factories())  # built-ins loaded first: kept after


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set REALEYES_SHARED_DATA)")
    return SHARED_DATA
