"""A case as JSON: the one function every JSON entry point that files a case validates it with.

`submission_from_json(body, channel)` gives the Submission, or raises InvalidCase with field errors
under the JSON names ({"complainant.phone": ["…"]}). `CaseIn` (pydantic, strict) checks the body's
types and the text the database cannot store; then the web form's rules (intake/cases/rules.py, which
CaseForm asks too) check the values, so the form and the JSON cannot disagree. The JSON Schema of
`CaseIn` is the OpenAPI document's (intake/openapi.py), its limits read from the same rules.
"""

from typing import Annotated, Literal

from flask import current_app
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, WithJsonSchema

from intake.cases import rules
from intake.cases.models import Channel
from intake.cases.services import Submission
from intake.schemas import Text, field_errors, required

# form field -> JSON field, for the errors
JSON_NAMES = {"complainant_name": "complainant.name", "complainant_phone": "complainant.phone"}


class InvalidCase(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _text(most: int | None = None, least: int | None = None, nullable: bool = True, **schema):
    """A text field's JSON Schema as the rules have it (the model itself checks only the type)."""
    shown = {"type": "string", **schema}
    if most is not None:
        shown["maxLength"] = most
    if least is not None:
        shown["minLength"] = least
    return WithJsonSchema({"anyOf": [shown, {"type": "null"}]} if nullable else shown)


EXAMPLE = {
    "kind": "complaint",
    "business_name": "好日子大药房",
    "business_address": "浙江省温州市永嘉县瓯北街道罗浮大街88号",
    "description": "在这家药店买的感冒药已经过期两个月，店员不肯退换。",
    "complainant": {"name": "李明", "phone": "13812345678"},
}


class ComplainantIn(BaseModel):
    model_config = ConfigDict(strict=True, title="Complainant")

    name: Annotated[Text | None, _text(rules.MAX_LENGTHS["complainant_name"][0])] = Field(
        None, description="姓名（投诉必填）"
    )
    phone: Annotated[Text | None, _text(rules.MAX_LENGTHS["complainant_phone"][0])] = Field(
        None, description="手机或带区号的固定电话（投诉、实名举报必填）"
    )


class CaseIn(BaseModel):
    """一件投诉、举报、咨询或建议：投诉须留姓名和电话；举报须留电话，或选择匿名。"""

    model_config = ConfigDict(
        strict=True, title="CaseIn", json_schema_extra=required("kind", "description", examples=[EXAMPLE])
    )

    kind: Annotated[Text | None, _text(nullable=False, enum=list(rules.KIND_VALUES))] = Field(
        None, description="complaint 投诉, tip 举报, inquiry 咨询, suggestion 建议"
    )
    description: Annotated[Text | None, _text(rules.DESCRIPTION_MAX, rules.DESCRIPTION_MIN, nullable=False)] = Field(
        None, description="发生了什么"
    )
    business_name: Annotated[Text | None, _text(rules.MAX_LENGTHS["business_name"][0])] = None
    business_address: Annotated[Text | None, _text(rules.MAX_LENGTHS["business_address"][0])] = None
    industry: Annotated[Text | None, _text()] = Field(None, description="行业代码（不清楚可不填）")
    anonymous: StrictBool | None = Field(None, description="匿名（仅举报）")
    urgent: StrictBool | None = None
    disclose_identity: StrictBool | None = Field(None, description="同意承办部门知道身份")
    complainant: ComplainantIn | None = None


def submission_from_json(body: dict, channel: Channel) -> Submission:
    """The case in this JSON object ({kind, description, …, complainant: {name, phone}}), or InvalidCase."""
    try:
        case = CaseIn.model_validate(body)
    except ValidationError as exc:
        complainant = _("complainant 必须是包含 name 和 phone 的对象。")
        raise InvalidCase(
            field_errors(exc, {("complainant", "model_type"): complainant, ("complainant", "dict_type"): complainant})
        ) from None
    person = case.complainant or ComplainantIn()
    values = {
        "kind": case.kind,
        "description": case.description,
        "business_name": case.business_name,
        "business_address": case.business_address,
        "industry": case.industry,
        "complainant_name": person.name,
        "complainant_phone": person.phone,
        "anonymous": bool(case.anonymous),
    }
    checked = rules.case_problems(values, current_app.config["DEFAULT_REGION"])
    if checked.errors:
        raise InvalidCase({JSON_NAMES.get(f, f): [str(m) for m in msgs] for f, msgs in checked.errors.items()})
    values.update(urgent=bool(case.urgent), disclose_identity=bool(case.disclose_identity))
    return Submission.from_values(values, checked.phone_e164, channel)


# The answers, for the OpenAPI document.
class CaseCreated(BaseModel):
    tracking_no: str = Field(description="受理编号（13 位数字）")
    lookup_code: str = Field(description="查询码（6 位数字，只在此给出一次）")
    status: Literal["received"]


class FieldErrors(BaseModel):
    """Field errors in Chinese, by the JSON field's dotted name ("body" for the body as a whole)."""

    errors: dict[str, list[str]]


# The public view of a case (intake/cases/lookup.py `public_view`): the lookup page's and the API's.
class Named(BaseModel):
    code: str
    name: str


class Department(BaseModel):
    kind: str
    name: str


class MergedInto(BaseModel):
    tracking_no: str
    status: str
    status_label: str


class Deadline(BaseModel):
    clock: str
    label: str
    due_at: str = Field(description="ISO 8601，北京时间")
    running: bool
    met: bool | None


class HistoryEntry(BaseModel):
    at: str
    action: str
    label: str
    note: str


class PublicView(BaseModel):
    """What the number and the code show of a case: no staff names, no personal data."""

    tracking_no: str
    status: str
    status_label: str
    merged_into: MergedInto | None = Field(description="合并到的案件；其办理结果即本案结果")
    kind: Annotated[str, WithJsonSchema({"type": "string", "enum": list(rules.KIND_VALUES)})]
    received_at: str
    industry: Named | None
    township: Named | None
    lead_department: Department | None
    deadlines: list[Deadline]
    result: str | None
    history: list[HistoryEntry]


class LookupIn(BaseModel):
    model_config = ConfigDict(strict=True, json_schema_extra=required("lookup_code"))

    lookup_code: Annotated[Text, _text(16, nullable=False)] = Field("", description="查询码（6 位数字）")
