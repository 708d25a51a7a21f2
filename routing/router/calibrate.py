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

    python -m routing.router.calibrate fit [SET.jsonl …] [--target 0.98] [--out FILE]
    flask --app wsgi routing calibrate [SET.jsonl …]

The features read what the classifier and locator expose with ``getattr`` defaults
(a fuzzy match's ``Mention.how``, a classification's ambiguity list, the location's
``basis`` group and ``groups``), so they work with and without those fields.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PATH = os.path.join(HERE, "data", "calibration.json")
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SETS_DIR = os.path.join(os.path.dirname(REPO), "shared", "eval")
DEFAULT_SETS = ("dev_cases.jsonl", "dev_cases_2.jsonl", "dev_cases_3.jsonl")
DEFAULT_TARGET = 0.98
FOLDS = 5
SEED = 0
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)

FEATURES = (
    # the classifier
    "cls_confidence", "cls_log_top", "cls_share", "cls_margin", "cls_trades", "cls_hint",
    "cls_ambiguous",
    # the locator
    "loc_confidence", "loc_from_address", "loc_from_text", "loc_from_name", "loc_by_village",
    "loc_bare", "loc_short_name", "loc_fuzzy", "loc_readings", "loc_towns_named",
    "loc_places", "loc_other_roles", "loc_county_named", "loc_candidates", "loc_problems",
    # the case
    "kind_tip", "channel_sms", "channel_hotline", "has_address", "has_business_name",
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
    fuzzy = _how_fuzzy(readings) or (basis is None and any(_how_fuzzy(getattr(g, "readings", []))
                                                         for g in business))
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
        return {"model": "logistic", "features": list(self.features),
                "coef": [round(c, 6) for c in self.coef], "intercept": round(self.intercept, 6),
                "threshold": round(self.threshold, 4), "precision_target": self.precision_target,
                "isotonic": None, **self.meta}

    @classmethod
    def from_dict(cls, data: dict) -> "Calibration":
        if data.get("model", "logistic") != "logistic" or data.get("isotonic"):
            raise ValueError("calibration.json: only a plain logistic model is understood")
        meta = {k: v for k, v in data.items()
                if k not in ("model", "features", "coef", "intercept", "threshold",
                             "precision_target", "isotonic")}
        return cls(list(data["features"]), [float(c) for c in data["coef"]], float(data["intercept"]),
                   float(data["threshold"]), float(data.get("precision_target", DEFAULT_TARGET)), meta)

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


# --- choosing the threshold ------------------------------------------------------

def choose_threshold(probabilities, right, eligible, target: float = DEFAULT_TARGET) -> float:
    """The lowest probability at which the eligible cases at or above it are right >= target.

    ``eligible``: the router would route the case if its probability were high enough (no
    hard doubt). If no threshold reaches the target, 1.0 (nothing routes automatically).
    """
    rows = sorted(((p, r) for p, r, e in zip(probabilities, right, eligible) if e), key=lambda t: -t[0])
    best, hits, n, i = 1.0, 0, 0, 0
    while i < len(rows):
        p = rows[i][0]
        while i < len(rows) and rows[i][0] == p:  # ties route together
            hits += bool(rows[i][1])
            n += 1
            i += 1
        if hits / n >= target:
            best = p
    return round(best, 4) if best < 1.0 else 1.0


def rates(probabilities, right, eligible, routable, threshold: float) -> dict:
    """Precision, coverage and triage recall if cases at or above ``threshold`` route."""
    routed = [e and p >= threshold for p, e in zip(probabilities, eligible)]
    n_routed = sum(routed)
    hits = sum(a and r for a, r in zip(routed, right))
    n_routable = sum(routable)
    covered = sum(a and t for a, t in zip(routed, routable))
    n_triage = len(routable) - n_routable
    caught = sum((not a) and (not t) for a, t in zip(routed, routable))
    return {"precision": hits / n_routed if n_routed else 1.0,
            "coverage": covered / n_routable if n_routable else 1.0,
            "triage_recall": caught / n_triage if n_triage else 1.0,
            "routed": n_routed, "routable": n_routable, "to_triage": n_triage}


# --- fitting -------------------------------------------------------------------------

def default_sets() -> list[str]:
    return [os.path.join(DEFAULT_SETS_DIR, name) for name in DEFAULT_SETS]


def _digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:16]


def training_rows(router, paths: list[str], part: str = "train"):
    """(features, right, eligible, routable, case) for every case of the sets' ``part``."""
    from routing.router.evaluate import INPUT_KEYS, load_cases

    rows = []
    for path in paths:
        for case in load_cases(path, part):
            inp = {k: case.get(k) for k in INPUT_KEYS}
            cls, loc, route = router.analyse(inp)
            expect = case["expect"]
            complete = router.complete(cls, loc, route)
            guess = {"industry": cls.industry, "township": loc.township,
                     "lead_department": route[0] if route else None}
            right = complete and not expect["triage"] and all(
                guess[k] == expect.get(k) for k in ("industry", "township", "lead_department"))
            rows.append({"x": features(inp, cls, loc), "right": right, "complete": complete,
                         "eligible": complete and not router.doubts(cls, loc, route),
                         "routable": not expect["triage"], "case": case})
    return rows


