"""Benchmark RealEyes on synthetic photo-like JPEGs and print a Markdown report.

Usage (from the repository root, with the project's virtualenv active):

    python benchmarks/bench_scan.py            # full run (a few minutes on 2 cores)
    python benchmarks/bench_scan.py --quick    # fewer images, for a smoke test
    python benchmarks/bench_scan.py --out docs/bench.md

What it measures, all on images it generates itself (gradients, a 1/f texture, random shapes, a slight blur
and sensor-like Gaussian noise, saved as JPEG quality 90, so file sizes resemble photos rather than noise):

1. Latency: one in-process Engine, `Engine.analyze(path)` per image at 512, 1024 and 2048 px (square). Wall
   time includes reading and decoding the file; CPU time shows whether more than one core was used. The
   per-analyzer figures are the engine's own `Evidence.elapsed_ms`.
2. Throughput: `realeyes.scan.scan_files` over a directory of 1024 px images with 1 and with 2 workers.
   Times include the pool's start-up and each worker's Engine construction.
3. Peak memory and wall time: `realeyes scan --json` on one 50-megapixel JPEG, in a fresh process started
   by a small wrapper process that reads its peak resident set size with `getrusage(RUSAGE_CHILDREN)`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import PIL
from PIL import Image

import realeyes
from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.scan import ScanOptions, scan_files

SIZES = (512, 1024, 2048)
THROUGHPUT_SIZE = 1024
BIG_SIZE = (8660, 5773)  # 49.99 MP: just under the default 50,000,000-pixel limit
JPEG_QUALITY = 90
WORKER_COUNTS = (1, 2)
ANALYZER_THREADS = (1, 2)  # REALEYES_ANALYZER_THREADS: one file's analyzers side by side


@dataclass(frozen=True)
class Plan:
    images_per_size: int
    warmup: int
    throughput_images: int
    throughput_rounds: int


FULL = Plan(images_per_size=15, warmup=2, throughput_images=40, throughput_rounds=3)
QUICK = Plan(images_per_size=5, warmup=1, throughput_images=12, throughput_rounds=1)


# --- synthetic photo-like images -------------------------------------------------------------------------


def synthetic_photo(width: int, height: int, seed: int) -> np.ndarray:
    """An RGB uint8 image with photo-like statistics: smooth light, objects with edges, texture and noise."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    slope_x, slope_y = rng.uniform(-80, 80, (2, 1, 1, 3)).astype(np.float32)
    image = 128.0 + slope_x * x + slope_y * y
    _draw_shapes(image, rng, count=300)
    image += _fractal_texture(rng, width, height, amplitude=22.0, decay=0.9)
    image = cv2.GaussianBlur(image, (0, 0), 0.7)  # lens softness
    image += rng.normal(0.0, 2.0, image.shape).astype(np.float32)  # sensor noise
    photo: np.ndarray = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    return photo


def _draw_shapes(image: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Filled circles, rectangles and ellipses of muted colours, sizes spread log-uniformly (in place)."""
    height, width = image.shape[:2]
    scale = max(width, height) / 1024
    for _ in range(count):
        grey = rng.uniform(20, 235)
        colour = tuple(float(np.clip(grey + tint, 0, 255)) for tint in rng.normal(0, 35, 3))
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        radius = int(np.exp(rng.uniform(np.log(3), np.log(150))) * scale)
        kind = rng.integers(3)
        if kind == 0:
            cv2.circle(image, centre, radius, colour, -1, cv2.LINE_AA)
        elif kind == 1:
            corner = (centre[0] + radius, centre[1] + int(radius * rng.uniform(0.3, 2.0)))
            cv2.rectangle(image, centre, corner, colour, -1)
        else:
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(image, centre, (radius, radius // 2 + 1), angle, 0, 360, colour, -1, cv2.LINE_AA)


def _fractal_texture(
    rng: np.random.Generator,
    width: int,
    height: int,
    amplitude: float,
    decay: float,
) -> np.ndarray:
    """Up-sampled random grids from 4 cells across down to ~3 px cells: mostly luminance, a little chroma."""
    texture = np.zeros((height, width, 3), dtype=np.float32)
    longer = max(width, height)
    cells, level = 4, 0
    while cells <= longer / 3:
        rows, cols = max(2, cells * height // longer), max(2, cells * width // longer)
        sigma = amplitude * decay**level
        luma = rng.normal(0, sigma, (rows, cols, 1)) * np.array([1.0, 0.95, 0.9])
        chroma = rng.normal(0, 0.3 * sigma, (rows, cols, 3))
        layer = (luma + chroma).astype(np.float32)
        texture += cv2.resize(layer, (width, height), interpolation=cv2.INTER_CUBIC)
        cells, level = cells * 2, level + 1
    return texture


def write_jpeg(rgb: np.ndarray, path: Path) -> Path:
    Image.fromarray(rgb).save(path, format="JPEG", quality=JPEG_QUALITY)
    return path


def generate_set(directory: Path, size: int, count: int) -> list[Path]:
    """`count` different square JPEGs of `size` px (seeded by size and index, so runs are repeatable)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"img{index:03d}.jpg" for index in range(count)]
    for index, path in enumerate(paths):
        write_jpeg(synthetic_photo(size, size, seed=size * 1000 + index), path)
    return paths


