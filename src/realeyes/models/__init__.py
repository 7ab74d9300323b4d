"""Serving side of learned models: bundles (ONNX + model card) and the registry of promoted bundles."""

from realeyes.models.bundle import Bundle, load_bundle
from realeyes.models.registry import Registry

__all__ = ["Bundle", "Registry", "load_bundle"]
