"""One settings object for the whole product; every field can be set with a REALEYES_* environment variable."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MEGABYTE = 1024 * 1024
# Shipped bundles live in the repository's models/ folder (src/realeyes/config.py -> repo root).
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


class Settings(BaseSettings):
    """Documented defaults that work on a laptop (see docs/CONFIGURATION.md)."""

    model_config = SettingsConfigDict(env_prefix="REALEYES_", extra="forbid")

    # Media intake limits: refuse before decoding anything big.
    # 50 MiB: large enough for a 50 MP camera JPEG (often 20-30 MB), which the pixel limit also admits.
    max_bytes: int = Field(50 * MEGABYTE, gt=0, description="Largest accepted file, in bytes.")
    max_pixels: int = Field(50_000_000, gt=0, description="Decompression-bomb guard: width x height.")
    max_dimension: int = Field(20_000, gt=0, description="Largest accepted width or height, in pixels.")
    # Work a file's structure asks for, checked before decoding (realeyes.media.precheck; docs/SECURITY.md).
    max_jpeg_scans: int = Field(100, gt=0, description="Most scans in a JPEG (progressive ones have about 10).")
    max_frames: int = Field(5000, gt=0, description="Most frames or TIFF pages, counted without decoding them.")
    max_pixels_per_byte: int = Field(
        10_000, gt=0, description="Decoded pixels x frames per byte of file, above 4 MP (tiny files, huge canvases)."
    )

    # Which analyzers the engine runs; None means every registered analyzer.
    analyzers: list[str] | None = Field(None, description="Analyzer names to run (default: all).")
    # One file's analyzers side by side (ONNX Runtime, OpenCV and NumPy release the GIL). 1 where processes
    # already use every core (service workers, multi-file scans); `realeyes scan` of one file uses its workers.
    analyzer_threads: int = Field(1, ge=1, le=64, description="Threads running one file's analyzers.")

    # Fusion: p_fake >= threshold -> not authentic; p_fake <= authentic_threshold -> authentic; between the two
    # -> inconclusive. Unset, they are the thresholds calibrated with the fitted fusion (models/fusion.json:
    # at most 5 % of laundered real photos from unseen sources accused; docs/VERDICTS.md), else 0.6 and 0.25.
    threshold: float | None = Field(None, gt=0.0, lt=1.0, description="Override of the calibrated threshold.")
    authentic_threshold: float | None = Field(None, gt=0.0, lt=1.0, description="Override of the authentic one.")
    fusion_path: Path | None = Field(None, description="JSON file with fitted fusion coefficients.")

    # C2PA: trust anchors (PEM bundle) make known signers 'trusted'; remote manifests are never fetched
    # unless enabled, because scanning must not reach the network by default.
    c2pa_trust_anchors: Path | None = None
    c2pa_fetch_remote: bool = False
    c2pa_remote_hosts: list[str] = Field(
        default_factory=list, description="Hosts remote C2PA manifests may be fetched from (exact names)."
    )

    # Learned models: bundles and models/registry.json (which bundle is promoted for each task).
    models_dir: Path = Field(DEFAULT_MODELS_DIR, description="Folder of model bundles and registry.json.")

    # Video: frames sampled per second, and limits refused with a clear error before decoding.
    video_fps: float = Field(2.0, gt=0.0, le=30.0, description="Frames analysed per second of video.")
    video_max_seconds: float = Field(1800.0, gt=0.0, description="Longest video analysed, in seconds.")
    video_max_frames: int = Field(3600, gt=0, description="Most frames sampled from one video.")

    # Maps (heatmaps) are kept at most this many pixels on their longer side to bound memory.
    map_max_side: int = Field(2048, ge=64)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if (
            self.authentic_threshold is not None
            and self.threshold is not None
            and self.authentic_threshold >= self.threshold
        ):
            raise ValueError("authentic_threshold must be below threshold")
        return self
