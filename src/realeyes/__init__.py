"""RealEyes: is this image authentic, AI-generated or manipulated — and where and why."""

__version__ = "0.1.0"

from realeyes.engine import Engine  # noqa: E402
from realeyes.verdict import Verdict  # noqa: E402

__all__ = ["Engine", "Verdict", "__version__"]
