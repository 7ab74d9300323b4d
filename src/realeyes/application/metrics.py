"""Prometheus metrics. With several server processes (PROMETHEUS_MULTIPROC_DIR set) each process writes its
samples to that folder and /metrics sums them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from realeyes.verdict import Verdict

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter("realeyes_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "realeyes_http_request_duration_seconds", "HTTP request latency", ["method", "route"], buckets=LATENCY_BUCKETS
)
ANALYZER_LATENCY = Histogram(
    "realeyes_analyzer_duration_seconds", "Time spent in each analyzer", ["analyzer"], buckets=LATENCY_BUCKETS
)
ANALYSES = Counter("realeyes_analyses_total", "Analyses served", ["cached"])
VERDICTS = Counter("realeyes_verdicts_total", "Verdicts computed, by label", ["label"])
P_FAKE = Histogram("realeyes_p_fake", "Distribution of p_fake", buckets=[i / 20 for i in range(1, 21)])
JOB_DURATION = Histogram("realeyes_job_duration_seconds", "Job run time", ["kind", "status"], buckets=JOB_BUCKETS)
MODEL_INFO = Gauge(
    "realeyes_model_info", "Models loaded (value 1)", ["task", "name", "version"], multiprocess_mode="max"
)


def observe_verdict(verdict: Verdict) -> None:
    VERDICTS.labels(verdict.label).inc()
    P_FAKE.observe(verdict.p_fake)
    for evidence in verdict.evidence:
        if evidence.elapsed_ms is not None:
            ANALYZER_LATENCY.labels(evidence.analyzer).observe(evidence.elapsed_ms / 1000.0)


class JobMetrics:
    def observe_job(self, kind: str, status: str, seconds: float) -> None:
        JOB_DURATION.labels(kind, status).observe(seconds)


class QueueCollector(Collector):
    """Queue depth read from the jobs table at scrape time, so every replica reports the same truth."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("realeyes_jobs", "Jobs by status (queued = queue depth)", labels=["status"])
        try:
            for status, count in self.counts().items():
                family.add_metric([status], count)
        except Exception:  # a scrape must not fail because the database is down; /readyz reports that
            return
        yield family


class DriftCollector(Collector):
    """The latest `realeyes drift check` report, read from the database at scrape time."""

    def __init__(self, latest: Callable[[], tuple[dict[str, float], float | None] | None]) -> None:
        self.latest = latest

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            report = self.latest()
        except Exception:  # as for the queue: a scrape never fails because the database is down
            return
        if report is None:
            return
        scores, max_score = report
        family = GaugeMetricFamily(
            "realeyes_drift_score", "PSI of each feature in the last drift check", labels=["feature"]
        )
        for feature, score in scores.items():
            family.add_metric([feature], score)
        yield family
        if max_score is not None:
            yield GaugeMetricFamily("realeyes_drift_max_score", "Largest PSI in the last drift check", value=max_score)


class _ThisProcess(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def render(extra: list[Collector]) -> bytes:
    """The exposition text: this process's metrics (or every process's, in multiprocess mode) plus `extra`."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)
