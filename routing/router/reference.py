"""The reference data a router is built from, as plain Python values.

``load_reference(folder)`` reads the CSV files that ``flask seed`` loads
(``intake/reference/`` by default); the app builds the same ``Reference`` from
its tables, so what the evaluation measures is what the workers run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.router.classify import Classifier
from routing.router.decide import Router
from routing.router.files import DEFAULT_FOLDER, read_csv, read_industry_names  # noqa: F401  (read from here too)
from routing.router.gazetteer import Gazetteer


@dataclass
class Reference:
    """Divisions, classifier terms, the routing table and the names a reason uses."""

    divisions: list[dict]
    terms: list[tuple[str, str, float]]
    routing_table: dict[tuple[str, str], tuple[str, list[str]]]
    kind_names: dict[str, str] = field(default_factory=dict)
    industry_names: dict[str, str] = field(default_factory=dict)


def load_reference(folder: str = DEFAULT_FOLDER) -> Reference:
    """The reference data of the CSV files in ``folder``."""
    return Reference(
        divisions=read_csv("divisions.csv", folder),
        terms=[(r["term"], r["industry"], float(r["weight"])) for r in read_csv("industry_terms.csv", folder)],
        routing_table={
            (r["county"], r["industry"]): (r["lead"], [k for k in r["co_handlers"].split("|") if k])
            for r in read_csv("routing_table.csv", folder)
        },
        kind_names={r["kind"]: r["name"] for r in read_csv("department_kinds.csv", folder)},
        industry_names=read_industry_names(folder),
    )


def build_router(reference: Reference, **options):
    """A router for the reference data; ``options`` go to ``Router`` (threshold, …)."""
    options.setdefault("kind_names", reference.kind_names)
    options.setdefault("industry_names", reference.industry_names)
    classifier = Classifier(reference.terms, industries=reference.industry_names or None)
    return Router(Gazetteer.from_rows(reference.divisions), classifier, reference.routing_table, **options)
