"""The web form and the JSON API take and refuse the same cases, field by field (intake/cases/rules.py)."""

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from intake.cases.forms import CaseForm
from intake.cases.models import Case
from intake.extensions import db

from .test_api import PHARMACY

FORM_TO_JSON = {"complainant_name": "complainant.name", "complainant_phone": "complainant.phone"}

TIP = {"kind": "tip", "description": "这家小饭店后厨老鼠很多，用地沟油炒菜。", "business_address": "永嘉县瓯北街道"}
ANONYMOUS_TIP = {**TIP, "anonymous": True}


def person(name="李明", phone="13812345678"):
    return {"complainant": {"name": name, "phone": phone}}


CASES = {
    "a complaint with name and phone": PHARMACY,
    "an anonymous tip": ANONYMOUS_TIP,
    "a named tip with a phone": {**TIP, **person()},
    "an inquiry with a description only": {"kind": "inquiry", "description": "请问小作坊办证需要哪些材料？"},
    "a landline with its area code": {**PHARMACY, **person(phone="0577-67123456")},
    "too short a description": {**PHARMACY, "description": "太差"},
    "no description": {**PHARMACY, "description": ""},
    "too long a description": {**PHARMACY, "description": "药" * 5001},
    "a bad phone": {**PHARMACY, **person(phone="12345")},
    "a complaint without a name": {**PHARMACY, **person(name="")},
    "a complaint without name or phone": {**PHARMACY, **person(name="", phone="")},
    "an anonymous complaint": {**PHARMACY, "anonymous": True},
    "a tip without a phone": {**TIP, **person(phone="")},
    "a tip with a bad phone": {**TIP, **person(phone="110")},
    "no kind": {**PHARMACY, "kind": ""},
    "a kind we do not have": {**PHARMACY, "kind": "praise"},
    "an industry we do not have": {**PHARMACY, "industry": "bank"},
    "a known industry": {**PHARMACY, "industry": "pharmacy"},
    "too long a business name": {**PHARMACY, "business_name": "店" * 201},
    "too long an address": {**PHARMACY, "business_address": "路" * 301},
    "too long a name": {**PHARMACY, **person(name="李" * 65)},
    "too long a phone": {**PHARMACY, **person(phone="1" * 33)},
    "a NUL in the description": {**PHARMACY, "description": "过期的感冒药\x00店员不肯退"},
    "a NUL in the name": {**PHARMACY, **person(name="李\x00明")},
    "a control character in the address": {**PHARMACY, "business_address": "瓯北\x07街道"},
    "several problems at once": {**TIP, "description": "短", "business_name": "店" * 201, **person(phone="12")},
}


def form_verdict(app, case: dict) -> set[str]:
    """The fields the web form refuses (empty: it takes the case)."""
    data = MultiDict()
    for key, value in case.items():
        if key == "complainant":
            data["complainant_name"], data["complainant_phone"] = value["name"], value["phone"]
        elif value is True:
            data[key] = "y"
        elif value is not False:
            data[key] = value
    with app.test_request_context(method="POST"):
        form = CaseForm(formdata=data, meta={"csrf": False})
        form.validate()
        return {FORM_TO_JSON.get(name, name) for name, errors in form.errors.items() if errors}


def api_verdict(client, case: dict) -> set[str]:
    resp = client.post("/api/v1/cases", json=case)
    if resp.status_code == 201:
        return set()
    assert resp.status_code == 422, resp.get_data(as_text=True)
    return set(resp.get_json()["errors"])


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_form_and_the_api_refuse_the_same_fields(app, client, case):
    assert form_verdict(app, case) == api_verdict(client, case)


@pytest.mark.parametrize(
    "name, refused",
    [
        ("a complaint with name and phone", set()),
        ("an anonymous tip", set()),
        ("too short a description", {"description"}),
        ("a bad phone", {"complainant.phone"}),
        ("a complaint without a name", {"complainant.name"}),
        ("an anonymous complaint", {"anonymous"}),
        ("a tip without a phone", {"complainant.phone"}),
        ("too long a name", {"complainant.name"}),
        ("a NUL in the description", {"description"}),
        ("several problems at once", {"description", "business_name", "complainant.phone"}),
    ],
)
def test_the_verdicts_are_the_rules(client, name, refused):
    assert api_verdict(client, CASES[name]) == refused


def test_the_same_messages_on_both(app, client):
    case = CASES["a tip without a phone"]
    with app.test_request_context(method="POST"):
        form = CaseForm(formdata=MultiDict({"kind": "tip", "description": case["description"]}), meta={"csrf": False})
        form.validate()
        messages = [str(m) for m in form.complainant_phone.errors]
    assert client.post("/api/v1/cases", json=case).get_json()["errors"]["complainant.phone"] == messages


@pytest.mark.parametrize(
    "change, field",
    [
        ({"description": 12345}, "description"),
        ({"anonymous": "true"}, "anonymous"),
        ({"anonymous": 1}, "anonymous"),
        ({"complainant": "李明 13812345678"}, "complainant"),
        ({"complainant": {"name": "李明", "phone": 13812345678}}, "complainant.phone"),
        ({"business_name": ["好日子"]}, "business_name"),
    ],
)
def test_wrong_json_types_are_errors_not_guesses(client, change, field):
    resp = client.post("/api/v1/cases", json={**PHARMACY, **change})
    assert resp.status_code == 422 and field in resp.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0


def test_a_lone_surrogate_is_a_field_error(client):
    body = '{"kind": "tip", "anonymous": true, "description": "后厨老鼠很多\\ud800地沟油"}'
    resp = client.post("/api/v1/cases", data=body, content_type="application/json")
    assert resp.status_code == 422 and "description" in resp.get_json()["errors"]


def test_submission_from_json_names_the_json_fields(app):
    from intake.cases.models import Channel
    from intake.cases.schemas import InvalidCase, submission_from_json

    with app.test_request_context():
        with pytest.raises(InvalidCase) as caught:
            submission_from_json({**PHARMACY, **person(phone="12345"), "urgent": "yes"}, Channel.API)
        assert set(caught.value.errors) == {"urgent"}  # the types first, as before
        with pytest.raises(InvalidCase) as caught:
            submission_from_json({**PHARMACY, **person(name="", phone="12345")}, Channel.API)
        assert set(caught.value.errors) == {"complainant.name", "complainant.phone"}
        assert all(isinstance(m, str) for msgs in caught.value.errors.values() for m in msgs)
        submission = submission_from_json(PHARMACY, Channel.API)
        assert submission.complainant_phone == "+8613812345678" and submission.channel is Channel.API
