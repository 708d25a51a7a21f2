"""Measure the router on labelled cases: precision, coverage, triage recall, mistakes,
a reliability table (confidence bins against how often the best guess is right) and,
with a tags file (id → {"cats": [...]}), the same numbers per category.

    python -m routing.router.evaluate ../shared/eval/dev_cases.jsonl [--verbose]
        [--part train|holdout] [--tags ../shared/eval/dev_cases_3.tags.json]
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field

from routing.router.decide import Router
from routing.router.reference import DEFAULT_FOLDER, build_router, load_reference
from routing.router.reliability import format_reliability, reliability

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
    return {
        "id": case.get("id"),
        "triage": d.triage,
        "industry": d.industry,
        "county": d.county,
        "township": d.township,
        "village": d.village,
        "lead_department": d.lead_department,
        "co_handlers": d.co_handlers,
        "confidence": d.confidence,
        "reasons": d.reasons,
        "candidates": d.candidates,
    }


@dataclass
class Report:
    precision: float
    coverage: float
    triage_recall: float
    routed: int
    routable: int
    to_triage: int
    mistakes: list[dict] = field(default_factory=list)
    # one per case: id, confidence, auto (routed), right (best guess right), routable
    outcomes: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"precision {self.precision:.1%} (of {self.routed} routed)  "
            f"coverage {self.coverage:.1%} (of {self.routable} routable)  "
            f"triage recall {self.triage_recall:.1%} (of {self.to_triage} to triage)"
        )

    def reliability(self) -> list[dict]:
        """Confidence bins: cases, how many the best guess got right, observed precision."""
        return reliability([o["confidence"] for o in self.outcomes], [o["right"] for o in self.outcomes])

    def by_category(self, tags: dict) -> list[tuple[str, dict]]:
        """(category, rates) for each category of ``tags`` (id → {"cats": [...]}) among the cases."""
        cats: dict[str, list[dict]] = {}
        for o in self.outcomes:
            for cat in (tags.get(o["id"]) or {}).get("cats", []):
                cats.setdefault(str(cat), []).append(o)
        order = sorted(cats, key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c))
        return [(c, _rates(cats[c])) for c in order]

    def format(self, verbose: bool = False, tags: dict | None = None) -> str:
        """The mistakes, one block each, the reliability table, per-category rows, the summary."""
        blocks = [_show(m, verbose) for m in self.mistakes]
        blocks += [
            "reliability (all cases; right = the best guess equals a routable label):",
            format_reliability(self.reliability()),
        ]
        if tags is not None:
            blocks.append(format_categories(self.by_category(tags)))
        return "\n".join(blocks + [self.summary()])


CATEGORY_NAMES = {
    "1": "plain",
    "2": "only a village",
    "3": "township with a slip",
    "4": "address is caller's",
    "5": "place not the business's",
    "6": "several trades",
    "7": "road/landmark only",
    "8": "contradictory places",
    "9": "not a 十小 trade",
    "10": "only city/county",
    "11": "traditional characters",
    "12": "SMS < 25 chars",
    "13": "no place / trade unclear",
}


def _rates(outcomes: list[dict]) -> dict:
    routed = [o for o in outcomes if o["auto"]]
    routable = [o for o in outcomes if o["routable"]]
    triage = [o for o in outcomes if not o["routable"]]
    return {
        "cases": len(outcomes),
        "routed": len(routed),
        "routable": len(routable),
        "to_triage": len(triage),
        "precision": sum(o["right"] for o in routed) / len(routed) if routed else None,
        "coverage": sum(o["auto"] for o in routable) / len(routable) if routable else None,
        "triage_recall": sum(not o["auto"] for o in triage) / len(triage) if triage else None,
    }


def format_categories(rows: list[tuple[str, dict]]) -> str:
    def pct(v):
        return f"{v:.1%}" if v is not None else "-"

    lines = [
        "category                          cases  precision (routed)  coverage (routable)  triage recall (to triage)"
    ]
    for cat, r in rows:
        name = f"{cat} {CATEGORY_NAMES.get(cat, '')}".strip()
        lines.append(
            f"{name:32s} {r['cases']:5d}  {pct(r['precision']):>7} ({r['routed']:3d})      "
            f"{pct(r['coverage']):>7} ({r['routable']:3d})      "
            f"{pct(r['triage_recall']):>7} ({r['to_triage']:3d})"
        )
    return "\n".join(lines)


def load_tags(path: str) -> dict:
    """A tags file: {case id: {"cats": [...]}}."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _right(pred: dict, expect: dict) -> bool:
    return all(pred[k] == expect.get(k) for k in ("industry", "township", "lead_department"))


def evaluate(router: Router, cases: list[dict]) -> Report:
    """Precision of automatic routes, coverage of routable cases, recall of triage cases."""
    routed = right = routable = covered = to_triage = caught = 0
    mistakes, outcomes = [], []
    for case in cases:
        pred, expect = predict_line(router, case), case["expect"]
        auto = not pred["triage"]
        outcomes.append(
            {
                "id": case.get("id"),
                "confidence": pred["confidence"],
                "auto": auto,
                "right": (not expect["triage"]) and _right(pred, expect),
                "routable": not expect["triage"],
            }
        )
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
    return Report(
        precision=right / routed if routed else 1.0,
        coverage=covered / routable if routable else 1.0,
        triage_recall=caught / to_triage if to_triage else 1.0,
        routed=routed,
        routable=routable,
        to_triage=to_triage,
        mistakes=mistakes,
        outcomes=outcomes,
    )


def _show(m: dict, verbose: bool) -> str:
    case, pred, exp = m["case"], m["pred"], m["case"]["expect"]
    lines = [
        f"[{m['kind']}] {case['id']}: {case['text'][:70]}",
        f"    got  {pred['industry']} {pred['township']} {pred['lead_department']} conf={pred['confidence']}",
        f"    want {exp['industry']} {exp['township']} {exp['lead_department']}  # {case.get('note', '')}",
    ]
    if verbose:
        lines += [f"      - {r}" for r in pred["reasons"]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """python -m routing.router.evaluate FILE.jsonl [--verbose] [--part train|holdout] [--tags FILE]"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m routing.router.evaluate")
    parser.add_argument("path", nargs="?", default="../shared/eval/dev_cases.jsonl")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--part", choices=("train", "holdout"))
    parser.add_argument("--train", dest="part", action="store_const", const="train")
    parser.add_argument("--holdout", dest="part", action="store_const", const="holdout")
    parser.add_argument("--tags", help='id → {"cats": [...]} JSON: numbers per category')
    parser.add_argument("--min-confidence", type=float, help="the router's threshold (default: fitted)")
    args = parser.parse_args(argv)
    router = build_router_from_reference_files(threshold=args.min_confidence)
    tags = load_tags(args.tags) if args.tags else None
    print(evaluate(router, load_cases(args.path, args.part)).format(args.verbose, tags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
