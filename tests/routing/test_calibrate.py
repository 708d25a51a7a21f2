"""The calibrated confidence: a probability that grows with the evidence, a JSON model that
round-trips, a threshold that meets its precision target, reliability and per-category reports."""

import json
import math
import os

import pytest

from routing.router import fit as cal
from routing.router.calibrate import FEATURES, Calibration, load_calibration
from routing.router.evaluate import Report, build_router_from_reference_files, evaluate
from routing.router.fit import choose_threshold, rates
from routing.router.reliability import reliability

SHARED_SETS = cal.default_sets()


@pytest.fixture(scope="module")
def router():
    return build_router_from_reference_files()


def _model(**weights) -> Calibration:
    return Calibration(list(FEATURES), [weights.get(f, 0.0) for f in FEATURES], -2.0, 0.9)


def _vector(**values) -> list[float]:
    return [values.get(f, 0.0) for f in FEATURES]


# --- the probability ------------------------------------------------------------


def test_probability_is_monotone_in_the_evidence():
    model = _model(loc_confidence=4.0, cls_share=3.0, loc_candidates=-1.5)
    ps = [model.probability(_vector(loc_confidence=c, cls_share=0.8)) for c in (0.3, 0.55, 0.8, 0.95)]
    assert ps == sorted(ps) and len(set(ps)) == 4
    fewer_doubts = [model.probability(_vector(loc_confidence=0.9, loc_candidates=n)) for n in (3, 2, 1, 0)]
    assert fewer_doubts == sorted(fewer_doubts)
    assert all(0.0 < p < 1.0 for p in ps + fewer_doubts)
    assert model.probability(_vector(loc_confidence=1e4)) == pytest.approx(1.0)  # no overflow
    assert model.probability(_vector(loc_confidence=-1e4)) == pytest.approx(0.0)


def test_shipped_model_is_monotone_in_the_locators_and_classifiers_own_scores():
    model = load_calibration()
    assert model is not None, "routing/router/data/calibration.json is missing: refit"
    for name in ("loc_confidence", "cls_margin"):
        assert model.coef[model.features.index(name)] > 0, name


def test_probability_is_the_logistic_of_the_linear_score():
    model = _model(loc_confidence=2.0)
    assert model.probability(_vector(loc_confidence=1.5)) == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_the_router_reports_the_calibrated_probability(router):
    d = router.decide(
        {
            "text": "举报一家农资店卖没有登记证的农药",
            "business_name": "丰收农资店",
            "address": "平湖市广陈镇",
            "kind": "complaint",
            "channel": "web",
        }
    )
    assert not d.triage and d.confidence >= router.threshold
    nowhere = router.decide({"text": "有家药店卖过期药", "kind": "complaint", "channel": "sms"})
    assert nowhere.triage and nowhere.confidence == 0.0  # no township: no route to be right


def test_a_hard_doubt_stays_triage_however_high_the_probability(router):
    import copy

    sure = copy.copy(router)
    sure.calibration = Calibration(["loc_confidence"], [0.0], 50.0, 0.5)  # always ~1.0
    d = sure.decide({"text": "梅园村口那家小卖部卖的饼干全是过期的", "kind": "complaint", "channel": "sms"})
    assert d.triage
    d = sure.decide(
        {"text": "在一家大型超市买到过期牛奶", "address": "平湖市当湖街道", "kind": "complaint", "channel": "web"}
    )
    assert d.triage and d.industry == "other"


def test_the_threshold_is_a_setting(router):
    from routing.router.evaluate import build_router_from_reference_files as build

    assert router.threshold == load_calibration().threshold
    assert build(threshold=0.5).threshold == 0.5


# --- the JSON model ------------------------------------------------------------------


