"""Video benchmark: a 30-second 1080p H.264 clip analysed at 2 frames per second, wall time and peak memory,
each in a fresh process (as `realeyes scan clip.mp4` runs).

    python benchmarks/bench_video.py                 # 30 s 1080p, and a 120 s clip to show memory stays flat
    python benchmarks/bench_video.py --seconds 10

The clip is generated here with PyAV/libx264 (x264's default keyframe interval, 30 fps, moving photo-like
content); if ../shared/data has real face crops, one is pasted in motion so that the face detector and the
face-forgery model do their real work on every sampled frame."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from realeyes import samples

REPO = Path(__file__).resolve().parents[1]
FACES = (
    Path(os.environ.get("REALEYES_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "video/faceswap-ndb796/real-face-crops"
)


def make_clip(path: Path, seconds: float, width: int = 1920, height: int = 1080, fps: int = 30) -> bool:
    scene = samples.photo_like(width + 600, height, seed=3)
    face = None
    crops = sorted(FACES.glob("*.png")) if FACES.is_dir() else []
    if crops:
        face = np.asarray(Image.open(crops[0]).convert("RGB").resize((360, 360)))
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for index in range(round(seconds * fps)):
            shift = (index * 4) % 600
            frame = np.ascontiguousarray(scene[:, shift : shift + width])
            if face is not None:
                x = 700 + int(200 * np.sin(index / 40))
                frame[300:660, x : x + 360] = face
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts, video_frame.time_base = index, Fraction(1, fps)
            out.mux(stream.encode(video_frame))
        out.mux(stream.encode(None))
    return face is not None


def measure(clip: Path) -> dict[str, object]:
    """`realeyes scan clip --json` in a child process: wall time and the child's peak resident memory."""
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "realeyes", "scan", str(clip), "--json"], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    record = json.loads(result.stdout)[0]
    video = next(e for e in record["evidence"] if e["analyzer"] == "video")
    meta = video["details"]["meta"]
    return {
        "wall_s": round(elapsed, 2),
        "video_analyzer_s": round(video["elapsed_ms"] / 1000, 2),
        "peak_rss_mb_max_so_far": round(peak_mb),
        "sampled_frames": meta["sampled_frames"],
        "frames_with_faces": meta["frames_with_faces"],
        "label": record["label"],
        "models": video["details"]["models"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--long", type=float, default=120.0, help="A longer clip for the memory check (0: skip).")
    options = parser.parse_args()
    report: dict[str, object] = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as scratch:
        for label, seconds in (("clip", options.seconds), ("long_clip", options.long)):
            if not seconds:
                continue
            clip = Path(scratch) / f"{label}.mp4"
            with_face = make_clip(clip, seconds)
            report[label] = {
                "seconds": seconds,
                "bytes": clip.stat().st_size,
                "face_pasted": with_face,
                **measure(clip),
            }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
