"""RealEyes: is this image authentic, AI-generated or manipulated — and where and why."""

__version__ = "0.1.0"

from realeyes.engine import Engine
from realeyes.verdict import Verdict

__all__ = ["Engine", "Verdict", "__version__"]