def _model(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))


def _oof(X, y, c: float, seed: int = SEED):
    """Out-of-fold probabilities of a model with regularisation ``c``."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(y))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(X, y):
        out[test] = _model(c).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    return out


def _choose_c(X, y) -> float:
    """The regularisation with the best cross-validated log loss (on the train part only)."""
    import numpy as np

    def loss(c):
        p = np.clip(_oof(X, y, c, seed=SEED + 1), 1e-6, 1 - 1e-6)
        return -float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    return min(C_GRID, key=loss)


def fit(router, paths: list[str] | None = None, target: float = DEFAULT_TARGET):
    """Fit on the sets' train part; (Calibration, out-of-fold report dict)."""
    import numpy as np

    paths = list(paths or default_sets())
    rows = training_rows(router, paths, "train")
    fitted = [r for r in rows if r["complete"]]  # without a complete guess the probability is 0
    X = np.array([r["x"] for r in fitted], dtype=float)
    y = np.array([int(r["right"]) for r in fitted])
    c = _choose_c(X, y)
    oof = _oof(X, y, c)
    probs = iter(oof.tolist())
    p_all = [next(probs) if r["complete"] else 0.0 for r in rows]
    args = ([r["right"] for r in rows], [r["eligible"] for r in rows], [r["routable"] for r in rows])
    threshold = choose_threshold(p_all, args[0], args[1], target)
    model = _model(c).fit(X, y)
    scaler, lr = model[0], model[1]
    coef = lr.coef_[0] / scaler.scale_
    intercept = float(lr.intercept_[0] - np.sum(lr.coef_[0] * scaler.mean_ / scaler.scale_))
    meta = {"C": c, "fitted_on": _dt.date.today().isoformat(),
            "training_sets": [{"name": os.path.basename(p), "part": "train", "sha256": _digest(p)}
                              for p in paths],
            "cases": len(rows), "cases_with_a_guess": len(fitted), "right": int(y.sum())}
    report = {"threshold": threshold, "C": c, **rates(p_all, *args, threshold),
              "reliability": reliability(p_all, args[0])}
    meta["cross_validated"] = {k: (round(v, 4) if isinstance(v, float) else v)
                               for k, v in report.items() if k != "reliability"}
    return Calibration(list(FEATURES), coef.tolist(), intercept, threshold, target, meta), report


# --- the reliability table -----------------------------------------------------------

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


def reliability(probabilities, right, bins=BINS) -> list[dict]:
    """Per confidence bin [lo, hi) (the last closed): cases, right, mean confidence, precision."""
    table = []
    for i, (lo, hi) in enumerate(zip(bins, bins[1:])):
        last = i == len(bins) - 2
        inside = [(p, r) for p, r in zip(probabilities, right) if lo <= p < hi or (last and p == hi)]
        n, hits = len(inside), sum(bool(r) for _, r in inside)
        table.append({"lo": lo, "hi": hi, "cases": n, "right": hits,
                      "mean_confidence": sum(p for p, _ in inside) / n if n else None,
                      "precision": hits / n if n else None})
    return table


def format_reliability(table: list[dict]) -> str:
    lines = ["confidence   cases  right  mean conf  observed precision"]
    for row in table:
        mean = f"{row['mean_confidence']:.3f}" if row["cases"] else "    -"
        prec = f"{row['precision']:.1%}" if row["cases"] else "-"
        lines.append(f"{row['lo']:.2f}–{row['hi']:.2f}  {row['cases']:6d} {row['right']:6d}  "
                     f"{mean:>9}  {prec:>8}")
    return "\n".join(lines)


def format_fit(cal: Calibration, report: dict) -> str:
    return "\n".join([
        f"fitted on the train part of {', '.join(s['name'] for s in cal.meta['training_sets'])}: "
        f"{cal.meta['cases']} cases, {cal.meta['cases_with_a_guess']} with a complete guess, "
        f"{cal.meta['right']} right; C={report['C']}",
        f"threshold {report['threshold']:.4f} for precision ≥ {cal.precision_target:.0%} "
        "(out-of-fold)",
        f"cross-validated: precision {report['precision']:.1%} (of {report['routed']} routed)  "
        f"coverage {report['coverage']:.1%} (of {report['routable']} routable)  "
        f"triage recall {report['triage_recall']:.1%} (of {report['to_triage']} to triage)",
        "out-of-fold reliability:",
        format_reliability(report["reliability"]),
    ])


def main(argv: list[str]) -> int:
    """python -m routing.router.calibrate fit [SET.jsonl …] [--target 0.98] [--out FILE]"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m routing.router.calibrate")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fit", help="fit on the train part of the sets and write calibration.json")
    p.add_argument("sets", nargs="*", help=f"labelled JSON-lines files (default: {DEFAULT_SETS_DIR}/"
                                           + ", ".join(DEFAULT_SETS) + ")")
    p.add_argument("--target", type=float, default=DEFAULT_TARGET, help="precision target")
    p.add_argument("--out", default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    from routing.router.evaluate import build_router_from_reference_files

    cal, report = fit(build_router_from_reference_files(), args.sets, args.target)
    cal.save(args.out)
    print(format_fit(cal, report))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
