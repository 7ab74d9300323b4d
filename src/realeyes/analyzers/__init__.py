"""Analyzers: each gives one kind of evidence. Importing this package registers the built-in ones."""

# Import order is registration order, which is the order the engine runs them: provenance first.
from realeyes.analyzers import c2pa_credentials, metadata, watermark  # noqa: F401  # isort: skip
from realeyes.analyzers import spectrum, ela, noise  # noqa: F401  # isort: skip
from realeyes.analyzers import classifier  # noqa: F401  # isort: skip
from realeyes.analyzers import surprisal  # noqa: F401  # isort: skip
from realeyes.analyzers import localizer  # noqa: F401  # isort: skip
from realeyes.video import container as video_container  # noqa: F401  # isort: skip
from realeyes.video import analyzer as video_analyzer  # noqa: F401  # isort: skip
from realeyes.analyzers._registry import create, describe_analyzers, list_analyzers, register
from realeyes.analyzers.base import Analyzer, ErrorInfo, Evidence, Label, Map

__all__ = [
    "Analyzer",
    "ErrorInfo",
    "Evidence",
    "Label",
    "Map",
    "create",
    "describe_analyzers",
    "list_analyzers",
    "register",
]
