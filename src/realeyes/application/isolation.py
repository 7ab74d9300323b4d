"""Every analysis the service runs happens in a worker process that can be stopped: a wall-clock budget per file.

A hostile file can ask a decoder or an analyzer for minutes of CPU (docs/SECURITY.md, issue 11 #2). Threads cannot
be stopped, so the API and the job workers hand each file to a small pool of worker processes. Each process builds
its engine once (models loaded and warmed at start, never per file) and then analyses file after file. When a file
overruns its budget the process running it is killed, the caller gets AnalysisTimeout (`analysis_timeout`) and a
fresh process takes the killed one's place; the other processes, and so the other clients, are not disturbed.

The worker decodes, analyses and renders the pictures (maps as PNG, a video's key frames and the thumbnail as
JPEG); only those bytes and the verdict come back, so large pixel arrays never cross the pipe.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

import cv2
import numpy as np
from PIL import Image

from realeyes import progress
from realeyes.analyzers import Evidence
from realeyes.application.video_options import VideoOptions, for_video
from realeyes.config import Settings
from realeyes.engine import Engine
from realeyes.errors import AnalysisCrashed, AnalysisTimeout, PoolClosed, RealEyesError
from realeyes.imaging import fit_within
from realeyes.media import load_media, sniff_format
from realeyes.pictures import jpeg, render
from realeyes.verdict import Verdict

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 256
START_TIMEOUT_SECONDS = 120.0  # a worker process imports, builds its engine and warms its models within this
_SNIFF_BYTES = 512


@dataclass
class Analysed:
    """One file's analysis as the service stores it: the verdict (maps left out) and the rendered pictures."""

    media_format: str
    width: int | None
    height: int | None
    verdict: Verdict
    maps: dict[str, bytes] = field(default_factory=dict)  # map name -> PNG
    frames: dict[str, bytes] = field(default_factory=dict)  # a video's key frame name -> JPEG
    thumbnail: bytes | None = None  # JPEG, for media with pixels


def analyse_bytes(engine: Engine, data: bytes, video: VideoOptions | None = None) -> Analysed:
    """Load, analyse and render one file in this process. MediaError propagates."""
    media = load_media(data, engine.settings)
    if video is not None and media.kind == "video":
        engine = for_video(engine, data, video)
    verdict = engine.analyze_media(media)
    pictures = render(verdict, engine.settings.map_max_side)
    thumbnail = thumbnail_jpeg(media.rgb) if media.rgb is not None else None
    # The arrays are rendered above; the verdict travels without them.
    lean = replace(verdict, evidence=[_without_pixels(evidence) for evidence in verdict.evidence])
    return Analysed(media.format.name, media.width, media.height, lean, pictures.maps, pictures.frames, thumbnail)


def _without_pixels(evidence: Evidence) -> Evidence:
    timeline = evidence.timeline.without_pixels() if evidence.timeline else None
    return replace(evidence, maps={}, timeline=timeline)


def thumbnail_jpeg(rgb: np.ndarray) -> bytes:
    height, width = fit_within(rgb.shape, THUMBNAIL_SIDE)
    # Area averaging: as smooth as PIL's antialiased bilinear, and about 20x faster on a 512 px image.
    return jpeg(np.asarray(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)), quality=85)


