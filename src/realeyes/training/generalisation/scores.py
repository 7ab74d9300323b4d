"""Score every benchmark image, as it is and laundered (and real photos also through a hard pipeline), once.

The scores are cached in one CSV row per (image, condition); the protocol reads them to fit fusions and
thresholds fold by fold, so a change of protocol never re-runs the models. Each row also carries the file
features a shortcut would use (bytes, JPEG quantisation, size): the baseline must be at chance on them.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from realeyes.engine import Engine
from realeyes.errors import RealEyesError
from realeyes.training.dataset import REAL
from realeyes.training.generalisation.catalog import BenchImage
from realeyes.training.generalisation.launder import encode_jpeg, harden, launder, read_oriented, rng_for
from realeyes.training.metrics import roc_auc

log = logging.getLogger(__name__)

CONDITIONS = ("clean", "laundered", "hard")
FILE_FEATURES = ("log_bytes", "bits_per_pixel", "jpeg_quant", "log_width", "log_height")
META_COLUMNS = ("key", "source", "label", "condition", "pipeline", *FILE_FEATURES, "verdict", "p_fake")


@dataclass(frozen=True)
class ConditionInput:
    condition: str
    pipeline: str  # the hard pipeline's name, else ""
    data: bytes


def condition_inputs(image: BenchImage) -> Iterator[ConditionInput]:
    """The bytes scored for each condition: the file itself, laundered, and (real photos) hard + laundered."""
    raw = image.path.read_bytes()
    rgb = read_oriented(raw)
    if image.trim_bottom:
        # A visible signature would be a shortcut: cut it and re-save as the set was saved (JPEG q95).
        rgb = np.ascontiguousarray(rgb[: rgb.shape[0] - image.trim_bottom])
        raw = encode_jpeg(rgb, 95)
    yield ConditionInput("clean", "", raw)
    yield ConditionInput("laundered", "", launder(rgb, rng_for(image.key, "launder")))
    if image.label == REAL:
        pipeline, hard = harden(rgb, rng_for(image.key, "harden"))
        yield ConditionInput("hard", pipeline, launder(hard, rng_for(image.key, "launder-hard")))


# The share of generated images the verdict catches near its operating point (the benchmark: 12-26 %).
TAIL_CATCH = 0.25


def condition_aucs(rows: dict[str, list[tuple[int, float]]]) -> dict[str, float | None]:
    """AUC per condition from (label, score) rows (hard real photos ranked against the laundered generated
    images, as the benchmark ranks them), `selection`: the mean of laundered and hard, the conditions users
    meet (EVALUATION.md): the figure training choices are made on, and `accused_at_quarter_caught`: the tail."""
    fakes = [row for row in rows.get("laundered", []) if row[0] != REAL]
    figures = {
        "clean": _auc(rows.get("clean", [])),
        "laundered": _auc(rows.get("laundered", [])),
        "hard": _auc(rows.get("hard", []) + fakes),
    }
    usable = [figures["laundered"], figures["hard"]]
    figures["selection"] = None if None in usable else float(np.mean(usable))  # type: ignore[arg-type]
    real = [score for condition in ("laundered", "hard") for label, score in rows.get(condition, []) if label == REAL]
    figures["accused_at_quarter_caught"] = accused_at_catch(real, [score for _, score in fakes], TAIL_CATCH)
    return figures


def accused_at_catch(real: list[float], generated: list[float], catch: float) -> float | None:
    """The share of real photos scored above the score that `catch` of the generated images reach: the real photos
    a verdict tuned to catch that many would accuse. AUC weighs every rank alike; this reads only the top."""
    if not real or not generated:
        return None
    threshold = float(np.quantile(generated, 1.0 - catch, method="lower"))
    return float(np.mean(np.array(real) > threshold))


def _auc(rows: list[tuple[int, float]]) -> float | None:
    if not rows:
        return None
    labels, scores = zip(*rows, strict=True)
    return roc_auc(np.array(labels), np.array(scores))


def file_features(data: bytes) -> dict[str, float]:
    """What a shortcut could read without looking at the content."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        tables = getattr(image, "quantization", None) or {}
        quant = float(np.mean(tables[0])) if 0 in tables else 0.0
    return {
        "log_bytes": math.log(len(data)),
        "bits_per_pixel": 8.0 * len(data) / (width * height),
        "jpeg_quant": quant,
        "log_width": math.log(width),
        "log_height": math.log(height),
    }


_ENGINE: Engine | None = None


def _init_worker(analyzers: tuple[str, ...] = ()) -> Engine:
    """One engine per scoring process, built once: the default one, or only the named analyzers."""
    global _ENGINE
    _ENGINE = Engine(analyzers=list(analyzers)) if analyzers else Engine()
    return _ENGINE


def score_image(image: BenchImage) -> list[dict[str, object]]:
    """One row per condition with the engine's verdict and every analyzer's score (empty when it had none)."""
    engine = _ENGINE or _init_worker()
    rows = []
    for item in condition_inputs(image):
        row: dict[str, object] = {
            "key": image.key,
            "source": image.source,
            "label": image.label,
            "condition": item.condition,
            "pipeline": item.pipeline,
            **{k: round(v, 5) for k, v in file_features(item.data).items()},
        }
        try:
            verdict = engine.analyze(item.data)
        except RealEyesError as exc:
            log.warning("%s (%s): %s", image.key, item.condition, exc)
            continue
        row.update(verdict=verdict.label, p_fake=round(verdict.p_fake, 5))
        row.update({f"score_{e.analyzer}": round(e.score, 5) for e in verdict.evidence if e.score is not None})
        rows.append(row)
    return rows


def _scored(
    images: list[BenchImage], workers: int, progress: Callable[[int], None] | None, analyzers: tuple[str, ...] = ()
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(analyzers,)) as pool:
        for done, image_rows in enumerate(pool.map(score_image, images, chunksize=4), start=1):
            rows.extend(image_rows)
            if progress:
                progress(done)
    return rows


def score_catalog(
    images: list[BenchImage], out: Path, workers: int = 2, progress: Callable[[int], None] | None = None
) -> Path:
    """Score every image with the default engine in `workers` processes; write `out` (CSV) and return it."""
    write_rows(_scored(images, workers, progress), out)
    return out


def rescore_columns(images: list[BenchImage], path: Path, analyzers: tuple[str, ...], workers: int = 2) -> Path:
    """Score every image again with only `analyzers` (a new version of one detector, say) and replace their
    columns in the cached rows of `path`; the other analyzers' scores are kept (each analyzer reads the image
    alone), and the engine's verdict columns are cleared: they came from the engine as it was."""
    fresh = {(str(r["key"]), str(r["condition"])): r for r in _scored(images, workers, None, analyzers)}
    rows: list[dict[str, object]] = []
    for row in read_rows(path):
        new = fresh.get((row["key"], row["condition"]), {})
        rows.append(
            {**row, **{f"score_{a}": new.get(f"score_{a}", "") for a in analyzers}, "verdict": "", "p_fake": ""}
        )
    write_rows(rows, path)
    return path


def write_rows(rows: list[dict[str, object]], out: Path) -> None:
    columns = list(META_COLUMNS) + sorted({k for row in rows for k in row} - set(META_COLUMNS))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))
