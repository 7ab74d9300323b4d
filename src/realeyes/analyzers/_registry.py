"""Analyzers register a factory by name; the engine creates them by name (as timm does for models)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from realeyes.analyzers.base import Analyzer
from realeyes.config import Settings
from realeyes.errors import UnknownAnalyzer

AnalyzerClass = TypeVar("AnalyzerClass", bound=type[Analyzer])

_FACTORIES: dict[str, Callable[[Settings | None], Analyzer]] = {}


def register(cls: AnalyzerClass) -> AnalyzerClass:
    """Class decorator: make an analyzer creatable by its `name`; a duplicate name is a programming error."""
    if cls.name in _FACTORIES:
        raise ValueError(f"an analyzer named {cls.name!r} is already registered")
    _FACTORIES[cls.name] = cls
    return cls


def create(name: str, settings: Settings | None = None) -> Analyzer:
    """Build a registered analyzer; an unknown name raises UnknownAnalyzer listing the known ones."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise UnknownAnalyzer(f"Unknown analyzer {name!r}. Known analyzers: {known}.") from None
    return factory(settings)


def list_analyzers() -> list[str]:
    """Registered analyzer names, in registration order (the order the engine runs them)."""
    return list(_FACTORIES)


def describe_analyzers() -> list[dict[str, str]]:
    """Name, version and applicable media kinds of every registered analyzer."""
    return [
        {
            "name": name,
            "version": getattr(factory, "version", "?"),
            "media": ",".join(sorted(getattr(factory, "media_kinds", ()))),
            "summary": (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else "",
        }
        for name, factory in _FACTORIES.items()
    ]