def test_json_model_round_trips(tmp_path):
    model = _model(loc_confidence=1.234567, kind_tip=-0.5)
    model.meta = {"training_sets": [{"name": "x.jsonl", "part": "train"}], "fitted_on": "2025-01-01"}
    path = tmp_path / "calibration.json"
    model.save(str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["model"] == "logistic" and data["features"] == list(FEATURES)
    assert {"coef", "intercept", "threshold", "precision_target", "training_sets", "fitted_on"} <= set(data)
    again = load_calibration(str(path))
    x = _vector(loc_confidence=0.9, kind_tip=1.0)
    assert again.probability(x) == pytest.approx(model.probability(x), abs=1e-6)
    assert (again.threshold, again.precision_target, again.meta) == (0.9, 0.98, model.meta)


def test_a_model_with_other_features_reads_them_by_name():
    model = Calibration(["loc_confidence"], [3.0], -1.0, 0.5)
    assert model.vector({"text": "x"}, type("C", (), {})(), type("L", (), {"confidence": 0.5})()) == [0.5]


# --- the threshold ---------------------------------------------------------------------


def test_threshold_chosen_hits_the_precision_target_on_a_synthetic_set():
    import random

    rng = random.Random(7)
    probs = [rng.random() for _ in range(2000)]
    right = [rng.random() < p for p in probs]  # a perfectly calibrated synthetic set
    eligible = [True] * len(probs)
    routable = right
    t = choose_threshold(probs, right, eligible, 0.98)
    r = rates(probs, right, eligible, routable, t)
    assert r["precision"] >= 0.98
    lower = max(p for p in probs if p < t)  # the next lower threshold misses the target
    assert rates(probs, right, eligible, routable, lower)["precision"] < 0.98
    assert 0.9 < t < 1.0


def test_threshold_ignores_cases_with_a_hard_doubt_and_gives_up_when_unreachable():
    probs, right = [0.99, 0.95, 0.9, 0.8], [True, True, False, True]
    assert choose_threshold(probs, right, [True] * 4, 0.98) == 0.95
    assert choose_threshold(probs, right, [True, True, False, True], 0.98) == 0.8
    assert choose_threshold([0.9, 0.8], [False, False], [True, True], 0.98) == 1.0


# --- the reports ----------------------------------------------------------------------


def test_reliability_table_counts_right():
    table = reliability(
        [0.1, 0.49, 0.5, 0.75, 0.85, 0.9, 0.94, 0.95, 0.99, 1.0],
        [False, True, True, True, False, True, True, True, True, False],
    )
    assert [(r["lo"], r["cases"], r["right"]) for r in table] == [
        (0.0, 2, 1),
        (0.5, 1, 1),
        (0.7, 1, 1),
        (0.8, 1, 0),
        (0.9, 2, 2),
        (0.95, 3, 2),
    ]
    assert table[-1]["precision"] == pytest.approx(2 / 3)
    assert table[0]["mean_confidence"] == pytest.approx(0.295)


def test_report_prints_reliability_and_categories():
    outcomes = [
        {"id": "a", "confidence": 0.97, "auto": True, "right": True, "routable": True},
        {"id": "b", "confidence": 0.2, "auto": False, "right": False, "routable": False},
        {"id": "c", "confidence": 0.6, "auto": False, "right": True, "routable": True},
    ]
    report = Report(1.0, 0.5, 1.0, 1, 2, 1, outcomes=outcomes)
    rows = dict(report.by_category({"a": {"cats": [1]}, "b": {"cats": [9, 1]}, "c": {"cats": [1]}}))
    assert rows["1"]["cases"] == 3 and rows["1"]["coverage"] == 0.5 and rows["1"]["precision"] == 1.0
    assert rows["9"]["triage_recall"] == 1.0 and rows["9"]["precision"] is None
    text = report.format(tags={"a": {"cats": [1]}})
    assert "0.95–1.00" in text and "1 plain" in text


def test_flask_routing_eval_prints_per_category_rows(app, tmp_path):
    cases = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "two_labelled_cases.jsonl"
    )
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps({"a": {"cats": [1]}, "b": {"cats": [13]}}), encoding="utf-8")
    out = app.test_cli_runner().invoke(args=["routing", "eval", str(cases), "--tags", str(tags)]).output
    assert "0.95–1.00" in out and "observed precision" in out
    lines = out.splitlines()
    plain = next(line for line in lines if line.startswith("1 plain"))
    vague = next(line for line in lines if line.startswith("13 "))
    assert "100.0% (  1)" in plain and "100.0% (  1)" in vague
    assert "precision 100.0%" in out and "triage recall 100.0%" in out
    out = app.test_cli_runner().invoke(args=["routing", "eval", str(cases), "--part", "train"]).output
    assert "triage recall" in out


def test_evaluate_keeps_its_summary(router):
    cases = [
        {
            "id": "x",
            "text": "有人卖假货",
            "expect": {"triage": True, "industry": None, "township": None, "lead_department": None},
        }
    ]
    report = evaluate(router, cases)
    assert report.triage_recall == 1.0 and report.outcomes[0]["confidence"] == 0.0


# --- the shipped calibration is up to date ----------------------------------------------


@pytest.mark.skipif(
    not all(os.path.exists(p) for p in SHARED_SETS),
    reason="the shared labelled sets (../shared/eval/dev_cases*.jsonl) are not beside this checkout",
)
def test_refitting_on_the_shipped_sets_reproduces_the_shipped_calibration(router):
    shipped = load_calibration()
    fresh, report = cal.fit(router)
    hint = (
        "routing/router/data/calibration.json is stale: the router, its data or the labelled sets "
        "changed. Refit: python -m routing.router.fit"
    )
    assert [s["sha256"] for s in fresh.meta["training_sets"]] == [s["sha256"] for s in shipped.meta["training_sets"]], (
        hint
    )
    assert fresh.features == shipped.features, hint
    assert fresh.threshold == pytest.approx(shipped.threshold, abs=1e-4), hint
    assert fresh.coef == pytest.approx(shipped.coef, abs=1e-4), hint
    assert fresh.intercept == pytest.approx(shipped.intercept, abs=1e-4), hint
    assert report["precision"] >= shipped.precision_target


@pytest.mark.skipif(
    not all(os.path.exists(p) for p in SHARED_SETS),
    reason="the shared labelled sets (../shared/eval/dev_cases*.jsonl) are not beside this checkout",
)
def test_flask_routing_calibrate_writes_a_model_and_prints_cross_validated_numbers(app, tmp_path):
    out = tmp_path / "calibration.json"
    result = app.test_cli_runner().invoke(args=["routing", "calibrate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "cross-validated: precision" in result.output and "0.95–1.00" in result.output
    assert load_calibration(str(out)).features == list(FEATURES)
