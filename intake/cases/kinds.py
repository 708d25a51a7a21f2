"""The case kinds, each defined once: label, form wording, identity rule, results, clocks, SMS words.

Adding a kind takes this file (a `CaseKind` member and its `Kind`), a row per clock of its own in
`intake/reference/time_limits.csv`, and `notify/templates.csv` only if a result needs a message
the others do not send. `tests/intake/test_registries.py` fails while one of them is missing.

Telling a named tipper the decision (RULES.md: within 5 working days of it) has no clock of its
own: the reply that records a tip's decision sends the tipper an essential SMS at once
(`case_replied` or `case_refused`), which quiet hours delay at most to the next morning and
neither the daily cap nor TD suppresses, so the limit is met by construction.
"""

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


class CaseKind(enum.Enum):
    COMPLAINT = "complaint"
    TIP = "tip"
    INQUIRY = "inquiry"
    SUGGESTION = "suggestion"


class Identity(enum.Enum):
    """What a kind asks of the person: RULES.md, "identity"."""

    REAL_NAME = "real_name"  # name and phone required, never anonymous (complaint)
    MAY_BE_ANONYMOUS = "anonymous_ok"  # anonymous, or a phone; a named person stays confidential (tip)
    OPTIONAL = "optional"  # whatever they leave (inquiry, suggestion)


@dataclass(frozen=True)
class Result:
    """What a reply may record (办结) for a kind, and how the citizen is told."""

    label: str
    needs_reason: bool = False  # the reply must say why, and the SMS carries it (case_refused)
    needs_acceptance: bool = False  # only after the complaint was accepted for mediation (受理)

    @property
    def template(self) -> str:
        return "case_refused" if self.needs_reason else "case_replied"


@dataclass(frozen=True)
class Kind:
    label: str
    choice: str  # the citizen form's wording
    identity: Identity
    results: dict[str, Result]
    receipt_clocks: tuple[str, ...]  # started at dispatch, counted from receipt (RULES.md)
    clocks: tuple[str, ...] = ()  # its other clocks of its own (a complaint's resolve at acceptance)
    accepts: bool = False  # the department decides to accept it (决定受理)
    answered_on_the_spot: str | None = None  # the result an operator records answering it on a call
    asks_details: bool = False  # an SMS naming no place or trade gets a question back
    sms_words: tuple[str, ...] = ()  # `flask seed`'s SMS keywords for this kind (then administered)

    @property
    def own_clocks(self) -> tuple[str, ...]:
        return self.receipt_clocks + self.clocks


KINDS: dict[CaseKind, Kind] = {
    CaseKind.COMPLAINT: Kind(
        label=_l("投诉"),
        choice=_l("投诉：我和商家有消费纠纷，要求退换、赔偿等"),
        identity=Identity.REAL_NAME,
        results={
            "mediated": Result("调解达成协议", needs_acceptance=True),
            "mediation_failed": Result("调解终止，未达成协议", needs_reason=True, needs_acceptance=True),
            "refused": Result("不予受理（说明理由）", needs_reason=True),
            "withdrawn": Result("投诉人撤回"),
        },
        receipt_clocks=("decision",),
        clocks=("resolve",),
        accepts=True,
        asks_details=True,
    ),
    CaseKind.TIP: Kind(
        label=_l("举报"),
        choice=_l("举报：反映商家违法行为（可匿名）"),
        identity=Identity.MAY_BE_ANONYMOUS,
        results={
            "case_opened": Result("已立案查处"),
            "not_opened": Result("不予立案（说明理由）", needs_reason=True),
            "to_police": Result("移送公安机关"),
            "to_other_department": Result("移送其他部门"),
        },
        receipt_clocks=("decision",),
        asks_details=True,
        sms_words=("举报",),
    ),
    CaseKind.INQUIRY: Kind(
        label=_l("咨询"),
        choice=_l("咨询"),
        identity=Identity.OPTIONAL,
        results={"answered": Result("已答复")},
        receipt_clocks=("resolve",),
        answered_on_the_spot="answered",
        sms_words=("咨询",),
    ),
    CaseKind.SUGGESTION: Kind(
        label=_l("建议"),
        choice=_l("建议"),
        identity=Identity.OPTIONAL,
        results={"acknowledged": Result("已收悉并答复")},
        receipt_clocks=("resolve",),
        sms_words=("建议",),
    ),
}

# The clocks every kind runs, and the extension a policy allows on any of them.
COMMON_CLOCKS = ("triage", "sign", "return", "callback", "rework", "extension")

KIND_LABELS = {k.value: spec.label for k, spec in KINDS.items()}
# the result labels by kind, as the reply form offers them
RESULTS = {k: {code: r.label for code, r in spec.results.items()} for k, spec in KINDS.items()}
ANSWERABLE_KINDS = [k.value for k, spec in KINDS.items() if spec.answered_on_the_spot]  # hotline


def kind_of(value: "CaseKind | str") -> Kind:
    """The registry entry of a kind, given the kind or its value."""
    return KINDS[CaseKind(value)]


def result_of(kind: CaseKind, code: str) -> Result | None:
    return KINDS[kind].results.get(code)


def clocks_of(kind: "CaseKind | str") -> tuple[str, ...]:
    """Every clock a case of this kind may run, so every clock a policy for it may set."""
    return COMMON_CLOCKS + kind_of(kind).own_clocks


def kind_from_sms(text: str, words: dict[str, tuple[str, ...]]) -> CaseKind:
    """The first kind, in this table's order, whose word (kind value → the SMS keywords) the text has; else a complaint."""
    return next((k for k in KINDS for word in words.get(k.value, ()) if word in text), CaseKind.COMPLAINT)
