"""Video-level evaluation of the shipped video analyzer on the labelled clips in ../shared/data/video:
faceswap-ndb796 (real/, fake/) and the DFDC sample clips labelled in train_sample_videos/metadata.json.

    python scripts/evaluate_videos.py [--shared ../shared/data] > report.json

Each clip goes through the whole engine as `realeyes scan` would (2 frames per second). Reports per clip the
video score and verdict, then AUC and accuracy at the threshold over clips, and a frame-level AUC over every
scored face (each sampled face labelled with its clip's label). Few clips exist: read the counts."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from realeyes import Engine
from realeyes.training.metrics import roc_auc

REPO = Path(__file__).resolve().parents[1]


def labelled_clips(shared: Path) -> list[tuple[Path, int, str]]:
    clips = []
    swaps = shared / "video" / "faceswap-ndb796"
    clips += [(path, 0, "faceswap-ndb796") for path in sorted((swaps / "real").glob("*.mp4"))]
    clips += [(path, 1, "faceswap-ndb796") for path in sorted((swaps / "fake").glob("*.mp4"))]
    dfdc = shared / "video" / "dfdc-sample" / "train_sample_videos"
    labels = json.loads((dfdc / "metadata.json").read_text()) if (dfdc / "metadata.json").exists() else {}
    clips += [(dfdc / name, int(entry["label"] == "FAKE"), "dfdc-sample") for name, entry in sorted(labels.items())
              if (dfdc / name).exists()]  # fmt: skip
    return clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(os.environ.get("REALEYES_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--shared", type=Path, default=default)
    options = parser.parse_args()
    engine = Engine()
    rows: list[dict[str, Any]] = []
    face_scores: list[tuple[float, int]] = []
    for path, label, source in labelled_clips(options.shared):
        verdict = engine.analyze(path)
        video = next(e for e in verdict.evidence if e.analyzer == "video")
        for entry in video.details["timeline"]:
            face_scores += [(face["score"], label) for face in entry["faces"] if face["score"] is not None]
        rows.append(
            {
                "clip": f"{source}/{path.name}",
                "label": label,
                "video_score": video.score,
                "source": video.details["aggregation"]["source"],
                "verdict": verdict.label,
                "p_fake": round(verdict.p_fake, 4),
                "face_detect_rate": video.details["meta"]["face_detect_rate"],
            }
        )
    threshold = engine.settings.threshold
    scored = [row for row in rows if row["video_score"] is not None]
    labels = [row["label"] for row in scored]
    report = {
        "data": f"labelled clips in {options.shared / 'video'}: {sum(labels)} fake, {len(labels) - sum(labels)} real",
        "models": {k: v for k, v in engine.versions.items() if k.endswith(".model")},
        "video_auc": roc_auc(labels, [row["video_score"] for row in scored]) if 0 < sum(labels) < len(labels) else None,
        "video_accuracy_at_threshold": sum((row["video_score"] >= threshold) == bool(row["label"]) for row in scored)
        / max(1, len(scored)),
        "frame_level_face_auc": roc_auc([label for _, label in face_scores], [score for score, _ in face_scores]),
        "faces_scored": len(face_scores),
        "clips": rows,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
