"""Provisional mapping of forensic statistics to scores, until the learned-model pipeline calibrates them."""

from __future__ import annotations

import math

# Forensic views are explanations first: until fusion is fitted on labelled data they carry little weight.
UNCALIBRATED_WEIGHT = 0.1
# ...and their scores stay inside this band, so that no uncalibrated heuristic can sound confident.
_LOW, _HIGH = 0.3, 0.7


def provisional_score(value: float, centre: float, spread: float) -> float:
    """A soft step from 0.3 to 0.7 around `centre` (`spread` sets how gradual it is)."""
    step = 1.0 / (1.0 + math.exp(-(value - centre) / spread))
    return _LOW + (_HIGH - _LOW) * step
