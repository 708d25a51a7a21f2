"""A calibrated confidence: the estimated probability that the router's route is right.

For every decision the router can make a complete guess for (an industry of the ten
with a routing-table row, and a township) a small feature vector is computed from
what the classifier and the locator found; a logistic model maps it to P(route right),
where "right" means the guess (industry, township, lead department) equals the
labelled route of a case a dispatcher would route. A case labelled triage is a wrong
route whatever is guessed. A decision without a complete guess has probability 0.

The model is fitted with scikit-learn on the TRAIN part of the labelled sets only
(``evaluate.load_cases(path, part="train")``) and exported as plain JSON
(``data/calibration.json``: coefficients on the raw feature scale, intercept, feature
names, threshold, precision target, training sets and date), so that at run time the
probability is one dot product and ``math.exp``: no scikit-learn, no numpy.

Why logistic regression and not isotonic regression on top of it: logistic
regression fitted by log loss *is* Platt scaling of a linear score, so its outputs are
calibrated by construction when the model fits; a second Platt layer adds nothing.
Isotonic regression needs many more cases than the ~550 labelled ones here (its
steps are estimated from a handful of cases each, and it puts whole steps at 1.0 on
a few lucky cases, which is exactly the over-confidence "above 0.9 means right"
forbids). The reliability table of the out-of-fold predictions (printed by ``fit``)
is the check that the sigmoid is adequate. L2 regularisation (C chosen by inner
cross-validated log loss) keeps the ~25 weights from chasing single cases.

The threshold is chosen from out-of-fold predictions (5-fold, stratified, fixed
seed): the lowest probability at which the cases the router would route (no hard
doubt, probability at or above it) are right at least ``precision target`` of the time.
It is a setting (``ROUTING_MIN_CONFIDENCE``); the fitted value is only the default.

Rebuild after any change to the router, the vocabulary or the divisions:

    python -m routing.router.fit [SET.jsonl …] [--target 0.98] [--out FILE]
    flask --app wsgi routing calibrate [SET.jsonl …]   (both in routing/router/fit.py)

The features read what the classifier and locator expose with ``getattr`` defaults
(a fuzzy match's ``Mention.how``, a classification's ambiguity list, the location's
``basis`` group and ``groups``), so they work with and without those fields.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PATH = os.path.join(HERE, "data", "calibration.json")
DEFAULT_TARGET = 0.98

FEATURES = (
    # the classifier
    "cls_confidence",
    "cls_log_top",
    "cls_share",
    "cls_margin",
    "cls_trades",
    "cls_hint",
    "cls_ambiguous",
    # the locator
    "loc_confidence",
    "loc_from_address",
    "loc_from_text",
    "loc_from_name",
    "loc_by_village",
    "loc_bare",
    "loc_short_name",
    "loc_fuzzy",
    "loc_readings",
    "loc_towns_named",
    "loc_places",
    "loc_other_roles",
    "loc_county_named",
    "loc_candidates",
    "loc_problems",
    # the case
    "kind_tip",
    "channel_sms",
    "channel_hotline",
    "has_address",
    "has_business_name",
)
# Not the text's length: it is the strongest single predictor on the labelled sets (their hard
# cases are long stories with misleading places, and short SMS), but as a slope it extrapolates:
# a clean eight-character complaint with a full address and a shop name got 0.50.
EXACT = (None, "", "exact")


def _how_fuzzy(mentions) -> bool:
    return any(getattr(m, "how", None) not in EXACT for m in mentions)


def features(case: dict, cls, loc) -> list[float]:
    """The feature vector (in ``FEATURES`` order) of one decision."""
    scores = sorted((s for s in (getattr(cls, "scores", None) or {}).values() if s > 0), reverse=True)
    top = scores[0] if scores else 0.0
    second = scores[1] if len(scores) > 1 else 0.0
    evidence = getattr(cls, "evidence", None) or []
    ambiguity = getattr(cls, "ambiguity", None) or getattr(cls, "ambiguous", None) or []
    ambiguous = len(ambiguity) if isinstance(ambiguity, (list, tuple, set, dict)) else float(bool(ambiguity))

    basis = getattr(loc, "basis", None)
    groups = getattr(loc, "groups", None) or []
    source = getattr(basis, "source", None)
    readings = list(getattr(basis, "readings", None) or [])
    level = getattr(basis, "top_level", None) if basis is not None else None
    business = [g for g in groups if getattr(g, "role", "business") in ("business", "origin")]
    towns = {m.code for g in business for m in getattr(g, "readings", []) if m.level == "township"}
    fuzzy = _how_fuzzy(readings) or (basis is None and any(_how_fuzzy(getattr(g, "readings", [])) for g in business))
    return [
        float(getattr(cls, "confidence", 0.0) or 0.0),
        math.log1p(top),
        top / sum(scores) if scores else 0.0,
        (top - second) / top if top else 0.0,
        float(min(len(scores), 4)),
        float(any(t == "投诉人所选行业" for t, *_ in evidence)),
        float(min(ambiguous, 3)),
        float(getattr(loc, "confidence", 0.0) or 0.0),
        float(source == "address"),
        float(source == "text"),
        float(source == "name"),
        float(level == "village"),
        float(bool(getattr(basis, "bare", False))),
        float(basis is not None and len(getattr(basis, "text", "")) <= 2),
        float(fuzzy),
        float(min(len(readings), 5)),
        float(min(len(towns), 4)),
        float(min(len(business), 6)),
        float(min(len(groups) - len(business), 4)),
        float(any(getattr(g, "top_level", "village") in ("province", "city", "county") for g in business)),
        float(min(len(getattr(loc, "candidates", None) or []), 5)),
        float(bool(getattr(loc, "problems", None))),
        float(case.get("kind") == "tip"),
        float(case.get("channel") == "sms"),
        float(case.get("channel") == "hotline"),
        float(bool(case.get("address"))),
        float(bool(case.get("business_name"))),
    ]


@dataclass
class Calibration:
    """A fitted logistic model on the raw features, and the threshold chosen for it."""

    features: list[str]
    coef: list[float]
    intercept: float
    threshold: float
    precision_target: float = DEFAULT_TARGET
    meta: dict = field(default_factory=dict)

    def probability(self, x: list[float]) -> float:
        """P(route right) for a feature vector in ``self.features`` order."""
        z = self.intercept + sum(c * v for c, v in zip(self.coef, x))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def vector(self, case: dict, cls, loc) -> list[float]:
        """The features this model was fitted on, whatever order ``FEATURES`` has now."""
        values = dict(zip(FEATURES, features(case, cls, loc)))
        return [values.get(name, 0.0) for name in self.features]

    def to_dict(self) -> dict:
        return {
            "model": "logistic",
            "features": list(self.features),
            "coef": [round(c, 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 4),
            "precision_target": self.precision_target,
            "isotonic": None,
            **self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Calibration":
        if data.get("model", "logistic") != "logistic" or data.get("isotonic"):
            raise ValueError("calibration.json: only a plain logistic model is understood")
        meta = {
            k: v
            for k, v in data.items()
            if k not in ("model", "features", "coef", "intercept", "threshold", "precision_target", "isotonic")
        }
        return cls(
            list(data["features"]),
            [float(c) for c in data["coef"]],
            float(data["intercept"]),
            float(data["threshold"]),
            float(data.get("precision_target", DEFAULT_TARGET)),
            meta,
        )

    def save(self, path: str = DEFAULT_PATH) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, ensure_ascii=False, indent=1)
            fh.write("\n")


def load_calibration(path: str = DEFAULT_PATH) -> Calibration | None:
    """The shipped (or given) calibration; None if there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return Calibration.from_dict(json.load(fh))


def stored_threshold(path: str = DEFAULT_PATH, default: float = 0.6) -> float:
    cal = load_calibration(path)
    return cal.threshold if cal else default
