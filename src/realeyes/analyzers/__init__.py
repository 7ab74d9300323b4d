"""Analyzers: each gives one kind of evidence. The built-in ones are listed in _registry.BUILT_IN and loaded on
first use of the registry."""

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
