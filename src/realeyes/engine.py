"""Engine.analyze(bytes | path) -> Verdict: the single entry that the CLI, the API and the worker call."""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from realeyes import __version__
from realeyes.analyzers import Analyzer, ErrorInfo, Evidence, Map, create, list_analyzers
from realeyes.config import Settings
from realeyes.errors import MediaError, ModelUnavailable
from realeyes.fusion import FusionModel, Thresholds, decide
from realeyes.media import Media, MediaSource, load_media
from realeyes.verdict import Verdict

log = logging.getLogger(__name__)

FUSION_FILE = "fusion.json"


class Engine:
    """Builds the configured analyzers once, then analyses any number of files."""

    def __init__(self, settings: Settings | None = None, analyzers: Sequence[str] | None = None) -> None:
        self.settings = settings or Settings()
        explicit = analyzers if analyzers is not None else self.settings.analyzers
        self.analyzers: list[Analyzer] = []
        self.unavailable: dict[str, str] = {}  # analyzer name -> why it could not be built
        for name in explicit if explicit is not None else list_analyzers():
            try:
                self.analyzers.append(create(name, self.settings))
            except ModelUnavailable as exc:
                if explicit is not None:
                    raise  # asked for by name: a missing model is an error, not a silent skip
                log.warning("analyzer %s unavailable: %s", name, exc)
                # Results and the API show the reason; where the models live on this host is for the log only.
                self.unavailable[name] = str(exc).replace(str(self.settings.models_dir), "the models folder")
        self._use_fusion()
        # The analyzers' matrix products are small, and OpenBLAS's idle threads spin after each one: with its
        # default threads a 512 px analysis cost twice its CPU time (docs/BENCHMARKS.md). Process-wide, and set
        # once the analyzers' libraries are loaded; parallelism comes from processes and analyzer threads.
        threadpool_limits(1, user_api="blas")
        threads = self.settings.analyzer_threads
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="analyzer") if threads > 1 else None
        self._last_ms: dict[str, float] = {}  # each analyzer's last run, to start the slowest first

    @classmethod
    def from_analyzers(cls, analyzers: list[Analyzer], settings: Settings | None = None) -> Engine:
        """An engine around analyzers built elsewhere (e.g. a candidate model under evaluation)."""
        engine = cls(settings, analyzers=[])
        engine.analyzers = analyzers
        engine._use_fusion()
        return engine

    def with_video_fps(self, fps: float) -> Engine:
        """This engine sampling videos at `fps` frames per second instead of `settings.video_fps`, for one request.

        The analyzers and their loaded models are shared, not rebuilt: each analyzer is copied only to carry the
        changed settings (they read `video_fps` when they analyse), so the original keeps serving as it was."""
        settings = self.settings.model_copy(update={"video_fps": fps})
        variant = copy.copy(self)
        variant.settings = settings
        variant.analyzers = [copy.copy(analyzer) for analyzer in self.analyzers]
        for analyzer in variant.analyzers:
            analyzer.settings = settings
        return variant

    def _use_fusion(self) -> None:
        """Load the fusion and give each analyzer the score its vote needs in it (`Analyzer.vote_threshold`)."""
        self.fusion = self._fusion_model()
        for analyzer in self.analyzers:
            analyzer.vote_threshold = self.fusion.votes.get(analyzer.name)

    def _fusion_model(self) -> FusionModel:
        """REALEYES_FUSION_PATH if set, else models/fusion.json (fitted by the generalisation benchmark), else the
        fusion fitted with a served model, else analyzers' own weights."""
        if self.settings.fusion_path:
            return FusionModel.load(self.settings.fusion_path)
        fitted = [self.settings.models_dir / FUSION_FILE]
        fitted += [a.fusion_path for a in self.analyzers if a.fusion_path is not None]
        found = [path for path in fitted if path.is_file()]
        return FusionModel.load(found[0]) if found else FusionModel()

    @property
    def thresholds(self) -> Thresholds:
        """The fusion's calibrated thresholds, with any set explicitly in the settings taking precedence."""
        fitted, settings = self.fusion.thresholds or Thresholds(), self.settings
        ai_generated = fitted.ai_generated if settings.threshold is None else settings.threshold
        authentic = fitted.authentic if settings.authentic_threshold is None else settings.authentic_threshold
        if authentic >= ai_generated:  # an explicit threshold below the fitted authentic one: keep a middle band
            authentic = ai_generated / 2
        manipulated = fitted.manipulated if settings.threshold is None else settings.threshold
        return Thresholds(ai_generated=ai_generated, authentic=authentic, manipulated=manipulated)

    @property
    def versions(self) -> dict[str, str]:
        versions = {"realeyes": __version__, **{a.name: a.version for a in self.analyzers}}
        versions.update({f"{a.name}.model": a.model_version for a in self.analyzers if a.model_version})
        if self.fusion.fitted_on:
            versions["fusion"] = self.fusion.fitted_on
        return versions

    def _as_fused(self, evidence: Evidence) -> Evidence:
        """The evidence carrying the weight the verdict gives it (the fitted fusion's coefficient where it has one,
        zero for a detector that does not beat chance on held-out sources), so that the weight a user reads beside
        a score is the one the verdict used, not the analyzer's default."""
        if not evidence.ok or evidence.score is None:
            return evidence  # it took no part in the verdict: its own weight (0 when it has no opinion) stands
        weight = self.fusion.coefficient(evidence)
        return evidence if weight == evidence.weight else dataclasses.replace(evidence, weight=weight)

    def analyze(self, source: MediaSource) -> Verdict:
        """Load, validate and analyse one file. Media errors (typed MediaError) propagate to the caller."""
        started = time.perf_counter()
        return self.analyze_media(load_media(source, self.settings), started)

    def analyze_media(self, media: Media, started: float | None = None) -> Verdict:
        """Analyse media already loaded by load_media (callers that also need its pixels load it once)."""
        started = time.perf_counter() if started is None else started
        evidence = [self._as_fused(e) for e in self._evidence(media)]
        thresholds = self.thresholds
        decision = decide(evidence, self.fusion, thresholds)
        notes = (
            list(media.notes)
            + [f"The {name} analyzer is unavailable: {why}" for name, why in self.unavailable.items()]
            + [
                f"The {e.analyzer} analyzer failed ({e.error.message}); the verdict was reached without it."
                for e in evidence
                if e.error is not None
            ]
        )
        return Verdict(
            label=decision.label,
            p_fake=decision.p_fake,
            threshold=thresholds.ai_generated,
            reasons=decision.reasons,
            evidence=evidence,
            media=media.describe(),
            notes=notes,
            versions=self.versions,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _evidence(self, media: Media) -> list[Evidence]:
        """Every applicable analyzer's evidence, in the analyzers' order. On several threads the slowest start
        first (longest-first scheduling, by each one's last time), so the longest one does not start last."""
        applicable = [analyzer for analyzer in self.analyzers if analyzer.applies_to(media)]
        if self._threads is None:
            return [self._run(analyzer, media) for analyzer in applicable]
        slowest_first = sorted(applicable, key=lambda analyzer: -self._last_ms.get(analyzer.name, 0.0))
        futures = {id(analyzer): self._threads.submit(self._run, analyzer, media) for analyzer in slowest_first}
        evidence = [futures[id(analyzer)].result() for analyzer in applicable]
        self._last_ms.update((e.analyzer, e.elapsed_ms or 0.0) for e in evidence)
        return evidence

    @staticmethod
    def _run(analyzer: Analyzer, media: Media) -> Evidence:
        """Run one analyzer; a failure becomes an errored Evidence so that one broken analyzer never breaks a scan."""
        started = time.perf_counter()
        try:
            evidence = analyzer.analyze(media)
            _check_maps(evidence.maps)
        except MediaError:
            raise  # the file itself is bad (e.g. a video whose frames cannot be decoded): the caller's error
        except Exception as exc:
            # One line for operators; the traceback only at debug level, so clients never see one by default.
            log.error("analyzer %s failed on %s: %s", analyzer.name, media.source or "<bytes>", exc)
            log.debug("analyzer %s traceback", analyzer.name, exc_info=True)
            evidence = Evidence(
                analyzer=analyzer.name,
                version=analyzer.version,
                summary=f"The {analyzer.name} analyzer failed.",
                error=ErrorInfo(code="analyzer_failed", message=f"{type(exc).__name__}: {exc}"),
            )
        evidence.elapsed_ms = (time.perf_counter() - started) * 1000.0
        return evidence


def _check_maps(maps: dict[str, Map]) -> None:
    for name, heatmap in maps.items():
        values = heatmap.values
        if values.ndim != 2 or not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise ValueError(f"map {name!r} must be a finite 2-D array in [0, 1]")
