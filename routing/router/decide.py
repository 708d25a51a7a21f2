"""The routing decision for a case: industry, place, lead department, or the triage queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.router.calibrate import load_calibration
from routing.router.classify import INCIDENTAL, Classifier
from routing.router.files import read_industry_names
from routing.router.gazetteer import Gazetteer
from routing.router.locate import locate
from routing.router.reasons import prefixed

ANY_COUNTY = "*"
SHIPPED = "shipped"  # Router(calibration=SHIPPED): the fitted model in data/calibration.json
FALLBACK_THRESHOLD = 0.6  # without a calibration: the old share-of-weights rule


@dataclass
class Decision:
    """What the machine decided; when ``triage``, its best guesses for the dispatcher."""

    triage: bool
    industry: str | None
    county: str | None
    township: str | None
    village: str | None
    lead_department: str | None
    co_handlers: list[str]
    confidence: float
    reasons: list[str]  # those the caller's phone gave are PhoneReasons (routing.router.reasons)
    candidates: list[str] = field(default_factory=list)
    # the candidates before the caller's phone narrowed them; None when it did not
    public_candidates: list[str] | None = None


class Router:
    """Routes a case by the routing table {(county, industry): (lead kind, [co-handler kinds])}.

    County '*' is the row for every county. The confidence is the calibrated probability
    that the route is right (``calibrate.py``; 0 without a complete guess). A case whose
    confidence is below ``threshold`` (default: the one fitted with the calibration)
    goes to triage even when nothing else is wrong. ``calibration=None`` keeps the old
    uncalibrated rule (min of the classifier's and the locator's scores).
    """

    def __init__(
        self,
        gazetteer: Gazetteer,
        classifier: Classifier,
        routing_table: dict,
        threshold: float | None = None,
        kind_names: dict[str, str] | None = None,
        industry_names: dict[str, str] | None = None,
        calibration=SHIPPED,
    ):
        self.gazetteer = gazetteer
        self.classifier = classifier
        self.table = {key: (lead, list(co or [])) for key, (lead, co) in routing_table.items()}
        if calibration == SHIPPED:
            calibration = load_calibration()
        self.calibration = calibration
        if threshold is None:
            threshold = self.calibration.threshold if self.calibration else FALLBACK_THRESHOLD
        self.threshold = threshold
        self.kind_names = kind_names or {}
        if not industry_names:
            industry_names = read_industry_names()
        self.industry_names = industry_names

    def lookup(self, county: str | None, industry: str | None):
        """(lead, co-handlers) for an industry in a county, or the every-county row."""
        return self.table.get((county, industry)) or self.table.get((ANY_COUNTY, industry))

    def analyse(self, case: dict):
        """(classification, location, routing-table row or None) of one case."""
        cls = self.classifier.classify(case.get("text"), case.get("business_name"), case.get("industry_hint"))
        loc = locate(
            self.gazetteer, case.get("address"), case.get("text"), case.get("caller_phone"), case.get("business_name")
        )
        route = self.lookup(loc.county, cls.industry) if cls.industry not in (None, "other") else None
        return cls, loc, route

    @staticmethod
    def complete(cls, loc, route) -> bool:
        """Whether there is a whole route to be right or wrong: a table row and a township."""
        return route is not None and loc.township is not None

    def confidence(self, case: dict, cls, loc, route) -> float:
        """The estimated probability that this route is right."""
        if self.calibration is None:
            return round(min(cls.confidence, loc.confidence), 3)
        if not self.complete(cls, loc, route):
            return 0.0
        return round(self.calibration.probability(self.calibration.vector(case, cls, loc)), 3)

    def decide(self, case: dict) -> Decision:
        """Route one case: keys text, business_name, address, caller_phone (industry_hint optional)."""
        cls, loc, route = self.analyse(case)
        reasons = self._industry_reasons(cls) + loc.evidence + loc.problems
        doubts = self.doubts(cls, loc, route)
        confidence = self.confidence(case, cls, loc, route)
        if not doubts and confidence < self.threshold:
            doubts.append(f"把握不足（{confidence:.2f}，低于{self.threshold:.2f}）")
        lead, co = route or (None, [])
        if lead:
            reasons.append(self._department_reason(cls.industry, lead, co))
        return Decision(
            triage=bool(doubts),
            industry=cls.industry,
            county=loc.county,
            township=loc.township,
            village=loc.village,
            lead_department=lead,
            co_handlers=list(co),
            confidence=confidence,
            reasons=reasons + [prefixed("转人工分拨：", d) for d in doubts],
            candidates=loc.candidates,
            public_candidates=loc.public_candidates,
        )

    def _industry_reasons(self, cls) -> list[str]:
        if cls.industry is None:
            return ["没有说明是什么店或什么经营，无法判断行业"]
        label = self.industry_names.get(cls.industry, cls.industry)
        terms = [t for t, i, _ in cls.evidence if i == cls.industry][:3]
        reasons = [f"'{t}' → {label}" for t in terms]
        top = cls.scores.get(cls.industry, 0)
        for rival, score in sorted(cls.scores.items(), key=lambda kv: -kv[1]):
            if rival != cls.industry and score >= 0.3 * top:
                words = "、".join([f"'{t}'" for t, i, _ in cls.evidence if i == rival][:2])
                reasons.append(f"也提到{words}（{self.industry_names.get(rival, rival)}）")
        for term, _, role in cls.incidental[:3]:
            reasons.append(f"'{term}'是{INCIDENTAL[role]}，不是被投诉的店")
        return reasons

    def doubts(self, cls, loc, route) -> list[str]:
        """The hard doubts: triage whatever the probability."""
        doubts = []
        if cls.industry is None:
            doubts.append("行业不明")
        elif cls.industry == "other":
            doubts.append("不属于十小行业，由派单员决定承办部门")
        elif route is None:
            doubts.append("路由表中没有这个行业的牵头部门")
        if len(cls.ambiguous) > 1:
            names = "、".join(self.industry_names.get(i, i) for i in cls.ambiguous)
            doubts.append(f"两个行业同为被投诉对象：{names}")
        if loc.township is None:
            doubts.append("乡镇/街道不能确定")
        elif loc.problems:
            doubts.append("地点有矛盾")
        return doubts + list(getattr(loc, "guess_only", []))

    def _department_reason(self, industry, lead, co) -> str:
        label = self.industry_names.get(industry, industry)
        text = f"{label} → {self.kind_names.get(lead, lead)}牵头"
        if co:
            text += "，" + "、".join(self.kind_names.get(k, k) for k in co) + "配合"
        return text