class AnalysisPool:
    """`size` worker processes, started when first needed; analyze() blocks while all are busy.

    Images (and anything that is not a video) get `timeout_seconds`; videos, which run for minutes by design and
    report their progress, get `video_timeout_seconds`. The budget counts from the moment a ready worker has the
    file: waiting for a free worker is not the file's fault."""

    def __init__(
        self, settings: Settings, size: int, timeout_seconds: float, video_timeout_seconds: float | None = None
    ) -> None:
        self.settings = settings
        self.size = size
        self.timeout_seconds = timeout_seconds
        self.video_timeout_seconds = video_timeout_seconds or timeout_seconds
        # forkserver: workers fork from a small single-threaded server that has imported the analysis code once, so
        # a replacement starts in well under a second, and never inherits this process's threads or sockets.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([__name__])
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._closed = False
        self._all: set[_Worker] = set()

    def analyze(self, data: bytes, video: VideoOptions | None = None) -> Analysed:
        fmt = sniff_format(data[:_SNIFF_BYTES])
        is_video = fmt is not None and fmt.kind == "video"
        budget = self.video_timeout_seconds if is_video else self.timeout_seconds
        for attempt in range(2):
            worker = self._checkout()
            outcome = "healthy"
            try:
                return worker.run(data, video, budget)
            except _WorkerGone:
                # It died while idle (killed from outside, out of memory): the file never ran; once more, fresh.
                outcome = "dead"
                if attempt:
                    raise AnalysisCrashed(
                        "The analysis worker could not take the file (it exited twice before starting it); "
                        "try again later."
                    ) from None
            except (AnalysisTimeout, AnalysisCrashed):
                outcome = "dead"
                raise
            except BaseException:
                # Anything else (the file's MediaError, an analyzer bug) was answered by a live worker.
                outcome = "healthy" if worker.alive() else "dead"
                raise
            finally:
                self._checkin(worker, healthy=outcome == "healthy")
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Stop every worker process: idle ones at once; busy ones are killed and their callers get PoolClosed.

        A busy worker's pipe is left to the thread using it, which closes it once it sees the process gone:
        closing a descriptor another thread is reading from would let a new pipe or socket reuse its number."""
        idle: set[_Worker] = set()
        with self._lock:  # _checkin puts a worker back under this lock: after this, no worker becomes idle
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            while True:
                try:
                    idle.add(self._idle.get_nowait())
                except queue.Empty:
                    break
        for worker in workers:
            worker.closing = True
            if worker in idle:
                worker.stop()
            else:
                worker.kill()

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise PoolClosed(SHUTTING_DOWN)
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            if self._started < self.size:
                self._started += 1
                try:
                    return self._spawn()
                except BaseException:
                    self._started -= 1
                    raise
        while True:  # every worker is busy: wait for one, but not past the pool's end
            try:
                return self._idle.get(timeout=1.0)
            except queue.Empty:
                if self._closed:
                    raise PoolClosed(SHUTTING_DOWN) from None

    def _checkin(self, worker: _Worker, healthy: bool) -> None:
        if healthy:
            with self._lock:
                if not self._closed:
                    self._idle.put(worker)
                    return
        worker.stop()
        with self._lock:
            self._all.discard(worker)
            if self._closed:
                return
            try:
                # The replacement starts now and warms up while idle, so the next file does not wait for it.
                self._idle.put(self._spawn())
            except Exception as exc:  # e.g. out of processes: the pool shrinks; the next checkout starts one
                self._started -= 1
                log.error("could not start a replacement analysis worker: %s", exc)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.settings)
        self._all.add(worker)
        return worker


SHUTTING_DOWN = "the service is shutting down; the file was not analysed"


class _WorkerGone(Exception):
    """The worker process was gone before it received the file."""


class _Worker:
    def __init__(self, context: Any, settings: Settings) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, settings), name="realeyes-analysis", daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.closing = False  # set when the pool shuts down: a file cut short then is not the file's fault

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def run(self, data: bytes, video: VideoOptions | None, budget: float) -> Analysed:
        if not self.ready:
            self._wait_ready()
        try:
            self.connection.send(video)  # the request's options, then its bytes (unpickled: they may be large)
            self.connection.send_bytes(data)
        except (OSError, ValueError) as exc:  # BrokenPipeError: the process is gone
            raise _WorkerGone from exc
        deadline = time.monotonic() + budget
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll(remaining):
                self.stop()
                raise AnalysisTimeout(
                    f"The analysis did not finish within its {budget:g} s budget and was stopped: the file asks for "
                    "more work than allowed (REALEYES_ANALYSIS_TIMEOUT_SECONDS sets the budget)."
                )
            try:
                kind, payload = self.connection.recv()
            except (EOFError, OSError):
                code = self.process.exitcode if self.stop() else None
                if self.closing:
                    raise PoolClosed(SHUTTING_DOWN) from None
                raise AnalysisCrashed(
                    "The analysis stopped unexpectedly (the worker process exited"
                    + (f" with code {code}" if code is not None else "")
                    + ", e.g. out of memory); the file was not analysed."
                ) from None
            if kind == "progress":
                progress.report(payload)
            elif kind == "ok":
                result: Analysed = payload
                return result
            elif kind == "error":  # the file's own error (MediaError and kin), raised here as it was there
                raise payload
            else:
                raise RuntimeError(f"analysis failed: {payload}")

    def _wait_ready(self) -> None:
        try:
            if not self.connection.poll(START_TIMEOUT_SECONDS):
                message: Any = ("silent", f"it was not ready within {START_TIMEOUT_SECONDS:g} s")
            else:
                message = self.connection.recv()
        except (EOFError, OSError):
            message = None  # it exited before saying anything
        if message == ("ready", None):
            self.ready = True
            return
        self.stop()
        if self.closing:  # killed by the pool's shutdown while it started
            raise PoolClosed(SHUTTING_DOWN)
        if message is None:
            reason = f"it exited with code {self.process.exitcode}"
        elif isinstance(message, tuple) and len(message) == 2 and message[0] in ("failed", "silent"):
            reason = str(message[1])
        else:
            reason = f"unexpected message {message!r}"
        raise RuntimeError(f"an analysis worker process failed to start: {reason}")

    def _poll(self, timeout: float) -> bool:
        try:
            return bool(self.connection.poll(timeout))
        except (EOFError, OSError):  # closed by the pool's shutdown: recv() below reports it
            return True

    def kill(self) -> None:
        """Kill the process (it may be mid-file) without touching the pipe, which the thread using it closes."""
        if self.process.is_alive():
            self.process.kill()

    def stop(self) -> bool:
        """Kill the process (it may be mid-file), reap it and close the pipe; True once it has exited.

        Only the thread that uses this worker (or holds it idle) may call this."""
        self.kill()
        self.process.join(timeout=10)
        self.connection.close()
        return self.process.exitcode is not None


def _serve(connection: Connection, settings: Settings) -> None:
    """A worker process: build the engine once, then analyse file after file until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops its workers itself
    if os.environ.get("REALEYES_LOG_FORMAT") == "json":
        from realeyes.application.logs import configure_json_logging

        configure_json_logging()
    try:
        engine = Engine(settings)
        _warm_up(engine)
    except BaseException as exc:  # the pool reports why, instead of an EOF to guess from
        log.error("analysis worker failed to start: %s: %s", type(exc).__name__, exc)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with contextlib.suppress(EOFError, OSError):
            connection.send(("failed", detail))
        raise
    connection.send(("ready", None))

    def relay(fraction: float) -> None:
        connection.send(("progress", fraction))

    while True:
        try:
            video: VideoOptions | None = connection.recv()
            data = connection.recv_bytes()
        except (EOFError, OSError):
            return
        reply: tuple[str, Any]
        try:
            with progress.listening(relay):
                reply = ("ok", analyse_bytes(engine, data, video))
        except RealEyesError as exc:
            reply = ("error", exc)
        except Exception as exc:
            log.error("analysis failed: %s: %s", type(exc).__name__, exc)
            log.debug("analysis traceback", exc_info=True)
            reply = ("failed", f"{type(exc).__name__}: {exc}")
        try:
            connection.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an unpicklable result: report it instead of leaving the caller waiting
            connection.send(("failed", f"the result could not be sent back ({type(exc).__name__}: {exc})"))


def _warm_up(engine: Engine) -> None:
    """Analyse one small image so that lazily loaded models are loaded before the first real file arrives."""
    try:
        pixels = np.random.default_rng(0).integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        analyse_bytes(engine, buffer.getvalue())
    except Exception as exc:  # a broken model shows on the first real file, where the engine reports it
        log.warning("analysis worker warm-up failed: %s", exc)
