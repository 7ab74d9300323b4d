"""Leave-one-source-out: every detector scored on sources it never saw, thresholds calibrated without them.

Labels: for each held-out source s of a detector's *universe* (the sources none of its models trained on):
1. a fitted detector (the fusion, the file-feature baseline) is fitted on the other sources of the universe;
2. its thresholds are calibrated on the other sources' out-of-fold scores (an inner leave-one-source-out), so the
   held-out source never touches the model, the fusion weights or the thresholds;
3. the held-out images are scored and labelled: accused (score > t_accuse), authentic (score < t_authentic),
   otherwise inconclusive.
t_accuse lets through at most `accuse_target` of the calibration sources' real photos in each condition (clean,
laundered, hard); t_authentic calls at most `miss_target` of their laundered generated images authentic. Fixed detectors
(the shipped classifier, the forensic views) skip step 1; their universe excludes every source they trained on.

Ranking: every (real source, generator family) pair is held out together, and a fitted detector is refitted
without both, so each real-vs-generated comparison is made by one model that saw neither image's source
(scores of models fitted on different folds are not comparable, so they are never pooled into one ranking).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from realeyes.fusion import logit
from realeyes.training.dataset import FAKE, REAL
from realeyes.training.fusion_fit import fit_logistic
from realeyes.training.generalisation.scores import CONDITIONS, FILE_FEATURES
from realeyes.training.metrics import roc_auc

Scorer = Callable[["Table", np.ndarray], np.ndarray]
# The accusation threshold must hold for a real photo however it reaches us: as the file itself, laundered by a
# platform, or hard (upscaled, denoised, low-light, recompressed) and laundered.
REAL_CONDITIONS = CONDITIONS
MIN_INPUT_AUC = 0.55  # fusion inputs ranking their training data worse than this get no weight


@dataclass(frozen=True)
class Targets:
    accuse: float = 0.04  # laundered real photos accused, on calibration sources (the promise is <= 5 %)
    miss: float = 0.10  # laundered generated images called authentic, on calibration sources


@dataclass
class Table:
    """The scores CSV as columns: one entry per (image, condition)."""

    label: np.ndarray
    source: np.ndarray
    condition: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    _logits: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, str]]) -> Table:
        def number(value: str) -> float:
            return float(value) if value != "" else np.nan

        names = [k for k in rows[0] if k.startswith("score_") or k in FILE_FEATURES or k == "p_fake"]
        return cls(
            label=np.array([int(r["label"]) for r in rows]),
            source=np.array([r["source"] for r in rows]),
            condition=np.array([r["condition"] for r in rows]),
            columns={name: np.array([number(r.get(name, "")) for r in rows]) for name in names},
        )

    def sources(self) -> list[str]:
        return sorted(set(self.source.tolist()))

    def logits(self, column: str) -> np.ndarray:
        """logit of a score column, 0 where the analyzer had no opinion (it then contributes nothing, as in the
        engine's fusion); computed once, since the fusion is refitted hundreds of times per benchmark."""
        if column not in self._logits:
            self._logits[column] = np.array([logit(v) if np.isfinite(v) else 0.0 for v in self.columns[column]])
        return self._logits[column]


@dataclass(frozen=True)
class Detector:
    """A named way to turn a table's rows into a score (higher = more likely generated)."""

    name: str
    fit: Callable[[Table, np.ndarray], Scorer]  # (table, training mask) -> scorer
    seen: frozenset[str] = frozenset()  # sources its fixed model was trained on: never tested on
    fitted: bool = False  # fitted per fold (else `fit` ignores its data)

    def universe(self, table: Table) -> list[str]:
        return [s for s in table.sources() if s not in self.seen]


def fixed(name: str, column: str, seen: frozenset[str] = frozenset()) -> Detector:
    """A detector whose score is one column (a shipped model or a forensic view)."""

    def fit(_table: Table, _mask: np.ndarray) -> Scorer:
        return lambda table, rows: np.nan_to_num(table.columns[column][rows], nan=0.5)

    return Detector(name, fit, seen)


def _logit_features(table: Table, columns: Sequence[str], rows: np.ndarray) -> np.ndarray:
    return np.stack([table.logits(c)[rows] for c in columns], axis=1)


def fit_fusion_params(table: Table, columns: Sequence[str], mask: np.ndarray) -> tuple[float, np.ndarray]:
    """The engine's logistic fusion (bias + non-negative coefficient per analyzer on logit(score)) on `mask`.

    An input that does not rank its training rows' laundered images better than MIN_INPUT_AUC gets no weight:
    a detector that does not beat chance where it is fitted will not beat it on unseen sources either."""
    laundered = mask & (table.condition == "laundered")
    labels = table.label[laundered]
    useful = [
        (roc_auc(labels, np.nan_to_num(table.columns[c][laundered], nan=0.5)) or 0.0) > MIN_INPUT_AUC for c in columns
    ]
    coefficients = np.zeros(len(columns))
    kept = [c for c, keep in zip(columns, useful, strict=True) if keep]
    if not kept or len(set(labels.tolist())) < 2:
        return 0.0, coefficients  # nothing that ranks, or one class only: no opinion
    bias, fitted = fit_logistic(
        _logit_features(table, kept, mask), table.label[mask].astype(float), weights=balanced_weights(table, mask)
    )
    coefficients[np.flatnonzero(useful)] = fitted
    return bias, coefficients


def balanced_weights(table: Table, mask: np.ndarray) -> np.ndarray:
    """Row weights giving each class half the total and each source an equal share of its class: which sources
    happen to be held out must not shift the fitted balance (one real source holds most real photos)."""
    sources, label = table.source[mask], table.label[mask]
    weights = np.zeros(sources.size)
    for cls in (REAL, FAKE):
        in_class = label == cls
        names, counts = np.unique(sources[in_class], return_counts=True)
        per_row = dict(zip(names.tolist(), (1.0 / (names.size * counts)).tolist(), strict=True))
        weights[in_class] = [per_row[s] for s in sources[in_class]]
    return weights


def fusion(name: str, columns: Sequence[str], seen: frozenset[str]) -> Detector:
    """The engine's fusion of the given score columns, refitted per fold."""

    def fit(table: Table, mask: np.ndarray) -> Scorer:
        bias, coefficients = fit_fusion_params(table, columns, mask)

        def score(t: Table, rows: np.ndarray) -> np.ndarray:
            return np.asarray(1.0 / (1.0 + np.exp(-(bias + _logit_features(t, columns, rows) @ coefficients))))

        return score

    return Detector(name, fit, seen, fitted=True)


def file_feature_baseline() -> Detector:
    """Logistic regression on file size, JPEG quantisation and image size only: it must sit at chance."""

    def fit(table: Table, mask: np.ndarray) -> Scorer:
        features = np.stack([table.columns[c][mask] for c in FILE_FEATURES], axis=1)
        mean, std = features.mean(axis=0), features.std(axis=0) + 1e-9
        bias, coefficients = fit_logistic((features - mean) / std, table.label[mask].astype(float), nonnegative=False)

        def score(t: Table, rows: np.ndarray) -> np.ndarray:
            x = (np.stack([t.columns[c][rows] for c in FILE_FEATURES], axis=1) - mean) / std
            return np.asarray(1.0 / (1.0 + np.exp(-(bias + x @ coefficients))))

        return score

    return Detector("file-features baseline", fit, fitted=True)


def out_of_fold(detector: Detector, table: Table, universe: Sequence[str]) -> np.ndarray:
    """Each row of the universe scored by the detector fitted without the row's source (NaN outside it)."""
    scores = np.full(table.label.shape, np.nan)
    if not detector.fitted:
        inside = np.isin(table.source, universe)
        scores[inside] = detector.fit(table, inside)(table, inside)
        return scores
    for held_out in universe:
        train = np.isin(table.source, universe) & (table.source != held_out)
        test = table.source == held_out
        scores[test] = detector.fit(table, train)(table, test)
    return scores


@dataclass(frozen=True)
class Thresholds:
    accuse: float  # score > accuse: accused (labelled generated or manipulated)
    authentic: float  # score < authentic: labelled authentic

    def labels(self, scores: np.ndarray) -> np.ndarray:
        return np.where(scores > self.accuse, "accused", np.where(scores < self.authentic, "authentic", "inconclusive"))


def calibrate(scores: np.ndarray, table: Table, rows: np.ndarray, targets: Targets) -> Thresholds:
    """Thresholds from out-of-fold scores of the calibration rows (see the module docstring): the accusation
    threshold holds for the real photos of every condition alike."""
    valid = rows & np.isfinite(scores)
    accuse = 0.0
    for condition in REAL_CONDITIONS:
        real = scores[valid & (table.label == REAL) & (table.condition == condition)]
        if real.size:
            accuse = max(accuse, float(np.quantile(real, 1.0 - targets.accuse, method="higher")))
    fake = scores[valid & (table.label == FAKE) & (table.condition == "laundered")]
    authentic = float(np.quantile(fake, targets.miss, method="lower")) if fake.size else 0.0
    return Thresholds(accuse=accuse, authentic=min(authentic, accuse))


@dataclass
class FoldResult:
    """Out-of-fold scores and labels for every row of a detector's universe."""

    detector: str
    universe: list[str]
    scores: np.ndarray
    labels: np.ndarray  # "accused" | "authentic" | "inconclusive" | "" outside the universe
    thresholds: dict[str, Thresholds]  # per held-out source


def run_protocol(detector: Detector, table: Table, targets: Targets) -> FoldResult:
    """Leave-one-source-out scores, thresholds calibrated without the held-out source, and the labels they give."""
    universe = detector.universe(table)
    scores = out_of_fold(detector, table, universe)
    labels = np.full(table.label.shape, "", dtype=object)
    per_fold: dict[str, Thresholds] = {}
    for held_out in universe:
        others = [s for s in universe if s != held_out]
        inner = out_of_fold(detector, table, others) if detector.fitted else scores
        thresholds = calibrate(inner, table, np.isin(table.source, others), targets)
        test = table.source == held_out
        labels[test] = thresholds.labels(scores[test])
        per_fold[held_out] = thresholds
    return FoldResult(detector.name, universe, scores, labels, per_fold)


@dataclass
class Ranking:
    """wins[i, j]: 1 when generated image j outscores real image i, 0.5 on a tie; both scored by a model that saw
    neither source. real_rows / fake_rows: their table rows."""

    real_rows: np.ndarray
    fake_rows: np.ndarray
    wins: np.ndarray


def opposite_condition(condition: str) -> str:
    """What a real photo of a condition is compared with: hard real photos meet laundered generated images."""
    return "laundered" if condition == "hard" else condition


def rankings(
    detector: Detector, table: Table, universe: Sequence[str], conditions: Sequence[str]
) -> dict[str, Ranking]:
    """Leave-pair-out comparisons for each condition (see the module docstring)."""
    inside = np.isin(table.source, universe)
    real_sources = sorted(set(table.source[inside & (table.label == REAL)].tolist()))
    fake_sources = sorted(set(table.source[inside & (table.label == FAKE)].tolist()))
    result = {}
    for condition in conditions:
        real = np.flatnonzero(inside & (table.label == REAL) & (table.condition == condition))
        fake = np.flatnonzero(inside & (table.label == FAKE) & (table.condition == opposite_condition(condition)))
        result[condition] = Ranking(real, fake, np.zeros((real.size, fake.size)))
    pairs: list[tuple[str | None, str | None]] = [(None, None)]
    if detector.fitted:
        pairs = [(r, g) for r in real_sources for g in fake_sources]
    for real_source, fake_source in pairs:
        held_out = [s for s in (real_source, fake_source) if s is not None]
        scorer = detector.fit(table, inside & ~np.isin(table.source, held_out))
        for ranking in result.values():
            i = _rows_of(table.source[ranking.real_rows], real_source)
            j = _rows_of(table.source[ranking.fake_rows], fake_source)
            if i.size and j.size:
                s_real = scorer(table, _mask(table, ranking.real_rows[i]))
                s_fake = scorer(table, _mask(table, ranking.fake_rows[j]))
                wins = (s_fake[None, :] > s_real[:, None]) + 0.5 * (s_fake[None, :] == s_real[:, None])
                ranking.wins[np.ix_(i, j)] = wins
    return result


def _rows_of(sources: np.ndarray, source: str | None) -> np.ndarray:
    return np.arange(sources.size) if source is None else np.flatnonzero(sources == source)


def _mask(table: Table, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(table.label.shape, dtype=bool)
    mask[rows] = True
    return mask
