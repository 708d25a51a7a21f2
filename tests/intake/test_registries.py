"""Each kind of thing is defined once, and completely: kinds, labels, clocks, policies, industries, words."""

import os
import re
from dataclasses import replace

import pytest

from intake.cases.clocks import WINDOWS
from intake.cases.kinds import COMMON_CLOCKS, KINDS, Identity, Kind, Result
from intake.cases.labels import ACTION_LABELS, CLOCK_LABELS, STATUS_LABELS
from intake.cases.lifecycle import CLOCK_RULES
from intake.cases.lookup import PUBLIC_CLOCKS
from intake.cases.models import CaseStatus
from intake.cases.workflow import TRANSITIONS
from intake.reference.seed import read_csv
from routing.router.decide import Router
from routing.router.reference import read_industry_names
from routing.sweeps import LEVELS, PLATFORM_DUTIES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICIES = read_csv("time_limits.csv")
TEMPLATES = {r["key"] for r in read_csv("templates.csv", os.path.join(ROOT, "notify"))}
SHIPPED = {k.value: spec for k, spec in KINDS.items()}


def kind_problems(kinds: dict[str, Kind], policies: list[dict], templates: set[str]) -> list[str]:
    """What a kind lacks: a label, results, a policy row for a clock of its own, a message."""
    problems = []
    for value, spec in kinds.items():
        if not str(spec.label).strip() or not str(spec.choice).strip():
            problems.append(f"{value}: no label")
        if not spec.results:
            problems.append(f"{value}: no results")
        for code, result in spec.results.items():
            if not result.label.strip():
                problems.append(f"{value}: result {code} has no label")
            if result.template not in templates:
                problems.append(f"{value}: result {code} needs template {result.template}")
        if spec.accepts and "case_accepted" not in templates:
            problems.append(f"{value}: acceptance needs template case_accepted")
        if spec.answered_on_the_spot and spec.answered_on_the_spot not in spec.results:
            problems.append(f"{value}: answered on the spot as an unknown result")
        for clock in COMMON_CLOCKS + spec.own_clocks:
            if clock not in CLOCK_LABELS:
                problems.append(f"{value}: clock {clock} has no label")
            if not any(
                p["clock"] == clock and p["case_kind"] in (value, "*") and p["urgent"] == "false" for p in policies
            ):
                problems.append(f"{value}: no policy row for clock {clock}")
    return problems


def policy_problems(kinds: dict[str, Kind], policies: list[dict]) -> list[str]:
    """Policy rows no clock uses: an unknown clock or kind, or a clock the kind does not run."""
    problems = []
    for p in policies:
        users = [v for v, spec in kinds.items() if p["clock"] in COMMON_CLOCKS + spec.own_clocks]
        where = f"{p['case_kind']}/{p['clock']}"
        if p["clock"] not in CLOCK_LABELS:
            problems.append(f"{where}: no such clock")
        if p["case_kind"] != "*" and p["case_kind"] not in kinds:
            problems.append(f"{where}: no such kind")
        elif p["case_kind"] not in ["*", *users] or not users:
            problems.append(f"{where}: no clock uses this row")
    return problems


def test_every_kind_is_complete_and_every_policy_row_is_used():
    assert kind_problems(SHIPPED, POLICIES, TEMPLATES) == []
    assert policy_problems(SHIPPED, POLICIES) == []


NEW_KIND = Kind(
    label="表扬",
    choice="表扬",
    identity=Identity.OPTIONAL,
    results={"thanked": Result("已转达")},
    receipt_clocks=("resolve",),
)


@pytest.mark.parametrize(
    "kind, policies, templates, problem",
    [
        (replace(NEW_KIND, label=""), POLICIES, TEMPLATES, "praise: no label"),
        (replace(NEW_KIND, results={}), POLICIES, TEMPLATES, "praise: no results"),
        (
            replace(NEW_KIND, receipt_clocks=("decision",)),
            POLICIES,
            TEMPLATES,
            "praise: no policy row for clock decision",
        ),
        (NEW_KIND, POLICIES, TEMPLATES - {"case_replied"}, "praise: result thanked needs template case_replied"),
        (
            replace(NEW_KIND, receipt_clocks=("praise_back",)),
            POLICIES,
            TEMPLATES,
            "praise: clock praise_back has no label",
        ),
    ],
)
def test_a_kind_added_without_a_label_results_policy_or_template_is_caught(kind, policies, templates, problem):
    assert problem in kind_problems({**SHIPPED, "praise": kind}, policies, templates)


