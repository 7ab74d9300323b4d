"""Progress of long analyses (videos): analyzers report a fraction, whoever runs them (a job worker) listens.

A context variable keeps this out of every signature: without a listener, reporting does nothing."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[float], None]
_listener: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("progress_listener", default=None)


def report(fraction: float) -> None:
    listener = _listener.get()
    if listener is not None:
        listener(min(1.0, max(0.0, fraction)))


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
