"""Fitting the confidence model on labelled cases (scikit-learn, at build time only).

    python -m routing.router.fit [SET.jsonl …] [--target 0.98] [--out FILE]
    flask --app wsgi routing calibrate [SET.jsonl …]

See ``routing.router.calibrate`` for the model and why it is a logistic one.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import os
import sys

from routing.router.calibrate import DEFAULT_PATH, DEFAULT_TARGET, FEATURES, Calibration, features
from routing.router.evaluate import INPUT_KEYS, build_router_from_reference_files, load_cases
from routing.router.reliability import format_reliability, reliability

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SETS_DIR = os.path.join(os.path.dirname(REPO), "shared", "eval")
DEFAULT_SETS = ("dev_cases.jsonl", "dev_cases_2.jsonl", "dev_cases_3.jsonl")
FOLDS = 5
SEED = 0
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)

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
    return {
        "precision": hits / n_routed if n_routed else 1.0,
        "coverage": covered / n_routable if n_routable else 1.0,
        "triage_recall": caught / n_triage if n_triage else 1.0,
        "routed": n_routed,
        "routable": n_routable,
        "to_triage": n_triage,
    }


# --- fitting -------------------------------------------------------------------------


def default_sets() -> list[str]:
    return [os.path.join(DEFAULT_SETS_DIR, name) for name in DEFAULT_SETS]


def _digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:16]


def training_rows(router, paths: list[str], part: str = "train"):
    """(features, right, eligible, routable, case) for every case of the sets' ``part``."""
    rows = []
    for path in paths:
        for case in load_cases(path, part):
            inp = {k: case.get(k) for k in INPUT_KEYS}
            cls, loc, route = router.analyse(inp)
            expect = case["expect"]
            complete = router.complete(cls, loc, route)
            guess = {"industry": cls.industry, "township": loc.township, "lead_department": route[0] if route else None}
            right = (
                complete
                and not expect["triage"]
                and all(guess[k] == expect.get(k) for k in ("industry", "township", "lead_department"))
            )
            rows.append(
                {
                    "x": features(inp, cls, loc),
                    "right": right,
                    "complete": complete,
                    "eligible": complete and not router.doubts(cls, loc, route),
                    "routable": not expect["triage"],
                    "case": case,
                }
            )
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
    meta = {
        "C": c,
        "fitted_on": _dt.date.today().isoformat(),
        "training_sets": [{"name": os.path.basename(p), "part": "train", "sha256": _digest(p)} for p in paths],
        "cases": len(rows),
        "cases_with_a_guess": len(fitted),
        "right": int(y.sum()),
    }
    report = {
        "threshold": threshold,
        "C": c,
        **rates(p_all, *args, threshold),
        "reliability": reliability(p_all, args[0]),
    }
    meta["cross_validated"] = {
        k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.items() if k != "reliability"
    }
    return Calibration(list(FEATURES), coef.tolist(), intercept, threshold, target, meta), report


def format_fit(cal: Calibration, report: dict) -> str:
    return "\n".join(
        [
            f"fitted on the train part of {', '.join(s['name'] for s in cal.meta['training_sets'])}: "
            f"{cal.meta['cases']} cases, {cal.meta['cases_with_a_guess']} with a complete guess, "
            f"{cal.meta['right']} right; C={report['C']}",
            f"threshold {report['threshold']:.4f} for precision ≥ {cal.precision_target:.0%} (out-of-fold)",
            f"cross-validated: precision {report['precision']:.1%} (of {report['routed']} routed)  "
            f"coverage {report['coverage']:.1%} (of {report['routable']} routable)  "
            f"triage recall {report['triage_recall']:.1%} (of {report['to_triage']} to triage)",
            "out-of-fold reliability:",
            format_reliability(report["reliability"]),
        ]
    )


def main(argv: list[str]) -> int:
    """python -m routing.router.fit [SET.jsonl …] [--target 0.98] [--out FILE]"""
    parser = argparse.ArgumentParser(
        prog="python -m routing.router.fit", description="fit on the train part of the sets and write calibration.json"
    )
    parser.add_argument(
        "sets",
        nargs="*",
        help=f"labelled JSON-lines files (default: {DEFAULT_SETS_DIR}/" + ", ".join(DEFAULT_SETS) + ")",
    )
    parser.add_argument("--target", type=float, default=DEFAULT_TARGET, help="precision target")
    parser.add_argument("--out", default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    cal, report = fit(build_router_from_reference_files(), args.sets, args.target)
    cal.save(args.out)
    print(format_fit(cal, report))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
