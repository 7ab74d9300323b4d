"""Regenerate the sample images in samples/ (all synthetic; made here, nothing downloaded).

Usage: python scripts/make_samples.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from realeyes import samples


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    scene = samples.photo_like(768, 512, seed=2026)
    # A throw-away signing identity: the key exists only in memory while this script runs.
    identity = samples.make_signing_identity("RealEyes Sample Signer")
    signed = samples.sign_c2pa(samples.jpeg_bytes(scene, quality=85), "image/jpeg", identity, "trainedAlgorithmicMedia")
    (output / "ai-declared-c2pa.jpg").write_bytes(signed)
    (output / "camera-exif.jpg").write_bytes(samples.jpeg_bytes(scene, quality=85, exif=samples.camera_exif()))
    small = samples.photo_like(320, 240, seed=7)
    webui = samples.png_bytes(small, {"parameters": samples.sd_webui_parameters()})
    (output / "webui-parameters.png").write_bytes(webui)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "samples")
