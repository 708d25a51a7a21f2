"""Generated requests against every channel a stranger can reach: never a 5xx, and a 4xx names a field.

Hypothesis builds bodies from hostile text (NUL, lone surrogates, C0 and bidi controls, emoji, BOMs,
very long strings), nested JSON, numbers too large for any column, wrong types and missing fields,
mixed with valid values so that some requests get as far as filing a case. Runs are derandomized
and keep no example database, so CI sees the same requests every time. The quotas below add up to
REQUESTS (2,400); each test checks that it made its quota.
"""

import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.intake.test_api import PHARMACY
from tests.intake.test_hotline import CALL
from tests.intake.test_web_form import GOOD

SECRET = "fuzz-sms-secret"
QUOTAS = {"api": 600, "lookup": 600, "web": 400, "sms": 500, "hotline": 400}
REQUESTS = sum(QUOTAS.values())


def fuzz(name: str):
    return settings(
        max_examples=QUOTAS[name],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# Text: what the database, the JSON parser and the encoders choke on, between ordinary characters.
NASTY = [
    "\x00",
    "\ud800",
    "\udfff",
    "\udbff",
    "\udc00",
    "\x07",
    "\x1b",
    "\x7f",
    "\u202e",
    "\ufeff",
    "\uffff",
    "😀",
    "\r",
    "\n",
]
chars = st.one_of(st.sampled_from(NASTY), st.characters(exclude_categories=()), st.sampled_from("药房瓯北 123abc"))
short_text = st.text(chars, max_size=40)
long_text = st.builds(lambda s, n: s * n, st.text(chars, min_size=1, max_size=4), st.integers(1000, 5000))
text = st.one_of(short_text, short_text, long_text)
numbers = st.one_of(st.integers(), st.integers(min_value=2**63), st.floats(), st.just(10**300))
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3), max_leaves=8
)
deep = st.integers(5, 3000).map(lambda n: "[" * n + "]" * n)


hostile = st.one_of(text, text, json_values, st.just(None))


def field(valid):
    """A field's value: a valid one, hostile text, any JSON value, or null."""
    return st.one_of(st.just(valid), hostile)


def bodies(valid: dict, bad=hostile, fixed=None) -> st.SearchStrategy:
    """A valid body with up to two fields spoilt and one left out, or one spoilt everywhere.

    Most requests are then one mistake away from a filing, so the checks after the first field
    (and the filing itself) are reached too; `fixed` fields are always generated (a unique id).
    """
    keys = sorted(valid)
    fixed = fixed or {}

    def build(spoilt, dropped):
        return st.fixed_dictionaries(
            {**{k: bad if k in spoilt else st.just(valid[k]) for k in keys if k not in dropped}, **fixed}
        )

    one_mistake = st.tuples(
        st.sets(st.sampled_from(keys), max_size=2), st.sets(st.sampled_from(keys), max_size=1)
    ).flatmap(lambda picked: build(*picked))
    anything = st.fixed_dictionaries(fixed, optional={k: field(v) for k, v in valid.items()})
    return st.one_of(one_mistake, one_mistake, anything)


def dumps(body) -> bytes:
    """JSON as a careless client writes it: lone surrogates as \\ud800 escapes, NaN and Infinity bare."""
    return json.dumps(body, allow_nan=True).encode()


def with_deep(body: st.SearchStrategy) -> st.SearchStrategy:
    """Bodies, and now and then raw bytes: nesting past any limit, a cut-off body, not UTF-8."""
    raw = st.one_of(
        deep.map(lambda d: ('{"description": ' + d + "}").encode()),
        deep.map(str.encode),
        body.map(dumps).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),
        st.binary(max_size=200),
    )
    return st.one_of(body.map(dumps), body.map(dumps), body.map(dumps), raw)


def fields_error(resp) -> None:
    """The invariant: no 5xx; a 4xx carries at least one error message under a field name."""
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    if resp.status_code >= 400:
        if resp.is_json:
            errors = resp.get_json()["errors"]
            assert errors and all(
                isinstance(k, str) and v and all(isinstance(m, str) for m in v) for k, v in errors.items()
            )
        else:
            page = resp.get_data(as_text=True)
            assert 'class="errors"' in page or 'id="not-stored"' in page or "<h1>" in page, page[:500]


def run(name: str, strategies: dict, send) -> None:
    """`send(**example)` for QUOTAS[name] generated examples; then check that they were all made."""
    made = []

    @fuzz(name)
    @given(**strategies)
    def check(**example):
        made.append(1)
        send(**example)

    check()
    assert len(made) >= QUOTAS[name]


