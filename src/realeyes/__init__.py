"""RealEyes: is this image authentic, AI-generated or manipulated — and where and why.

`Engine` and `Verdict` are imported on first access, so that importing any part of the package (its settings,
its store) does not load the analyzers' runtimes (OpenCV, ONNX Runtime, PyAV, c2pa)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from realeyes.engine import Engine
    from realeyes.verdict import Verdict

__all__ = ["Engine", "Verdict", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from realeyes.engine import Engine

        return Engine
    if name == "Verdict":
        from realeyes.verdict import Verdict

        return Verdict
    raise AttributeError(f"module 'realeyes' has no attribute {name!r}")
