"""Analyzers register a factory by name; the engine creates them by name (as timm does for models).

The built-in analyzers are listed here, in the order the engine runs them (provenance first), and imported on
the registry's first use: importing `realeyes.analyzers` loads no model runtime, and the video analyzers, which
build on this package, join the registry without this package importing them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from realeyes.analyzers.base import Analyzer
from realeyes.config import Settings
from realeyes.errors import UnknownAnalyzer

AnalyzerClass = TypeVar("AnalyzerClass", bound=type[Analyzer])

BUILT_IN = (
    "realeyes.analyzers.c2pa_credentials",
    "realeyes.analyzers.metadata",
    "realeyes.analyzers.watermark",
    "realeyes.analyzers.spectrum",
    "realeyes.analyzers.ela",
    "realeyes.analyzers.noise",
    "realeyes.analyzers.classifier",
    "realeyes.analyzers.surprisal",
    "realeyes.analyzers.localizer",
    "realeyes.video.container",
    "realeyes.video.analyzer",
)

_FACTORIES: dict[str, Callable[[Settings | None], Analyzer]] = {}


def _factories() -> dict[str, Callable[[Settings | None], Analyzer]]:
    """Every registered factory: the built-ins in BUILT_IN's order (whichever module was imported first), then
    the others in registration order."""
    for module in BUILT_IN:
        importlib.import_module(module)  # registers its analyzers once; later calls find it in sys.modules
    rank = {module: index for index, module in enumerate(BUILT_IN)}
    ordered = sorted(_FACTORIES.items(), key=lambda item: rank.get(getattr(item[1], "__module__", ""), len(rank)))
    return dict(ordered)


def register(cls: AnalyzerClass) -> AnalyzerClass:
    """Class decorator: make an analyzer creatable by its `name`; a duplicate name is a programming error."""
    if cls.name in _FACTORIES:
        raise ValueError(f"an analyzer named {cls.name!r} is already registered")
    _FACTORIES[cls.name] = cls
    return cls


def create(name: str, settings: Settings | None = None) -> Analyzer:
    """Build a registered analyzer; an unknown name raises UnknownAnalyzer listing the known ones."""
    factories = _factories()
    try:
        factory = factories[name]
    except KeyError:
        known = ", ".join(sorted(factories)) or "none"
        raise UnknownAnalyzer(f"Unknown analyzer {name!r}. Known analyzers: {known}.") from None
    return factory(settings)


def list_analyzers() -> list[str]:
    """Registered analyzer names, in the order the engine runs them."""
    return list(_factories())


def describe_analyzers() -> list[dict[str, str]]:
    """Name, version and applicable media kinds of every registered analyzer."""
    return [
        {
            "name": name,
            "version": getattr(factory, "version", "?"),
            "media": ",".join(sorted(getattr(factory, "media_kinds", ()))),
            "summary": (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else "",
        }
        for name, factory in _factories().items()
    ]
