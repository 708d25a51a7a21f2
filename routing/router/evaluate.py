"""Measure the router on labelled cases: precision, coverage, triage recall, mistakes.

    python -m routing.router.evaluate ../shared/eval/dev_cases.jsonl [--verbose]
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field

from routing.router.decide import Router
from routing.router.reference import DEFAULT_FOLDER, build_router, load_reference

INPUT_KEYS = ("text", "business_name", "address", "caller_phone", "kind", "channel", "industry_hint")


def build_router_from_reference_files(folder: str = DEFAULT_FOLDER, **options) -> Router:
    """A router from the reference CSV files (divisions, terms, routing table, names)."""
    return build_router(load_reference(folder), **options)


HOLDOUT_SHARE = 5  # one case in five of every labelled set is kept out of tuning and fitting


def part_of(case_id: str | None) -> str:
    """'holdout' for the fixed fifth of labelled cases nothing is tuned or fitted on, else 'train'."""
    digest = hashlib.sha1((case_id or "").encode("utf-8")).digest()
    return "holdout" if digest[0] % HOLDOUT_SHARE == 0 else "train"


def load_cases(path: str, part: str | None = None) -> list[dict]:
    """The labelled cases of a JSON-lines file; only one part of them if ``part`` is given."""
    with open(path, encoding="utf-8") as fh:
        cases = [json.loads(line) for line in fh if line.strip()]
    return [c for c in cases if part is None or part_of(c.get("id")) == part]


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
    """python -m routing.router.evaluate FILE.jsonl [--verbose] [--part train|holdout]"""
    args = [a for a in argv if not a.startswith("--")]
    part = next((p for p in ("train", "holdout") if f"--part={p}" in argv or f"--{p}" in argv), None)
    path = args[0] if args else "../shared/eval/dev_cases.jsonl"
    router = build_router_from_reference_files()
    print(evaluate(router, load_cases(path, part)).format("--verbose" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
