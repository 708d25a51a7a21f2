"""Looking a case up by number and code: keyed hash, one answer for every mistake, no code in a URL."""

import hashlib
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from intake import config
from intake.cases.codes import check_digit, well_formed
from intake.cases.models import Case
from intake.extensions import db
from tests.factories import CaseFactory
from tests.intake.test_api import PHARMACY
from tests.intake.test_web_form import GOOD as WEB_FORM

WRONG = "受理编号或查询码不正确。"


def _number(body: str) -> str:
    return body + check_digit(body)


UNKNOWN = _number("260101000000")  # well formed, never issued


@pytest.fixture
def filed(client):
    """A case filed through the API: its tracking number and lookup code."""
    return client.post("/api/v1/cases", json=PHARMACY).get_json()


def _stored_hash(tracking_no: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Case.lookup_code_hash).filter_by(tracking_no=tracking_no))


def _by_header(client, tracking_no, code):
    return client.get(f"/api/v1/cases/{tracking_no}", headers={"X-Lookup-Code": code})


def _by_body(client, tracking_no, code):
    return client.post(f"/api/v1/cases/{tracking_no}/lookup", json={"lookup_code": code})


@contextmanager
def case_queries():
    """The SQL statements that read the case table while the block runs."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if re.search(r'\bFROM "?case"?\b', statement):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_header_and_post_body_both_find_the_case(client, filed):
    for look_up in (_by_header, _by_body):
        response = look_up(client, filed["tracking_no"], filed["lookup_code"])
        assert response.status_code == 200
        assert response.get_json()["tracking_no"] == filed["tracking_no"]


def test_a_code_typed_with_spaces_or_full_width_digits_still_works(client, filed):
    code = filed["lookup_code"]
    spaced = f"{code[:3]} {code[3:]}"
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in code)
    assert _by_body(client, filed["tracking_no"], spaced).status_code == 200
    assert _by_body(client, filed["tracking_no"], full_width).status_code == 200


@pytest.mark.parametrize("look_up", [_by_header, _by_body])
def test_wrong_code_unknown_number_and_bad_check_digit_get_the_identical_answer(client, filed, look_up):
    good_no = filed["tracking_no"]
    bad_digit = good_no[:-1] + str((int(good_no[-1]) + 1) % 10)
    answers = [
        look_up(client, good_no, "000000" if filed["lookup_code"] != "000000" else "111111"),
        look_up(client, UNKNOWN, filed["lookup_code"]),
        look_up(client, bad_digit, filed["lookup_code"]),
        look_up(client, "12345", filed["lookup_code"]),
        look_up(client, good_no, ""),
    ]
    assert {(r.status_code, r.get_data()) for r in answers} == {(404, answers[0].get_data())}
    assert answers[0].get_json() == {"errors": {"case": [WRONG]}}


def test_the_web_lookup_answers_a_wrong_code_and_an_unknown_number_alike(client, filed):
    def page(tracking_no, code):
        text = client.post("/lookup", data={"tracking_no": tracking_no, "lookup_code": code}).get_data(as_text=True)
        return text.replace(f'value="{tracking_no}"', 'value="NO"').replace(f'value="{code}"', 'value="CODE"')

    wrong = page(filed["tracking_no"], "999990" if filed["lookup_code"] != "999990" else "999991")
    assert wrong == page(UNKNOWN, filed["lookup_code"]) == page(UNKNOWN[:-1], filed["lookup_code"])
    assert WRONG in wrong and 'id="case-view"' not in wrong


def test_a_number_with_a_bad_check_digit_is_refused_without_a_query(client, filed):
    good_no = filed["tracking_no"]
    bad_digit = good_no[:-1] + str((int(good_no[-1]) + 1) % 10)
    with case_queries() as seen:
        assert _by_header(client, bad_digit, filed["lookup_code"]).status_code == 404
        assert _by_body(client, bad_digit, filed["lookup_code"]).status_code == 404
        page = client.post("/lookup", data={"tracking_no": bad_digit, "lookup_code": filed["lookup_code"]})
        assert WRONG in page.get_data(as_text=True)
    assert seen == []
    with case_queries() as seen:  # the listener does see a well-formed number's lookup
        _by_header(client, good_no, filed["lookup_code"])
    assert seen


def test_a_code_in_the_url_is_refused_and_says_to_use_the_header(client, filed):
    no, code = filed["tracking_no"], filed["lookup_code"]
    for response in (
        client.get(f"/api/v1/cases/{no}?code={code}"),
        client.get(f"/api/v1/cases/{no}?lookup_code={code}", headers={"X-Lookup-Code": code}),
        client.post(f"/api/v1/cases/{no}/lookup?code={code}", json={"lookup_code": code}),
    ):
        assert response.status_code == 400
        [message] = response.get_json()["errors"]["code"]
        assert "不能放在网址中" in message and "X-Lookup-Code" in message


def test_the_web_lookup_page_never_reads_a_code_from_the_url(client, filed):
    page = client.get(
        "/lookup", query_string={"tracking_no": filed["tracking_no"], "lookup_code": filed["lookup_code"]}
    )
    assert page.status_code == 200 and 'id="case-view"' not in page.get_data(as_text=True)
    assert 'method="post"' in page.get_data(as_text=True)


def test_the_receipt_shows_the_code_once(client):
    first = client.post("/", data=WEB_FORM, follow_redirects=True).get_data(as_text=True)
    tracking_no = re.search(r'id="tracking-no">(\d+)<', first).group(1)
    code = re.search(r'id="lookup-code">(\d+)<', first).group(1)

    again = client.get("/receipt")
    page = again.get_data(as_text=True)
    assert tracking_no in page and 'id="lookup-code"' not in page and code not in page.replace(tracking_no, "")
    assert "查询码只显示一次" in page
    assert again.headers["Cache-Control"] == "no-store"
    with client.session_transaction() as session:
        assert "lookup_code" not in session.get("receipt", {})
    # the code shown the first time does look the case up
    found = client.post("/lookup", data={"tracking_no": tracking_no, "lookup_code": code}).get_data(as_text=True)
    assert 'id="case-view"' in found


def test_the_stored_value_is_neither_the_code_nor_a_plain_sha_of_it(client, filed):
    stored = _stored_hash(filed["tracking_no"])
    code = filed["lookup_code"]
    assert stored.startswith("hmac-sha256$v1$") and code not in stored.split("$", 2)[1:]
    for plain in (code, f"{filed['tracking_no']}:{code}", filed["tracking_no"] + code):
        for algorithm in ("sha1", "sha256", "sha512", "md5"):
            assert hashlib.new(algorithm, plain.encode()).hexdigest() not in stored


def test_a_hash_moved_to_another_case_does_not_open_it(client, filed):
    other = client.post("/api/v1/cases", json=PHARMACY).get_json()
    victim = db.session.scalar(sa.select(Case).filter_by(tracking_no=other["tracking_no"]))
    victim.lookup_code_hash = _stored_hash(filed["tracking_no"])
    db.session.commit()
    assert _by_header(client, other["tracking_no"], filed["lookup_code"]).status_code == 404


def test_an_old_pbkdf2_code_still_finds_the_case_and_is_upgraded(client):
    old = CaseFactory(
        tracking_no=_number("251120654321"),
        lookup_code_hash=generate_password_hash("724696", method="pbkdf2:sha256:50000"),
    )
    db.session.commit()
    assert _by_header(client, old.tracking_no, "000000").status_code == 404
    assert _stored_hash(old.tracking_no).startswith("pbkdf2:")  # a wrong code changes nothing

    assert _by_header(client, old.tracking_no, "724696").status_code == 200
    assert _stored_hash(old.tracking_no).startswith("hmac-sha256$v1$")
    assert _by_body(client, old.tracking_no, "724696").status_code == 200  # and it still works
    page = client.post("/lookup", data={"tracking_no": old.tracking_no, "lookup_code": "724 696"})
    assert 'id="case-view"' in page.get_data(as_text=True)


def test_a_rotated_key_keeps_old_codes_working_and_rehashes_them(app, client, filed, monkeypatch):
    monkeypatch.setitem(app.config, "LOOKUP_CODE_OLD_KEYS", {"v1": app.config["LOOKUP_CODE_KEY"]})
    monkeypatch.setitem(app.config, "LOOKUP_CODE_KEY", "a new key")
    monkeypatch.setitem(app.config, "LOOKUP_CODE_KEY_ID", "v2")
    assert _by_body(client, filed["tracking_no"], filed["lookup_code"]).status_code == 200
    assert _stored_hash(filed["tracking_no"]).startswith("hmac-sha256$v2$")

    monkeypatch.setitem(app.config, "LOOKUP_CODE_OLD_KEYS", {})  # a key dropped: its hashes open nothing
    monkeypatch.setitem(app.config, "LOOKUP_CODE_KEY", "a third key")
    monkeypatch.setitem(app.config, "LOOKUP_CODE_KEY_ID", "v3")
    assert _by_body(client, filed["tracking_no"], filed["lookup_code"]).status_code == 404


def test_tracking_numbers_carry_a_luhn_check_digit(client, filed):
    assert check_digit("7992739871") == "3"  # the usual Luhn example, 79927398713
    assert well_formed(filed["tracking_no"])
    assert not well_formed(filed["tracking_no"][:-1] + str((int(filed["tracking_no"][-1]) + 1) % 10))
    assert not well_formed("１" * 13) and not well_formed("")


def test_production_needs_a_lookup_code_key(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    for key in config.PRODUCTION_REQUIRED:
        monkeypatch.setenv(key, "set")
    monkeypatch.delenv("LOOKUP_CODE_KEY")
    with pytest.raises(config.ConfigError, match="LOOKUP_CODE_KEY"):
        config.load(str(tmp_path))


@pytest.mark.parametrize("spec", ["v1", "v1=", "bad$id=key", "v1=a,toolongkeyid=b"])
def test_a_malformed_list_of_old_keys_is_a_clear_error(monkeypatch, tmp_path, spec):
    monkeypatch.setenv("LOOKUP_CODE_OLD_KEYS", spec)
    with pytest.raises(config.ConfigError, match="LOOKUP_CODE_OLD_KEYS|key id"):
        config.load(str(tmp_path))