def test_a_policy_row_that_no_clock_uses_is_caught():
    rows = [
        {"jurisdiction": "*", "case_kind": "tip", "urgent": "false", "clock": "tell_tipper"},
        {"jurisdiction": "*", "case_kind": "tip", "urgent": "false", "clock": "resolve"},
        {"jurisdiction": "*", "case_kind": "praise", "urgent": "false", "clock": "sign"},
    ]
    assert policy_problems(SHIPPED, rows) == [
        "tip/tell_tipper: no such clock",
        "tip/tell_tipper: no clock uses this row",
        "tip/resolve: no clock uses this row",
        "praise/sign: no such kind",
    ]


def events_written_in_the_code() -> set[str]:
    """The event names passed to record(), transition() and new_event() anywhere in the code."""
    names = set()
    call = re.compile(r"\b(?:(?:record|transition)\(\s*\w+,|new_event\()\s*\"(\w+)\"")
    for package in ("intake", "routing", "notify"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), encoding="utf-8") as fh:
                        names |= set(call.findall(fh.read()))
    return names


def test_every_status_event_and_clock_has_a_label():
    assert set(CaseStatus) == set(STATUS_LABELS)
    events = set(TRANSITIONS) | set(LEVELS) | events_written_in_the_code()
    assert {"receive", "details_added", "callback_dissatisfied"} <= events
    assert events - set(ACTION_LABELS) == set()
    named = {c for rule in CLOCK_RULES.values() for c in rule.stop + rule.start + rule.from_receipt}
    named -= {"*"}
    assert named | set(WINDOWS) | set(PUBLIC_CLOCKS) | set(PLATFORM_DUTIES) <= set(CLOCK_LABELS)
    # every labelled clock is run by some move, or is the extension a policy allows
    assert set(CLOCK_LABELS) - named == {"extension"}


def test_industries_and_department_kinds_have_one_source():
    industries = read_industry_names()
    assert {r["code"] for r in read_csv("industries.csv")} == set(industries)
    assert {r["industry"] for r in read_csv("industry_terms.csv")} <= set(industries)
    table = read_csv("routing_table.csv")
    assert {r["industry"] for r in table} <= set(industries)
    department_kinds = {r["kind"] for r in read_csv("department_kinds.csv")}
    assert {k for r in table for k in [r["lead"], *r["co_handlers"].split("|")] if k} <= department_kinds
    # the router's own default is the same file, not a copy of it
    router = Router(gazetteer=None, classifier=None, routing_table={}, calibration=None)
    assert router.industry_names == industries


def test_sms_words_say_one_thing_each(app):
    """The seed's words (the kinds' and emergency_words.csv) overlap nowhere; the table holds them all.

    Words added on /admin/reference/sms-words cannot overlap either: `sms_keyword.word` is unique.
    """
    import sqlalchemy as sa

    from intake.extensions import db
    from intake.reference.models import SmsKeyword

    kind_words = [w for spec in KINDS.values() for w in spec.sms_words]
    emergency_words = [r["word"].strip() for r in read_csv("emergency_words.csv") if r["word"].strip()]
    assert len(kind_words) == len(set(kind_words)) and len(emergency_words) == len(set(emergency_words))
    assert emergency_words and not set(kind_words) & set(emergency_words)
    seeded = dict(db.session.execute(sa.select(SmsKeyword.word, SmsKeyword.meaning)).all())
    assert {w: "emergency" for w in emergency_words}.items() <= seeded.items()
    assert {w: k.value for k, spec in KINDS.items() for w in spec.sms_words}.items() <= seeded.items()


def test_seed_drops_a_policy_row_for_a_clock_no_case_runs(app):
    import sqlalchemy as sa

    from intake.extensions import db
    from intake.reference.models import TimeLimitPolicy, TimeUnit
    from intake.reference.seed import POLICY_EPOCH
    from intake.seeding import seed_all

    db.session.add(
        TimeLimitPolicy(
            jurisdiction="*",
            case_kind="tip",
            urgent=False,
            clock="tell_tipper",
            amount=5,
            unit=TimeUnit.WORKING_DAYS,
            effective_from=POLICY_EPOCH,
        )
    )
    db.session.commit()
    seed_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(TimeLimitPolicy.clock == "tell_tipper")) == 0
