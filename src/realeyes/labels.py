"""The label vocabulary, defined once: what evidence may claim, what a verdict may say, and which labels accuse."""

from __future__ import annotations

from typing import Literal

EvidenceLabel = Literal["ai-generated", "manipulated", "authentic"]  # an analyzer's claim (and a person's feedback)
VerdictLabel = Literal["ai-generated", "manipulated", "authentic", "inconclusive"]  # what the evidence cannot decide
ACCUSATIONS: frozenset[str] = frozenset({"ai-generated", "manipulated"})  # the labels that say "not authentic"
