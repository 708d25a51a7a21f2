"""What makes a case valid, once: the web form (CaseForm) and every JSON entry point ask these.

`case_problems(values, region)` takes the case's fields by the form's names (already of the right
types: text or None, booleans) and gives the field errors, in Chinese, and the phone in E.164.
The numbers here are also what the OpenAPI document says (intake/cases/schemas.py).
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from intake.cases.kinds import KINDS, CaseKind, Identity
from intake.extensions import db
from intake.phones import normalise_phone
from intake.reference.cache import cached
from intake.reference.models import Industry

KIND_VALUES = tuple(k.value for k in KINDS)
DESCRIPTION_MIN = 5
DESCRIPTION_MAX = 5000
# field -> (most characters, the message)
MAX_LENGTHS = {
    "business_name": (200, _l("商家名称不能超过 %(max)d 个字。")),
    "business_address": (300, _l("地址不能超过 %(max)d 个字。")),
    "complainant_name": (64, _l("姓名不能超过 %(max)d 个字。")),
    "complainant_phone": (32, _l("电话号码太长。")),
}
TEXT_FIELDS = ("kind", "description", "industry", *MAX_LENGTHS)
FLAGS = ("anonymous", "urgent", "disclose_identity")


def industry_choices() -> list[tuple[str, str]]:
    """(code, name) of every industry in the form's order: read once per process (intake.reference.cache)."""

    def read():
        return [
            tuple(row)
            for row in db.session.execute(db.select(Industry.code, Industry.name).order_by(Industry.position))
        ]

    return cached("case_form_industries", ("industry",), read)


def _given(value: str | None) -> bool:
    return bool(value and value.strip())


NOT_A_CHOICE = _l("不是有效的选择。")  # what WTForms' choice fields said (its catalogue's words)


def kind_problem(kind: str | None):
    if not kind:
        return _l("请选择投诉、举报、咨询或建议。")
    return None if kind in KIND_VALUES else NOT_A_CHOICE


def description_problem(description: str | None):
    if not description:
        return _l("请写明发生了什么。")
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX:
        return _l("请用 %(min)d 到 %(max)d 个字写明发生了什么。", min=DESCRIPTION_MIN, max=DESCRIPTION_MAX)
    return None


def industry_problem(code: str | None):
    if not code or code in {c for c, _n in industry_choices()}:
        return None
    return NOT_A_CHOICE


def length_problem(field: str, value: str | None):
    most, message = MAX_LENGTHS[field]
    return message % {"max": most} if _given(value) and len(value) > most else None


def phone(raw: str | None, region: str) -> tuple[str | None, object]:
    """(the number in E.164 or None, the problem or None); no number is no problem."""
    if not _given(raw):
        return None, None
    e164 = normalise_phone(raw.strip(), region)
    if e164 is None:
        return None, _l("请填写正确的手机号码或带区号的固定电话，例如 13812345678 或 0577-67123456。")
    return e164, None


def identity_problems(kind: str | None, name: str | None, phone_raw: str | None, anonymous: bool) -> dict:
    """What the kind asks of the person (intake/cases/kinds.py, RULES.md "identity")."""
    identity = KINDS[CaseKind(kind)].identity if kind in KIND_VALUES else None
    problems = {}
    if identity is Identity.REAL_NAME:
        if not _given(name):
            problems["complainant_name"] = _l("投诉需要留下真实姓名，方便调解。")
        if not _given(phone_raw):
            problems["complainant_phone"] = _l("投诉需要留下联系电话，方便办理人员联系您。")
        if anonymous:
            problems["anonymous"] = _l("投诉不能匿名；如只想反映违法行为，请选择“举报”。")
    elif identity is Identity.MAY_BE_ANONYMOUS and not anonymous and not _given(phone_raw):
        problems["complainant_phone"] = _l("实名举报请留下联系电话；不想留电话可以勾选匿名举报。")
    return problems


@dataclass
class Checked:
    errors: dict[str, list]  # form field -> messages (lazy strings)
    phone_e164: str | None


def case_problems(values: dict, region: str) -> Checked:
    """Every rule of a case over its fields by the form's names (text or None; the flags booleans)."""
    errors: dict[str, list] = {}

    def add(field, message):
        if message is not None:
            errors.setdefault(field, []).append(message)

    add("kind", kind_problem(values.get("kind")))
    add("description", description_problem(values.get("description")))
    add("industry", industry_problem(values.get("industry")))
    for field in MAX_LENGTHS:
        add(field, length_problem(field, values.get(field)))
    e164, phone_error = phone(values.get("complainant_phone"), region)
    if "complainant_phone" not in errors:
        add("complainant_phone", phone_error)
    identity = identity_problems(
        values.get("kind"),
        values.get("complainant_name"),
        values.get("complainant_phone"),
        bool(values.get("anonymous")),
    )
    for field, message in identity.items():
        add(field, message)
    return Checked(errors, e164)