# --- measurements ----------------------------------------------------------------------------------------


@dataclass
class Latency:
    size: int
    threads: int
    file_kb: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    analyzer_ms: dict[str, list[float]] = field(default_factory=dict)
    intake_ms: list[float] = field(default_factory=list)  # wall time outside the analyzers: decode, fusion
    analyzer_errors: list[str] = field(default_factory=list)


def measure_latency(engine: Engine, size: int, paths: Sequence[Path], warmup: int) -> Latency:
    """Time Engine.analyze per file; the first `warmup` files are analysed but not recorded."""
    result = Latency(size=size, threads=engine.settings.analyzer_threads)
    for index, path in enumerate(paths):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        verdict = engine.analyze(path)
        wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
        if index < warmup:
            continue
        result.file_kb.append(path.stat().st_size / 1024)
        result.wall_ms.append(wall * 1000)
        result.cpu_ms.append(cpu * 1000)
        result.intake_ms.append(wall * 1000 - sum(e.elapsed_ms or 0.0 for e in verdict.evidence))
        for evidence in verdict.evidence:
            result.analyzer_ms.setdefault(evidence.analyzer, []).append(evidence.elapsed_ms or 0.0)
            if evidence.error is not None:
                result.analyzer_errors.append(f"{path.name}: {evidence.analyzer}: {evidence.error.message}")
    return result


@dataclass
class Throughput:
    workers: int
    images: int = 0
    failures: int = 0
    seconds: list[float] = field(default_factory=list)  # one entry per round

    @property
    def per_second(self) -> float:
        return self.images / _median(self.seconds)


def measure_throughput(paths: list[Path], worker_counts: Sequence[int], rounds: int) -> list[Throughput]:
    """Scan all paths with scan_files (as `realeyes scan -j N` does) and time each whole batch.

    Rounds alternate between the worker counts, so that a burst of load from elsewhere hits all of them.
    """
    options = ScanOptions(settings=Settings())
    results = [Throughput(workers=workers) for workers in worker_counts]
    for _ in range(rounds):
        for result in results:
            started = time.perf_counter()
            records = list(scan_files(paths, options, result.workers))
            result.seconds.append(time.perf_counter() - started)
            result.images = len(records)
            result.failures = max(result.failures, sum(record["error"] is not None for record in records))
    return results


@dataclass(frozen=True)
class ProcessRun:
    command: list[str]
    exit_code: int
    wall_s: float
    peak_rss_mb: float
    stdout: str


def realeyes_command() -> list[str]:
    """The installed console script next to this interpreter, or the equivalent `python -c` call."""
    script = Path(sys.executable).parent / "realeyes"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from realeyes.cli import main; main()"]


# Runs argv[2:] with stdout to the file argv[1], then prints its exit code, wall time and peak RSS as JSON.
_MEASURE_CHILD = """
import json, resource, subprocess, sys, time
with open(sys.argv[1], "wb") as output:
    started = time.perf_counter()
    code = subprocess.call(sys.argv[2:], stdout=output, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"exit_code": code, "wall_s": wall, "maxrss_kib": usage.ru_maxrss}))
"""


