"""The citizen's web form and the lookup page."""

import re

import sqlalchemy as sa

from intake.cases.models import Case, Channel
from intake.extensions import db

GOOD = {
    "kind": "complaint",
    "business_name": "江边农资店",
    "business_address": "永嘉县桥头镇",
    "description": "买的复合肥是假的，撒下去庄稼一点都不长。",
    "complainant_name": "张三",
    "complainant_phone": "13912345678",
}


def test_form_is_in_chinese_and_warns_about_emergencies(client):
    page = client.get("/").get_data(as_text=True)
    assert "投诉举报" in page and "110" in page and "商家地址" in page


def test_filing_shows_tracking_number_and_code_that_look_the_case_up(client):
    resp = client.post("/", data=GOOD, follow_redirects=True)
    page = resp.get_data(as_text=True)
    tracking_no = re.search(r'id="tracking-no">(\d+)<', page).group(1)
    code = re.search(r'id="lookup-code">(\d+)<', page).group(1)
    case = db.session.scalar(sa.select(Case))
    assert case.tracking_no == tracking_no and case.channel is Channel.WEB

    found = client.post("/lookup", data={"tracking_no": tracking_no, "lookup_code": code}).get_data(as_text=True)
    assert (
        'id="case-status"' in found and "已登记，待转交承办部门" in found and "登记" in found and "已受理" not in found
    )


def test_wrong_code_shows_nothing_of_the_case(client):
    client.post("/", data=GOOD)
    tracking_no = db.session.scalar(sa.select(Case.tracking_no))
    page = client.post("/lookup", data={"tracking_no": tracking_no, "lookup_code": "999999"}).get_data(as_text=True)
    assert "受理编号或查询码不正确" in page and 'id="case-view"' not in page


def test_bad_input_keeps_what_was_typed_and_says_what_to_fix(client):
    resp = client.post("/", data={**GOOD, "complainant_phone": "12345"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "请填写正确的手机号码" in page
    assert "买的复合肥是假的" in page and 'value="江边农资店"' in page
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0


def test_complaint_cannot_be_anonymous(client):
    page = client.post("/", data={**GOOD, "anonymous": "y"}).get_data(as_text=True)
    assert "投诉不能匿名" in page


def test_form_post_without_csrf_token_is_refused(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = app.test_client().post("/", data=GOOD)
        assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
