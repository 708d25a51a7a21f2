"""What the router read from a caller's number (area code, a mobile's region) is shown only to
who may see the caller's identity: not on the case page, in the history, the queues, the
downloads or the JSON of anyone else, whichever channel the case came by."""

import hashlib
import hmac
import io
import json
import re
import uuid

import openpyxl
import pytest
import sqlalchemy as sa

from intake.accounts.models import Role, User
from intake.authz import routing_reasons
from intake.cases.models import Case, CaseStatus, PersonalDataAccess
from intake.extensions import db
from tests.factories import CaseFactory, UserFactory

QIAOTOU = "330324102"  # 桥头镇, 永嘉县 (温州); a landline of 嘉兴 (0573) says the bare 桥头 may be a plain word
OUBEI = "330324009"  # 瓯北街道: its 双塔社区 shares a name with villages in 嘉兴; a 温州 mobile settles it
LANDLINE = "0573-83556677"
LANDLINE_PARTS = ("0573", "8355", "83556677", "嘉兴")
MOBILE = "13958814402"
MOBILE_PARTS = ("1395", "1395881", "13958814402", "温州", "手机号")
FARM_SHOP = (
    "桥头那边有家农资店，卖的复合肥里掺了泥土，撒下去庄稼一点不长。"  # farm inputs: agriculture leads, market helps
)
GROCERY = "双塔村村口有家小超市，把过期的牛奶换了标签接着卖。"
SMS_SECRET = "test-sms-secret"


# --- what a user reads ------------------------------------------------------------------------


def section(page: str, opening: str, closing: str) -> str:
    start = page.find(opening)
    return page[start : page.find(closing, start)] if start >= 0 else ""


def reasons_of(page: str) -> str:
    """The 分派依据 list of a case page."""
    return section(page, 'id="routing-reasons"', "</ul>")


def history_of(page: str) -> str:
    """The 办理记录 list of a case page."""
    return section(page, "办理记录", "</ol>")


