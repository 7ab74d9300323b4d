"""The base of the analyzers that serve a learned model: one task's promoted bundle, or a given one to evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from realeyes.analyzers.base import Analyzer
from realeyes.config import Settings
from realeyes.models import Bundle, load_bundle
from realeyes.models.served import ServedModel


class ServedAnalyzer(Analyzer):
    """Subclasses set `task` and the card entries they read (`card_needs`); a card without them makes the
    analyzer unavailable with that reason (ServedModel)."""

    task: ClassVar[str]
    card_needs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings | None = None, bundle: Bundle | None = None) -> None:
        super().__init__(settings)
        self.model = ServedModel(self.task, self.settings, bundle, self.card_needs)

    @classmethod
    def from_bundle(cls, path: Path | None, settings: Settings | None = None) -> Self:
        """The analyzer serving the bundle at `path` (the promoted one when None)."""
        return cls(settings, bundle=load_bundle(path) if path else None)

    @property
    def model_version(self) -> str:
        return self.model.version
