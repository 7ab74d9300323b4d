"""Evidence -> verdict. The rules, in order:

1. Decisive evidence wins. Provenance that an analyzer marks decisive (a valid C2PA manifest or IPTC metadata
   declaring AI generation, a generator's own parameters in the file, a known invisible watermark, a trusted
   capture signature) sets the label whatever the pixel evidence says. If decisive claims disagree, a claim of
   AI involvement outranks a claim of authenticity: admissions are rarely forged, capture claims can be stripped
   and re-signed.
2. Otherwise the evidence is combined as a logistic model: z = bias + sum_i c_i * logit(score_i), p_fake = sigmoid(z).
   c_i is the analyzer's own weight unless the fitted fusion file (models/fusion.json, written by the
   generalisation benchmark, or REALEYES_FUSION_PATH) gives a coefficient for it. An analyzer with no opinion
   (score None) or that failed adds nothing.
3. p_fake >= the ai_generated threshold -> the label argued for by the evidence that pushed hardest toward "not
   authentic"; p_fake <= the authentic threshold -> "authentic"; in between -> "inconclusive", with a reason that
   says what was missing. The thresholds come with a fitted fusion file (calibrated on real photos from sources
   no model saw, laundered as platforms do: docs/VERDICTS.md); without one, 0.6 and 0.25.
4. Manipulation evidence is also weighed on its own: sigmoid of the summed contributions of the evidence that
   argues for "manipulated" (score above 0.5). A real-vs-AI classifier's low score says the image was not
   generated; it says nothing about splicing or a signature broken after signing, so it must not cancel that
   evidence. When this probability reaches the manipulated threshold and either exceeds p_fake or p_fake falls
   short of the ai_generated threshold, the verdict is "manipulated" with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from realeyes.analyzers.base import Evidence, Label
from realeyes.labels import ACCUSATIONS, VerdictLabel

_EPSILON = 0.01  # scores are clipped so that one overconfident analyzer cannot produce an infinite logit
_MAX_REASONS = 5


@dataclass(frozen=True)
class Thresholds:
    """Where p_fake (or p_manipulated) turns into a label."""

    ai_generated: float = 0.6  # p_fake >= this: not authentic
    authentic: float = 0.25  # p_fake <= this: authentic
    manipulated: float = 0.6  # p_manipulated >= this: manipulated (rule 4; learned votes: FusionModel.votes)

    def __post_init__(self) -> None:
        if not 0.0 < self.authentic < self.ai_generated < 1.0:
            raise ValueError(f"thresholds must satisfy 0 < authentic < ai_generated < 1, got {self}")


@dataclass(frozen=True)
class FusionModel:
    """Logistic fusion parameters: a bias and per-analyzer coefficients on logit(score), and the thresholds
    calibrated with them (None: the defaults)."""

    bias: float = 0.0
    coefficients: dict[str, float] = field(default_factory=dict)
    thresholds: Thresholds | None = None
    # Analyzer -> the score its "manipulated" vote needs (calibrated like the thresholds); unlisted: any score.
    votes: dict[str, float] = field(default_factory=dict)
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path) -> FusionModel:
        raw = json.loads(path.read_text())
        unknown = set(raw) - {"bias", "coefficients", "thresholds", "votes", "fitted_on"}
        if unknown:
            raise ValueError(f"{path}: unknown fusion keys {sorted(unknown)}")
        thresholds = raw.get("thresholds")
        coefficients = {k: float(v) for k, v in raw["coefficients"].items()}
        negative = sorted(name for name, value in coefficients.items() if not value >= 0.0)
        if negative:  # every score means "higher is less authentic": a negative weight would read it backwards
            raise ValueError(f"{path}: fusion coefficients must be >= 0, not for {negative}")
        return cls(
            bias=float(raw.get("bias", 0.0)),
            coefficients=coefficients,
            thresholds=Thresholds(**{k: float(v) for k, v in thresholds.items()}) if thresholds else None,
            votes={k: float(v) for k, v in raw.get("votes", {}).items()},
            fitted_on=str(raw.get("fitted_on", "")),
        )

    def coefficient(self, evidence: Evidence) -> float:
        return self.coefficients.get(evidence.analyzer, evidence.weight)


@dataclass(frozen=True)
class Decision:
    label: VerdictLabel
    p_fake: float
    reasons: list[str]


def logit(p: float) -> float:
    p = min(max(p, _EPSILON), 1.0 - _EPSILON)
    return math.log(p / (1.0 - p))


def decide(evidence: list[Evidence], model: FusionModel, thresholds: Thresholds) -> Decision:
    """Apply the rules in this module's docstring."""
    # A learned vote below its calibrated score is no opinion at all (as the localizer's own threshold makes it).
    opinions = [e for e in evidence if e.ok and e.score is not None and e.score >= model.votes.get(e.analyzer, 0.0)]
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
    if p_manipulated >= thresholds.manipulated and (p_manipulated > p_fake or p_fake < thresholds.ai_generated):
        # Rule 4: manipulation evidence is weighed on its own (see the module docstring).
        reasons = [e.summary for e in manipulation] + [r for r in reasons if r not in {e.summary for e in manipulation}]
        return Decision(label="manipulated", p_fake=p_manipulated, reasons=reasons[:_MAX_REASONS])
    if p_fake >= thresholds.ai_generated:
        # The label comes from evidence that argues for it itself (score above 0.5), not from a weak score that
        # a fitted coefficient happens to turn into a push.
        pushers = [e for e in ranked if contributions[id(e)] > 0 and (e.score or 0) > 0.5 and e.label in ACCUSATIONS]
        label: VerdictLabel = pushers[0].label if pushers and pushers[0].label else "ai-generated"
    elif p_fake <= thresholds.authentic:
        label = "authentic"
    else:
        label = "inconclusive"
        reasons.insert(0, inconclusive_reason(p_fake, thresholds))
    return Decision(label=label, p_fake=p_fake, reasons=reasons)


def inconclusive_reason(p_fake: float, thresholds: Thresholds) -> str:
    """What was missing: how far the pixel evidence is from either label, and that no provenance settled it."""
    return (
        f"Inconclusive: the pixel evidence gives {p_fake:.0%}, short of the {thresholds.ai_generated:.0%} needed to "
        f"call the image AI-generated and above the {thresholds.authentic:.0%} needed to call it authentic; no "
        "provenance (content credentials, generator metadata, watermark) settled it either way."
    )


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