def xlsx_text(body: bytes) -> str:
    """Every cell of every sheet of a workbook, as text."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)


def shows_nothing_of(text: str, parts) -> bool:
    return not any(p in text for p in parts)


@pytest.fixture
def as_user(client, login, make_user):
    """Log in as a member of staff (made on first use) and GET a page."""
    users = {}

    def get(who: str, url: str) -> str:
        if who not in users:
            users[who] = {
                "agriculture": lambda: make_user("yj-agri", kind="agriculture"),
                "market": lambda: make_user("yj-market", kind="market"),
                "qiaotou": lambda: make_user("qt-town", role=Role.TOWNSHIP, kind=None, township=QIAOTOU),
                "oubei": lambda: make_user("ob-town", role=Role.TOWNSHIP, kind=None, township=OUBEI),
                "supervisor": lambda: make_user("chen", role=Role.SUPERVISOR, kind=None),
                "dispatcher": lambda: make_user("wangfang", role=Role.DISPATCHER, county=None, kind=None),
            }[who]()
        client.post("/logout")
        login(users[who])
        resp = client.get(url)
        if resp.status_code != 200:
            return f"HTTP {resp.status_code}"
        if resp.mimetype.endswith("spreadsheetml.sheet"):
            return xlsx_text(resp.get_data())
        return resp.get_data(as_text=True)

    return get


def every_page(as_user, who: str, case: Case) -> dict[str, str]:
    """What this user can open that speaks of the case: its page, the queues, the downloads."""
    return {
        "case": as_user(who, f"/staff/cases/{case.id}"),
        "queue": as_user(who, "/staff/"),
        "triage": as_user(who, "/dispatch/"),
        "csv": as_user(who, "/staff/figures/figures.csv?period=week"),
        "xlsx": as_user(who, "/staff/figures/figures.xlsx?period=week"),
    }


def latest() -> Case:
    db.session.expire_all()
    return db.session.scalar(sa.select(Case).order_by(Case.id.desc()))


# --- filing ---------------------------------------------------------------------------------


def file_on_the_web(client, run_jobs, **fields) -> Case:
    form = {"kind": "tip", "description": FARM_SHOP, "complainant_name": "周敏", "complainant_phone": LANDLINE}
    resp = client.post("/", data={**form, **fields})
    assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]
    run_jobs()
    return latest()


def text_in(client, run_jobs, text: str, sender: str) -> Case:
    body = json.dumps(
        {
            "message_id": uuid.uuid4().hex,
            "from": sender,
            "to": "12315",
            "text": text,
            "received_at": "2026-11-23T10:15:00+08:00",
        },
        ensure_ascii=False,
    ).encode()
    signature = hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    resp = client.post("/sms/inbound", data=body, content_type="application/json", headers={"X-Signature": signature})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    run_jobs()
    return latest()


def call_in(client, login, make_user, run_jobs, caller: str, **fields) -> Case:
    """A hotline operator takes a call from ``caller`` and files a tip (no township picked)."""
    from flask import current_app

    call = {
        "call_id": "pbx-" + uuid.uuid4().hex[:6],
        "caller": caller,
        "line": "12315-1",
        "started_at": "2026-05-06T09:30:00+08:00",
    }
    token = current_app.config["HOTLINE_TOKEN"]
    call_pk = client.post("/hotline/calls", json=call, headers={"Authorization": f"Bearer {token}"}).get_json()["id"]
    login(make_user("lijing", role=Role.OPERATOR, county=None, kind=None))
    assert client.post(f"/hotline/calls/{call_pk}/take").status_code == 200
    filing = {
        "kind": "tip",
        "description": FARM_SHOP,
        "complainant_name": "周敏",
        "complainant_phone": caller,
        "action": "file",
        **fields,
    }
    resp = client.post(f"/hotline/calls/{call_pk}/file", data=filing)
    assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]
    client.post("/logout")
    run_jobs()
    return latest()


def route_by_hand(as_user, client, case: Case, township: str, industry: str) -> None:
    as_user("dispatcher", "/dispatch/")
    resp = client.post(f"/dispatch/cases/{case.id}/route", data={"township": township, "industry": industry})
    assert resp.status_code == 302


# --- a tipper who did not allow disclosure --------------------------------------------------


def test_web_tip_without_consent_shows_the_landline_to_nobody(client, run_jobs, as_user):
    case = file_on_the_web(client, run_jobs)
    assert case.status is CaseStatus.DISPATCHED and case.township_code == QIAOTOU and case.identity_hidden
    # the router did read the landline, and kept what it read for the record
    assert any("0573" in r["text"] for r in case.routing["phone_reasons"])
    for who in ("agriculture", "market", "qiaotou", "supervisor", "dispatcher"):
        pages = every_page(as_user, who, case)
        for name, page in pages.items():
            assert shows_nothing_of(page, LANDLINE_PARTS), (who, name)
        page = pages["case"]
        if who in ("agriculture", "market", "qiaotou"):
            assert "永嘉县" in page and "桥头镇" in page  # the case itself is there
            assert "按来电信息辅助判断" in reasons_of(page)
            assert shows_nothing_of(reasons_of(page) + history_of(page), ("573", "来电区号"))


def test_sms_tip_settled_by_the_mobiles_region_shows_no_part_of_it(client, run_jobs, as_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_WEBHOOK_SECRET", SMS_SECRET)
    case = text_in(client, run_jobs, "举报：" + GROCERY, sender=MOBILE)
    assert case.status is CaseStatus.TRIAGE and case.identity_hidden
    assert any("1395881" in r["text"] for r in case.routing["phone_reasons"])
    triage = as_user("dispatcher", "/dispatch/")
    assert case.tracking_no in triage and shows_nothing_of(triage, MOBILE_PARTS)
    page = as_user("dispatcher", f"/staff/cases/{case.id}")
    assert "按来电信息" in reasons_of(page) and shows_nothing_of(page, MOBILE_PARTS)

    route_by_hand(as_user, client, case, f"{OUBEI} 瓯北街道 永嘉县", "grocery")
    for who in ("market", "oubei", "supervisor", "dispatcher"):
        for name, page in every_page(as_user, who, case).items():
            assert shows_nothing_of(page, MOBILE_PARTS), (who, name)
            if name == "case":
                assert "瓯北街道" in page  # the decision is there, only not what the number told
                assert shows_nothing_of(reasons_of(page) + history_of(page), ("139", "归属地"))


def test_hotline_tip_without_consent_keeps_the_callers_area_code_out(client, login, make_user, run_jobs, as_user):
    case = call_in(client, login, make_user, run_jobs, caller=LANDLINE)
    assert case.township_code == QIAOTOU and case.identity_hidden
    assert case.routing["phone_reasons"]
    for who in ("agriculture", "qiaotou", "supervisor"):
        page = as_user(who, f"/staff/cases/{case.id}")
        assert "身份保密" in page and shows_nothing_of(page, LANDLINE_PARTS), who
        assert shows_nothing_of(reasons_of(page) + history_of(page), ("573",)), who


def test_the_citizens_lookup_and_the_api_show_no_reasons(client, run_jobs):
    tip = {"kind": "tip", "description": FARM_SHOP, "complainant": {"name": "周敏", "phone": LANDLINE}}
    filed = client.post("/api/v1/cases", json=tip).get_json()
    run_jobs()
    assert latest().routing["phone_reasons"]
    query = {"tracking_no": filed["tracking_no"], "lookup_code": filed["lookup_code"]}
    api = client.get(f"/api/v1/cases/{filed['tracking_no']}", headers={"X-Lookup-Code": filed["lookup_code"]})
    lookup = client.post("/lookup", data=query)
    assert api.status_code == 200 and lookup.status_code == 200
    for page in (api.get_data(as_text=True), lookup.get_data(as_text=True)):
        assert shows_nothing_of(page, LANDLINE_PARTS + ("按来电信息",))


# --- an anonymous tipper ----------------------------------------------------------------------


def test_anonymous_hotline_tip_leaves_the_callers_number_out_of_routing(client, login, make_user, run_jobs, as_user):
    case = call_in(client, login, make_user, run_jobs, caller=LANDLINE, anonymous="y")
    assert case.anonymous and case.complainant_phone == ""
    assert case.routing["phone_reasons"] == []  # the number never reached the router
    for who in ("agriculture", "qiaotou", "supervisor"):
        for name, page in every_page(as_user, who, case).items():
            assert shows_nothing_of(page, LANDLINE_PARTS), (who, name)


def test_anonymous_case_with_phone_reasons_on_record_shows_them_to_nobody(make_user):
    """Even a record that holds them (an older routing) gives them to no one for an anonymous tip."""
    case = CaseFactory(tip=True, dispatched=True, anonymous=True, routing=_record())
    for user in (make_user("yj-market"), make_user("chen", role=Role.SUPERVISOR, kind=None)):
        assert routing_reasons(user, case) == ["'农资店' → 小农资店", "按来电信息辅助判断"]


def _record() -> dict:
    return {
        "confidence": 0.9,
        "reasons": ["'农资店' → 小农资店", "按来电信息辅助判断"],
        "phone_reasons": [{"at": 1, "text": "来电区号0573在浙江省嘉兴市，与'桥头'（桥头镇）不符，可能不是地名"}],
    }


# --- a tipper who allowed disclosure, and a complainant ---------------------------------------


@pytest.mark.parametrize(
    "fields", [{"disclose_identity": "y"}, {"kind": "complaint"}], ids=["consenting tip", "complaint"]
)
def test_the_lead_department_and_the_supervisor_see_what_the_landline_told(client, run_jobs, as_user, fields):
    case = file_on_the_web(client, run_jobs, **fields)
    assert case.status is CaseStatus.DISPATCHED and not case.identity_hidden
    assert case.lead_department.kind == "agriculture" and [d.kind for d in case.co_handlers] == ["market"]
    for who in ("agriculture", "supervisor"):
        page = as_user(who, f"/staff/cases/{case.id}")
        assert "来电区号0573在浙江省嘉兴市" in reasons_of(page), who
        assert "0573" not in history_of(page)  # the history is read by everyone on the case
    # the co-handling department and the township see the case, not who called nor from where
    for who in ("market", "qiaotou"):
        pages = every_page(as_user, who, case)
        assert "桥头镇" in pages["case"] and "按来电信息辅助判断" in reasons_of(pages["case"])
        for name, page in pages.items():
            assert shows_nothing_of(page, LANDLINE_PARTS), (who, name)


# --- a repeat from the same number ----------------------------------------------------------


def test_duplicate_note_does_not_tell_that_one_number_sent_both(make_user):
    from routing.duplicates import flag_duplicate

    first = CaseFactory(tip=True, dispatched=True, complainant_phone="+86" + MOBILE, description=GROCERY)
    first.business_id = business = _business()
    again = CaseFactory(tip=True, dispatched=True, complainant_phone="+86" + MOBILE, description=GROCERY + "还是那家。")
    again.business_id = business
    db.session.flush()
    assert flag_duplicate(again) == first.id and again.duplicate_of_id == first.id
    note = again.events[-1].reason
    assert re.fullmatch(rf"疑似与 {first.tracking_no} 重复（内容相似度 \d+%）", note)
    text_only = int(re.search(r"(\d+)%", note).group(1))
    assert text_only < round(again.events[-1].data["score"] * 100)  # the same number counted, unsaid


def _business() -> int:
    from intake.businesses.models import Business

    business = Business(name="双塔便民超市", name_key="双塔便民超市", county_code="330324")
    db.session.add(business)
    db.session.flush()
    return business.id


# --- reasons stored before revision 0014 ------------------------------------------------------

OLD_REASONS = [
    "'小超市' → 小食杂店",
    "来电手机号1395881归属地 → 浙江省温州市，只剩瓯北街道",
    "'双塔村'有2处：瓯北街道双塔社区、王江泾镇双塔村委会，案件中没有别的线索能确定是哪一个",
    "来电区号0573在浙江省嘉兴市，与'桥头'（桥头镇）不符，可能不是地名",
    "转人工分拨：来电区号0518在江苏省连云港市，而新丰镇在南湖区，未说明县市",
    "转人工分拨：重名村只凭手机号归属地确定，需人工确认",
    "地址栏是来电人的住址或单位，店就在它附近",
]


def _insert_as_of_then(case: Case) -> int:
    """INSERT the case with only the columns its table has at the revision the database is at (the
    model has columns added since, such as 0020's lat and long); the id."""
    there = {c["name"] for c in sa.inspect(db.engine).get_columns("case")}
    values = {}
    for column in Case.__table__.columns:
        if column.name not in there or column.name == "id":
            continue
        value = getattr(case, Case.__mapper__.get_property_by_column(column).key)
        if value is None and column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
        values[column.name] = value
    return db.session.execute(Case.__table__.insert().values(**values)).inserted_primary_key[0]


def test_migration_0014_moves_stored_phone_reasons_out_of_what_everyone_reads(tmp_path):
    from flask_migrate import downgrade, upgrade

    from intake import create_app
    from intake.cases.models import CaseEvent

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.sqlite3", "REDIS_URL": "redis://unused"})
    with app.app_context():
        upgrade(revision="0011")
        old = {"confidence": 0.7, "reasons": OLD_REASONS, "township": OUBEI, "candidates": [OUBEI, "330411101"]}
        case_id = _insert_as_of_then(CaseFactory.build(tip=True, routing=old))
        db.session.add_all(
            [
                CaseEvent(case_id=case_id, action="to_triage", actor_label="系统", reason="；".join(OLD_REASONS)),
                CaseEvent(
                    case_id=case_id,
                    action="flag_duplicate",
                    actor_label="系统",
                    reason="疑似与 2611230000001 重复（相似度 52%）",
                ),
                CaseEvent(case_id=case_id, action="return", actor_label="张", reason="来电区号写错了，不是我们的"),
            ]
        )
        db.session.commit()
        db.session.close()  # the migration writes on a connection of its own

        upgrade()
        db.session.expire_all()
        case = db.session.get(Case, case_id)
        public = case.routing["reasons"]
        assert public[0] == "'小超市' → 小食杂店" and public[-1] == OLD_REASONS[-1]  # the rest as they were
        assert shows_nothing_of("".join(public), ("1395881", "温州", "0573", "嘉兴", "0518", "连云港", "手机号", "2处"))
        assert (
            "转人工分拨：按来电信息判断，需人工确认" in public
            and "'双塔村'有多处，案件中没有别的线索能确定是哪一个" in public
        )
        assert [p["at"] for p in case.routing["phone_reasons"]] == [1, 2, 3, 4, 5]
        assert case.routing["township"] == OUBEI
        assert case.routing["candidates"] == [] and case.routing["phone_candidates"] == [OUBEI, "330411101"]
        supervisor = UserFactory(username="chen", role=Role.SUPERVISOR, department=None)
        case.disclose_identity = True
        assert routing_reasons(supervisor, case) == OLD_REASONS  # in full, in order, for who may see
        history = {e.action: e.reason for e in case.events}
        assert shows_nothing_of(history["to_triage"], ("1395881", "温州", "0573", "嘉兴", "0518", "连云港"))
        assert history["to_triage"].startswith("'小超市' → 小食杂店；按来电信息辅助判断；")
        assert history["flag_duplicate"] == "疑似与 2611230000001 重复"
        assert history["return"] == "来电区号写错了，不是我们的"  # what staff wrote is theirs

        db.session.rollback()
        db.session.close()
        downgrade(revision="0011")
        table = Case.__table__
        assert db.session.scalar(sa.select(table.c.routing).where(table.c.id == case_id)) == old
        db.session.remove()
        db.engine.dispose()


# --- the dispatcher's candidates --------------------------------------------------------------

MEIYUAN_SHOP = "梅园村口有家小卖部，卖的饼干过期半年了还摆在货架上。"  # 梅园: four townships, one in 永嘉
JIAXING_MOBILE = "13957341188"  # its region leaves the three in 嘉兴
DONGCHENG = "330324001"  # 东城街道, 永嘉县: the one the 嘉兴 mobile rules out


def candidate_codes(page: str) -> set[str]:
    return set(re.findall(r'class="secondary pick" data-code="(\d+)"', page))


@pytest.mark.parametrize("consent", [False, True], ids=["without consent", "with consent"])
def test_the_dispatchers_candidates_are_narrowed_by_the_mobile_only_with_consent(client, run_jobs, as_user, consent):
    fields = {"description": MEIYUAN_SHOP, "complainant_phone": JIAXING_MOBILE}
    case = file_on_the_web(client, run_jobs, **fields, **({"disclose_identity": "y"} if consent else {}))
    assert case.status is CaseStatus.TRIAGE
    page = as_user("dispatcher", f"/staff/cases/{case.id}")
    if consent:  # the dispatcher may see who filed it, and so what the number told
        assert DONGCHENG not in candidate_codes(page) and len(candidate_codes(page)) == 3
        assert "来电手机号1395734归属地" in reasons_of(page)
    else:  # all four, as if no number were known
        assert DONGCHENG in candidate_codes(page) and len(candidate_codes(page)) == 4
        assert shows_nothing_of(page, ("1395734", "嘉兴", "手机号")) and "有4处" in reasons_of(page)
        assert shows_nothing_of(as_user("dispatcher", "/dispatch/"), ("1395734", "嘉兴", "手机号"))


@pytest.mark.parametrize("consent", [False, True], ids=["without consent", "with consent"])
def test_the_triage_list_logs_each_look_at_what_the_number_told(client, run_jobs, as_user, consent):
    fields = {"description": MEIYUAN_SHOP, "complainant_phone": JIAXING_MOBILE}
    case = file_on_the_web(client, run_jobs, **fields, **({"disclose_identity": "y"} if consent else {}))
    assert case.tracking_no in as_user("dispatcher", "/dispatch/")
    assert case.tracking_no in as_user("dispatcher", "/dispatch/")
    looks = db.session.scalars(sa.select(PersonalDataAccess).filter_by(case_id=case.id, purpose="triage_reasons")).all()
    if consent:  # the list showed the number's region: each look is logged, with who looked
        dispatcher = db.session.scalar(sa.select(User).filter_by(username="wangfang"))
        assert len(looks) == 2 and {a.user_id for a in looks} == {dispatcher.id}
    else:  # nothing of the number was shown, so there was no look at it
        assert looks == []
