"""A case as JSON: the one function every JSON entry point that files a case validates it with.

`submission_from_json(body, channel)` gives the Submission, or raises InvalidCase with field errors
under the JSON names ({"complainant.phone": ["…"]}). The rules are the web form's (CaseForm): the
JSON body is checked for types, then handed to the same form, so the two cannot disagree.
"""

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from intake.cases.forms import CaseForm
from intake.cases.models import Channel
from intake.cases.services import Submission

# JSON field -> form field; errors are reported under the JSON names.
FIELDS = {
    "kind": "kind",
    "business_name": "business_name",
    "business_address": "business_address",
    "description": "description",
    "industry": "industry",
    "anonymous": "anonymous",
    "urgent": "urgent",
    "disclose_identity": "disclose_identity",
    "complainant.name": "complainant_name",
    "complainant.phone": "complainant_phone",
}
BOOLEANS = {"anonymous", "urgent", "disclose_identity"}


class InvalidCase(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def submission_from_json(body: dict, channel: Channel) -> Submission:
    """The case in this JSON object ({kind, description, …, complainant: {name, phone}}), or InvalidCase."""
    formdata, type_errors = _formdata(body)
    if type_errors:
        raise InvalidCase(type_errors)
    form = CaseForm(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        reverse = {v: k for k, v in FIELDS.items()}
        raise InvalidCase({reverse.get(f, f): [str(m) for m in msgs] for f, msgs in form.errors.items()})
    return Submission.from_form(form, channel)


def _formdata(body: dict) -> tuple[MultiDict, dict]:
    """Flatten the JSON body into form data; values of the wrong type are errors, not guesses."""
    flat = dict(body)
    complainant = flat.pop("complainant", None) or {}
    errors: dict[str, list[str]] = {}
    if not isinstance(complainant, dict):
        errors["complainant"] = [_("complainant 必须是包含 name 和 phone 的对象。")]
        complainant = {}
    for key in ("name", "phone"):
        if key in complainant:
            flat[f"complainant.{key}"] = complainant[key]
    data = MultiDict()
    for json_name, form_name in FIELDS.items():
        value = flat.get(json_name)
        if value is None:
            continue
        if json_name in BOOLEANS:
            if not isinstance(value, bool):
                errors[json_name] = [_("必须是 true 或 false。")]
            elif value:
                data[form_name] = "y"
        elif isinstance(value, str):
            data[form_name] = value
        else:
            errors[json_name] = [_("必须是文字。")]
    return data, errors