# --- POST /api/v1/cases -------------------------------------------------------------------------

complainants = st.one_of(
    bodies({"name": "李明", "phone": "13812345678"}), st.fixed_dictionaries({"name": hostile}), json_values
)
api_bodies = bodies(
    {
        **PHARMACY,
        "anonymous": False,
        "urgent": True,
        "complainant": {"name": "李明", "phone": "13812345678"},
    }
).flatmap(lambda body: st.one_of(st.just(body), complainants.map(lambda c: {**body, "complainant": c})))


def test_api_filing(client):
    def send(body):
        fields_error(client.post("/api/v1/cases", data=body, content_type="application/json"))

    run("api", {"body": with_deep(api_bodies)}, send)


# --- lookup: GET /api/v1/cases/<no> with the code in a header, POST …/lookup, POST /lookup ------

tracking = st.one_of(st.just("20260001"), short_text, st.integers(-(2**70), 2**70).map(str))
header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30)


def path_part(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="") or "x"


def form_body(data: dict) -> bytes:
    """Form data as a browser sends it (lone surrogates as their UTF-8-ish bytes, which are invalid)."""
    return urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in data.items() if isinstance(v, str)}).encode()


def test_lookup(client):
    def send(how, number, code, body, web):
        if how == "header":
            resp = client.get(f"/api/v1/cases/{path_part(number)}", headers={"X-Lookup-Code": code})
        elif how == "body":
            url = f"/api/v1/cases/{path_part(number)}/lookup"
            resp = client.post(url, data=body, content_type="application/json")
        else:
            resp = client.post("/lookup", data=form_body(web), content_type="application/x-www-form-urlencoded")
        fields_error(resp)

    strategies = {
        "how": st.sampled_from(["header", "body", "web"]),
        "number": tracking,
        "code": header_value,
        "body": with_deep(st.fixed_dictionaries({}, optional={"lookup_code": field("123456")})),
        "web": st.fixed_dictionaries({"tracking_no": text, "lookup_code": text}),
    }
    run("lookup", strategies, send)


# --- the web form ---------------------------------------------------------------------------------

web_forms = bodies({**GOOD, "industry": "pharmacy", "urgent": "y"}, bad=text)


def test_web_form(client):
    def send(data):
        resp = client.post("/", data=form_body(data), content_type="application/x-www-form-urlencoded")
        fields_error(resp)
        if resp.status_code == 200:  # the form again: it says what to fix
            assert 'class="errors"' in resp.get_data(as_text=True)

    run("web", {"data": web_forms}, send)


# --- the SMS gateway's webhook (signed) -----------------------------------------------------------

sms_bodies = st.one_of(
    bodies(
        {
            "from": "13812345678",
            "to": "12315",
            "text": "永嘉县瓯北街道好日子大药房卖过期感冒药。",
            "received_at": "2026-11-23T10:15:00+08:00",
            "concat_ref": "7",
            "part_no": 1,
            "part_count": 1,
        },
        fixed={"message_id": st.uuids().map(str)},
    ),
    st.fixed_dictionaries({"message_id": hostile, "from": st.just("13812345678"), "text": text}),
)


def test_sms_webhook(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", SECRET)

    def send(body):
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Signature": signature}
        resp = client.post("/sms/inbound", data=body, content_type="application/json", headers=headers)
        fields_error(resp)
        # signed: the gateway must not be asked to deliver it again (413 only for an oversized body)
        assert resp.status_code in (200, 413), resp.get_data(as_text=True)[:500]
        if resp.get_json().get("status") == "unreadable":
            assert resp.get_json()["errors"]

    run("sms", {"body": with_deep(sms_bodies)}, send)


# --- the phone system's hook (bearer token) -------------------------------------------------------

call_bodies = bodies({k: v for k, v in CALL.items() if k != "call_id"}, fixed={"call_id": st.uuids().map(str)})
call_bodies = st.one_of(call_bodies, bodies(CALL), st.dictionaries(short_text, json_values, max_size=4))


def test_phone_system_hook(client, app):
    headers = {"Authorization": f"Bearer {app.config['HOTLINE_TOKEN']}"}

    def send(body):
        fields_error(client.post("/hotline/calls", data=body, content_type="application/json", headers=headers))

    run("hotline", {"body": with_deep(call_bodies)}, send)


def test_a_run_makes_at_least_2000_requests():
    assert REQUESTS >= 2000
