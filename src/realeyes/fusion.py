"""Evidence -> verdict. The rules, in order:

1. Decisive evidence wins. Provenance that an analyzer marks decisive (a valid C2PA manifest or IPTC metadata
   declaring AI generation, a generator's own parameters in the file, a known invisible watermark, a trusted
   capture signature) sets the label whatever the pixel evidence says. If decisive claims disagree, a claim of
   AI involvement outranks a claim of authenticity: admissions are rarely forged, capture claims can be stripped
   and re-signed.
2. Otherwise the evidence is combined as a logistic model: z = bias + sum_i c_i * logit(score_i), p_fake = sigmoid(z).
   c_i is the analyzer's own weight unless a fitted fusion file (REALEYES_FUSION_PATH, written by the training
   pipeline) gives a coefficient for it. An analyzer with no opinion (score None) or that failed adds nothing.
3. p_fake >= threshold -> the label argued for by the evidence that pushed hardest toward "not authentic";
   p_fake <= authentic_threshold -> "authentic"; in between -> "inconclusive". With only weak evidence p_fake stays
   near 0.5, so the honest answer is "inconclusive" (defaults: threshold 0.6, authentic_threshold 0.25).
4. Manipulation evidence is also weighed on its own: sigmoid of the summed contributions of the evidence that
   argues for "manipulated" (score above 0.5). A real-vs-AI classifier's low score says the image was not
   generated; it says nothing about splicing or a signature broken after signing, so it must not cancel that
   evidence. When this probability reaches the threshold and exceeds p_fake, the verdict is "manipulated" with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from realeyes.analyzers.base import Evidence, Label

_EPSILON = 0.01  # scores are clipped so that one overconfident analyzer cannot produce an infinite logit
_MAX_REASONS = 5


@dataclass(frozen=True)
class FusionModel:
    """Logistic fusion parameters: a bias and per-analyzer coefficients on logit(score)."""

    bias: float = 0.0
    coefficients: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> FusionModel:
        raw = json.loads(path.read_text())
        unknown = set(raw) - {"bias", "coefficients", "fitted_on"}
        if unknown:
            raise ValueError(f"{path}: unknown fusion keys {sorted(unknown)}")
        return cls(
            bias=float(raw.get("bias", 0.0)),
            coefficients={k: float(v) for k, v in raw["coefficients"].items()},
        )

    def coefficient(self, evidence: Evidence) -> float:
        return self.coefficients.get(evidence.analyzer, evidence.weight)


@dataclass(frozen=True)
class Decision:
    label: str  # a Label or "inconclusive"
    p_fake: float
    reasons: list[str]


def logit(p: float) -> float:
    p = min(max(p, _EPSILON), 1.0 - _EPSILON)
    return math.log(p / (1.0 - p))


def decide(evidence: list[Evidence], model: FusionModel, threshold: float, authentic_threshold: float) -> Decision:
    """Apply the rules in this module's docstring."""
    opinions = [e for e in evidence if e.ok and e.score is not None]
    decisive = [e for e in opinions if e.decisive]
    if decisive:
        return _decisive(decisive, opinions)
    if not opinions:
        return Decision(label="inconclusive", p_fake=0.5, reasons=["No analyzer had an opinion on this file."])
    contributions = {id(e): model.coefficient(e) * logit(e.score) for e in opinions if e.score is not None}
    z = model.bias + sum(contributions.values())
    p_fake = 1.0 / (1.0 + math.exp(-z))
    ranked = sorted(opinions, key=lambda e: abs(contributions[id(e)]), reverse=True)
    reasons = [e.summary for e in ranked if contributions[id(e)] != 0.0][:_MAX_REASONS]
    manipulation = [e for e in ranked if e.label == "manipulated" and (e.score or 0) > 0.5 and contributions[id(e)] > 0]
    p_manipulated = 1.0 / (1.0 + math.exp(-sum(contributions[id(e)] for e in manipulation)))
    if p_manipulated >= threshold and p_manipulated > p_fake:
        # Rule 4: manipulation evidence is weighed on its own (see the module docstring).
        reasons = [e.summary for e in manipulation] + [r for r in reasons if r not in {e.summary for e in manipulation}]
        return Decision(label="manipulated", p_fake=p_manipulated, reasons=reasons[:_MAX_REASONS])
    if p_fake >= threshold:
        # The label comes from evidence that argues for it itself (score above 0.5), not from a weak score that
        # a fitted coefficient happens to turn into a push.
        pushers = [
            e
            for e in ranked
            if contributions[id(e)] > 0 and (e.score or 0) > 0.5 and e.label in ("ai-generated", "manipulated")
        ]
        label: str = pushers[0].label if pushers and pushers[0].label else "ai-generated"
    elif p_fake <= authentic_threshold:
        label = "authentic"
    else:
        label = "inconclusive"
        reasons.insert(0, "The evidence is too weak to decide either way.")
    return Decision(label=label, p_fake=p_fake, reasons=reasons)


def _decisive(decisive: list[Evidence], opinions: list[Evidence]) -> Decision:
    not_authentic = [e for e in decisive if e.label != "authentic"]
    winners = not_authentic or decisive
    strongest = (
        max(winners, key=lambda e: e.score or 0.0) if not_authentic else min(winners, key=lambda e: e.score or 1.0)
    )
    label: Label = strongest.label or "ai-generated"
    others = sorted((e for e in opinions if e is not strongest), key=lambda e: (not e.decisive, -e.weight))
    reasons = [strongest.summary, *(e.summary for e in others[: _MAX_REASONS - 1])]
    return Decision(label=label, p_fake=float(strongest.score or 0.0), reasons=reasons)