def run_measured(command: list[str], workdir: Path) -> ProcessRun:
    """Run a command from a small, fresh Python process and return its wall time and peak RSS.

    The command is not started from this process directly: Linux carries the RSS high-water mark of the
    address space a program was exec'd from into its ru_maxrss, and this process is large after generating
    a 50 MP image, so its child's figure would be inflated. ru_maxrss is in KiB on Linux.
    """
    output = workdir / "command-stdout.txt"
    measured = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _MEASURE_CHILD, str(output), *command],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(measured.stdout)
    stdout = output.read_text(errors="replace")
    return ProcessRun(command, result["exit_code"], result["wall_s"], result["maxrss_kib"] / 1024, stdout)


def analyzer_times_from_json(stdout: str) -> dict[str, float]:
    """Per-analyzer elapsed_ms from `realeyes scan --json` output (empty if the output is not a record)."""
    try:
        records = json.loads(stdout)
        return {e["analyzer"]: float(e["elapsed_ms"] or 0.0) for e in records[0]["evidence"]}
    except (ValueError, LookupError, TypeError):
        return {}


# --- report ----------------------------------------------------------------------------------------------


def machine_rows() -> list[tuple[str, str]]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPU", _cpu_model()),
        ("Cores", f"{os.cpu_count()} logical ({affinity} usable by this process)"),
        ("Memory", _memory_total()),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        (
            "Packages",
            f"realeyes {realeyes.__version__}, numpy {np.__version__}, opencv {cv2.__version__}, "
            f"Pillow {PIL.__version__}",
        ),
    ]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def _p90(values: Sequence[float]) -> float:
    return float(np.percentile(values, 90)) if values else float("nan")


def latency_section(results: list[Latency], plan: Plan) -> str:
    single = {r.size: _median(r.wall_ms) for r in results if r.threads == 1}
    totals = table(
        [
            "size (px)",
            "analyzer threads",
            "images",
            "median JPEG (KiB)",
            "median ms",
            "vs 1 thread",
            "p90 ms",
            "median CPU ms",
            "intake + fusion ms",
        ],
        [
            [
                f"{r.size}x{r.size}",
                str(r.threads),
                str(len(r.wall_ms)),
                f"{_median(r.file_kb):.0f}",
                f"{_median(r.wall_ms):.1f}",
                f"{single[r.size] / _median(r.wall_ms):.2f}x",
                f"{_p90(r.wall_ms):.1f}",
                f"{_median(r.cpu_ms):.1f}",
                f"{_median(r.intake_ms):.1f}",
            ]
            for r in results
        ],
    )
    names = list(dict.fromkeys(name for r in results for name in r.analyzer_ms))
    per_analyzer = table(
        ["size (px)", "analyzer threads", *names, "sum of medians"],
        [
            [f"{r.size}x{r.size}", str(r.threads)]
            + [f"{_median(r.analyzer_ms.get(n, [])):.1f}" for n in names]
            + [f"{sum(_median(r.analyzer_ms.get(n, [])) for n in names):.1f}"]
            for r in results
        ],
    )
    errors = [error for r in results for error in r.analyzer_errors]
    parts = [
        "## Latency per image (one Engine, in-process)",
        f"{plan.warmup} warm-up image(s) per size are analysed first and not recorded. *ms* is wall time of "
        "`Engine.analyze(path)` (read + decode + all analyzers + fusion); *CPU ms* is process CPU time "
        "over the same call (about equal to wall time when a single core is used); *intake + fusion* is "
        "total minus the analyzers' own time (with several analyzer threads the analyzers overlap, so it can be "
        "negative). *analyzer threads* is `REALEYES_ANALYZER_THREADS` (one file's analyzers side by side; what "
        "`realeyes scan` of a single file uses); *vs 1 thread* is the 1-thread median divided by this one.",
        totals,
        "### Median ms per analyzer (Evidence.elapsed_ms)",
        per_analyzer,
    ]
    if errors:
        parts.append("Analyzer failures:\n\n" + "\n".join(f"- {error}" for error in errors))
    return "\n\n".join(parts)


def throughput_section(results: list[Throughput]) -> str:
    base = results[0].per_second
    rows = [
        [
            str(r.workers),
            str(r.images),
            str(r.failures),
            str(len(r.seconds)),
            f"{_median(r.seconds):.2f}",
            f"{min(r.seconds):.2f}–{max(r.seconds):.2f}",
            f"{r.per_second:.1f}",
            f"{r.per_second / base:.2f}x",
        ]
        for r in results
    ]
    return "\n\n".join(
        [
            "## Directory throughput (`realeyes.scan.scan_files`)",
            f"{results[0].images} JPEGs of {THROUGHPUT_SIZE}x{THROUGHPUT_SIZE} px; wall time includes "
            "process-pool start-up and one Engine per worker. With 1 worker scan_files runs in this process. "
            "images/s uses the median of the rounds.",
            table(
                ["workers", "images", "failed", "rounds", "median s", "range s", "images/s", "vs 1 worker"],
                rows,
            ),
        ]
    )


