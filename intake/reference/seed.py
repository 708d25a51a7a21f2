"""Load the reference data files into the database; rows already there are left alone.

A row an administrator changed or deleted (its key has a `reference_change` row) is never re-added
or overwritten: the audit table is the tombstone.
"""

import csv
import os
from datetime import datetime, timezone

import sqlalchemy as sa

from intake.extensions import db
from intake.reference.models import (
    Department,
    Division,
    DivisionLevel,
    Industry,
    IndustryTerm,
    ReferenceChange,
    RoutingRule,
    SmsKeyword,
    TimeLimitPolicy,
    TimeUnit,
)

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def read_csv(name: str, folder: str = HERE) -> list[dict]:
    with open(os.path.join(folder, name), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def department_kind_names(folder: str = HERE) -> dict[str, str]:
    """Department kind → its name (market → 市场监督管理局), from department_kinds.csv."""
    return {r["kind"]: r["name"] for r in read_csv("department_kinds.csv", folder)}


def seed_reference(folder: str = HERE) -> dict[str, int]:
    """Load every reference file (no commit); returns how many rows each table gained."""
    added = {
        "division": seed_divisions(folder),
        "industry": _insert_missing(
            Industry,
            ["code"],
            [
                {"code": r["code"], "name": r["name"], "english": r["english"], "position": int(r["position"])}
                for r in read_csv("industries.csv", folder)
            ],
        ),
    }
    added["department"] = seed_departments(folder)
    added["routing_rule"] = _insert_missing(
        RoutingRule,
        ["county_code", "industry_code"],
        audited="routing_rule",
        rows=[
            {
                "county_code": r["county"],
                "industry_code": r["industry"],
                "lead_kind": r["lead"],
                "co_handler_kinds": [k for k in r["co_handlers"].split("|") if k],
            }
            for r in read_csv("routing_table.csv", folder)
        ],
    )
    added["time_limit_policy"] = _insert_missing(
        TimeLimitPolicy,
        ["jurisdiction", "case_kind", "urgent", "clock", "effective_from"],
        [
            {
                "jurisdiction": r["jurisdiction"],
                "case_kind": r["case_kind"],
                "urgent": r["urgent"] == "true",
                "clock": r["clock"],
                "amount": int(r["amount"]),
                "unit": TimeUnit(r["unit"]),
                "effective_from": POLICY_EPOCH,
                "note": r["note"],
            }
            for r in read_csv("time_limits.csv", folder)
        ],
    )
    added["industry_term"] = _insert_missing(
        IndustryTerm,
        ["term", "industry_code"],
        audited="industry_term",
        rows=[
            {
                "term": r["term"],
                "industry_code": r["industry"],
                "weight": float(r["weight"]),
                "note": r.get("note") or "",
            }
            for r in read_csv("industry_terms.csv", folder)
        ],
    )
    return added


def seed_sms_keywords(kind_words: dict[str, tuple[str, ...]], folder: str = HERE) -> int:
    """The kinds' SMS words (meaning → words, from intake.cases.kinds) and emergency_words.csv."""
    rows = [{"word": w, "meaning": meaning} for meaning, words in kind_words.items() for w in words]
    rows += [{"word": r["word"].strip(), "meaning": "emergency"} for r in read_csv("emergency_words.csv", folder)]
    seen: set[str] = set()
    rows = [r for r in rows if r["word"] and not (r["word"] in seen or seen.add(r["word"]))]
    return _insert_missing(SmsKeyword, ["word"], rows, audited="sms_keyword")


def seed_divisions(folder: str = HERE) -> int:
    return import_divisions(os.path.join(folder, "divisions.csv"), os.path.join(folder, "attributes.csv"))


def import_divisions(path: str, attributes_path: str | None = None) -> int:
    """Add the divisions of an NBS CSV (code,name,level,parent_code) that are not in the table yet."""
    kinds = {}
    if attributes_path and os.path.exists(attributes_path):
        kinds = {
            r["code"]: r["kind"] for r in read_csv(os.path.basename(attributes_path), os.path.dirname(attributes_path))
        }
    rows = [
        {
            "code": r["code"],
            "name": r["name"],
            "level": DivisionLevel(r["level"]),
            "parent_code": r["parent_code"] or None,
            "kind": kinds.get(r["code"]) or None,
            "aliases": [],
        }
        for r in read_csv(os.path.basename(path), os.path.dirname(os.path.abspath(path)))
    ]
    # Parents first, so the foreign key holds on PostgreSQL.
    order = {lvl: i for i, lvl in enumerate(DivisionLevel)}
    rows.sort(key=lambda r: order[r["level"]])
    return _insert_missing(Division, ["code"], rows)


def seed_departments(folder: str = HERE) -> int:
    kinds = read_csv("department_kinds.csv", folder)
    counties = db.session.scalars(sa.select(Division).filter_by(level=DivisionLevel.COUNTY)).all()
    return _insert_missing(
        Department,
        ["county_code", "kind"],
        audited="department",
        rows=[{"county_code": c.code, "kind": k["kind"], "name": c.name + k["name"]} for c in counties for k in kinds],
    )


def _insert_missing(model, key: list[str], rows: list[dict], audited: str | None = None) -> int:
    """Insert the rows whose natural key is not in the table yet, nor in the audit table as `audited`."""
    columns = [getattr(model, k) for k in key]
    existing = {tuple(r) for r in db.session.execute(sa.select(*columns)).all()}
    if audited:  # changed or deleted by an administrator: the audit row's key is "a|b"
        keys = db.session.scalars(sa.select(ReferenceChange.key).where(ReferenceChange.table == audited))
        existing |= {tuple(k.split("|")) for k in keys}
    new = [r for r in rows if tuple(r[k] for k in key) not in existing]
    if new:
        db.session.execute(sa.insert(model), new)
        db.session.flush()
    return len(new)
