"""Measure the router on labelled cases: precision, coverage, triage recall, mistakes.

    python -m routing.evaluate /work/shared/eval/dev_cases.jsonl [--verbose]
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

from routing.classify import Classifier
from routing.decide import Router
from routing.gazetteer import Gazetteer

REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "intake", "reference")
INPUT_KEYS = ("text", "business_name", "address", "caller_phone", "kind", "channel", "industry_hint")


def build_router_from_reference_files(folder: str = REFERENCE, **options) -> Router:
    """A router from divisions.csv, industry_terms.csv and routing_table.csv."""
    from intake.reference.seed import department_kind_names, read_csv

    gazetteer = Gazetteer.from_rows(read_csv("divisions.csv", folder))
    classifier = Classifier(read_csv("industry_terms.csv", folder))
    table = {(r["county"], r["industry"]): (r["lead"], [k for k in r["co_handlers"].split("|") if k])
             for r in read_csv("routing_table.csv", folder)}
    options.setdefault("kind_names", department_kind_names(folder))
    return Router(gazetteer, classifier, table, **options)


def load_cases(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def predict_line(router: Router, case: dict) -> dict:
    """The router's decision for one case, as one JSON-ready dict."""
    d = router.decide({k: case.get(k) for k in INPUT_KEYS})
    return {"id": case.get("id"), "triage": d.triage, "industry": d.industry, "county": d.county,
            "township": d.township, "village": d.village, "lead_department": d.lead_department,
            "co_handlers": d.co_handlers, "confidence": d.confidence, "reasons": d.reasons,
            "candidates": d.candidates}


@dataclass
class Report:
    precision: float
    coverage: float
    triage_recall: float
    routed: int
    routable: int
    to_triage: int
    mistakes: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        return (f"precision {self.precision:.1%} (of {self.routed} routed)  "
                f"coverage {self.coverage:.1%} (of {self.routable} routable)  "
                f"triage recall {self.triage_recall:.1%} (of {self.to_triage} to triage)")

    def format(self, verbose: bool = False) -> str:
        """The mistakes, one block each, then the summary line."""
        return "\n".join([_show(m, verbose) for m in self.mistakes] + [self.summary()])


def _right(pred: dict, expect: dict) -> bool:
    return all(pred[k] == expect.get(k) for k in ("industry", "township", "lead_department"))


def evaluate(router: Router, cases: list[dict]) -> Report:
    """Precision of automatic routes, coverage of routable cases, recall of triage cases."""
    routed = right = routable = covered = to_triage = caught = 0
    mistakes = []
    for case in cases:
        pred, expect = predict_line(router, case), case["expect"]
        auto = not pred["triage"]
        routed += auto
        right += auto and _right(pred, expect)
        routable += not expect["triage"]
        covered += auto and not expect["triage"]
        to_triage += bool(expect["triage"])
        caught += bool(expect["triage"]) and pred["triage"]
        if auto and not _right(pred, expect):
            mistakes.append({"kind": "wrong route", "case": case, "pred": pred})
        elif auto != (not expect["triage"]):
            kind = "missed triage" if expect["triage"] else "needless triage"
            mistakes.append({"kind": kind, "case": case, "pred": pred})
    return Report(precision=right / routed if routed else 1.0,
                  coverage=covered / routable if routable else 1.0,
                  triage_recall=caught / to_triage if to_triage else 1.0,
                  routed=routed, routable=routable, to_triage=to_triage, mistakes=mistakes)


def _show(m: dict, verbose: bool) -> str:
    case, pred, exp = m["case"], m["pred"], m["case"]["expect"]
    lines = [f"[{m['kind']}] {case['id']}: {case['text'][:70]}",
             f"    got  {pred['industry']} {pred['township']} {pred['lead_department']} "
             f"conf={pred['confidence']}",
             f"    want {exp['industry']} {exp['township']} {exp['lead_department']}  # {case.get('note', '')}"]
    if verbose:
        lines += [f"      - {r}" for r in pred["reasons"]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = argv[0] if argv else "/work/shared/eval/dev_cases.jsonl"
    router = build_router_from_reference_files()
    print(evaluate(router, load_cases(path)).format("--verbose" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