def big_scan_section(run: ProcessRun, baseline: ProcessRun, path: Path) -> str:
    width, height = BIG_SIZE
    rows = [
        [
            "`realeyes scan --json` on the 50 MP JPEG",
            str(run.exit_code),
            f"{run.wall_s:.2f}",
            f"{run.peak_rss_mb:.0f}",
        ],
        [
            "baseline: `realeyes analyzers --json` (imports only)",
            str(baseline.exit_code),
            f"{baseline.wall_s:.2f}",
            f"{baseline.peak_rss_mb:.0f}",
        ],
    ]
    times = analyzer_times_from_json(run.stdout)
    parts = [
        "## Peak memory and time on a 50-megapixel photo",
        f"One {width}x{height} JPEG ({width * height / 1e6:.2f} MP, {path.stat().st_size / 1e6:.1f} MB, "
        f"quality {JPEG_QUALITY}); decoded RGB alone is {width * height * 3 / 1024**2:.0f} MiB. "
        "Each command runs in a fresh process; peak RSS is that process's ru_maxrss.",
        f"Command: `{shlex.join(run.command[:-1])} <50MP.jpg>`",
        table(["run", "exit code", "wall s", "peak RSS (MiB)"], rows),
    ]
    if times:
        parts.append(
            "Per-analyzer ms inside that scan (from its JSON):\n\n"
            + table(list(times), [[f"{value:.0f}" for value in times.values()]])
        )
    return "\n\n".join(parts)


def render_report(
    command: str,
    started: datetime,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    sections: list[str],
) -> str:
    load_text = " / ".join(f"{value:.2f}" for value in loads[0])
    load_end = " / ".join(f"{value:.2f}" for value in loads[1])
    machine = "\n".join(f"- **{name}:** {value}" for name, value in machine_rows())
    header = [
        "# RealEyes scan benchmark",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{command}`.",
        machine,
        f"Load average (1/5/15 min) at start: {load_text}; at end: {load_end}.",
    ]
    return "\n\n".join(header + sections) + "\n"


# --- main ------------------------------------------------------------------------------------------------


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(plan: Plan, workdir: Path) -> list[str]:
    per_size = plan.warmup + plan.images_per_size
    counts = dict.fromkeys(SIZES, per_size)
    counts[THROUGHPUT_SIZE] = max(per_size, plan.throughput_images)
    _progress(f"generating test images {counts}")
    sets = {size: generate_set(workdir / str(size), size, count) for size, count in counts.items()}
    latencies = []
    for threads in ANALYZER_THREADS:
        engine = Engine(Settings(analyzer_threads=threads))
        for size in SIZES:
            _progress(f"latency at {size} px, {threads} analyzer thread(s)")
            latencies.append(measure_latency(engine, size, sets[size][:per_size], plan.warmup))
    _progress(f"throughput with {' and '.join(map(str, WORKER_COUNTS))} workers")
    batch = sets[THROUGHPUT_SIZE][: plan.throughput_images]
    throughputs = measure_throughput(batch, WORKER_COUNTS, plan.throughput_rounds)
    _progress("generating the 50 MP JPEG")
    big = write_jpeg(synthetic_photo(*BIG_SIZE, seed=50), workdir / "50mp.jpg")
    _progress("scanning the 50 MP JPEG in a fresh process")
    big_run = run_measured([*realeyes_command(), "scan", "--json", str(big)], workdir)
    baseline = run_measured([*realeyes_command(), "analyzers", "--json"], workdir)
    return [
        latency_section(latencies, plan),
        throughput_section(throughputs),
        big_scan_section(big_run, baseline, big),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images per measurement (smoke test)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    command = "python " + shlex.join(sys.argv if argv is None else ["bench_scan.py", *argv])
    started = datetime.now(UTC)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="realeyes-bench-") as workdir:
        sections = run(QUICK if args.quick else FULL, Path(workdir))
    report = render_report(command, started, (load_start, os.getloadavg()), sections)
    print(report)
    if args.out:
        args.out.write_text(report)


if __name__ == "__main__":
    main()
