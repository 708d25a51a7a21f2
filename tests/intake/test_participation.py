"""协办: the township records site-visit findings, co-handling departments add an opinion; the lead
department reads both on the case page; nobody else may post, and a closed case takes no more."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import CaseStatus
from intake.extensions import db
from intake.reference.models import Department
from intake.staff import services
from intake.staff.services import ActionError
from tests.factories import OUBEI, YONGJIA, CaseFactory


def department(kind: str) -> Department:
    return db.session.scalar(sa.select(Department).filter_by(county_code=YONGJIA, kind=kind))


@pytest.fixture
def case():
    case = CaseFactory(dispatched=True, lead_department=department("market"))
    case.co_handlers = [department("health")]
    db.session.commit()
    return case


@pytest.fixture
def people(make_user):
    return {
        "oubei": make_user("oubei", role=Role.TOWNSHIP, kind=None, township=OUBEI),
        "other_township": make_user("sanjiang", role=Role.TOWNSHIP, kind=None, township="330324001"),
        "lead": make_user("yj-market"),
        "co": make_user("yj-health", kind="health"),
        "uninvolved": make_user("yj-culture", kind="culture"),
        "dispatcher": make_user("wangfang", role=Role.DISPATCHER, kind=None),
    }


def today():
    return services.local_today()


def test_only_the_case_township_records_a_site_visit_and_only_co_handlers_add_an_opinion(case, people):
    may_visit = {name for name, u in people.items() if services.may_record_site_visit(u, case)}
    may_opine = {name for name, u in people.items() if services.may_add_co_handler_opinion(u, case)}
    assert may_visit == {"oubei"}
    assert may_opine == {"co"}
    with pytest.raises(ActionError, match="乡镇"):
        services.record_site_visit(case, people["lead"], today(), "已到现场")
    with pytest.raises(ActionError, match="配合部门"):
        services.add_co_handler_opinion(case, people["lead"], "同意")
    with pytest.raises(ActionError, match="配合部门"):
        services.add_co_handler_opinion(case, people["uninvolved"], "同意")


def test_a_site_visit_is_an_internal_event_with_its_date(case, people):
    event = services.record_site_visit(case, people["oubei"], today(), "  店内确有过期药品两盒，已责令下架。 ")
    assert event.action == "site_visit" and event.public is False
    assert event.reason == "店内确有过期药品两盒，已责令下架。"
    assert event.data == {"visited_on": today().isoformat()} and event.actor_label == "oubei"
    opinion = services.add_co_handler_opinion(case, people["co"], "建议一并核查药品进货台账。")
    assert opinion.action == "co_opinion" and opinion.public is False
    assert [e.action for e in services.participation_notes(case)] == ["site_visit", "co_opinion"]


def test_notes_are_in_the_order_of_the_days_they_concern(case, people):
    case.received_at -= timedelta(days=5)
    late = services.record_site_visit(case, people["oubei"], today(), "复查：已整改。")
    early = services.record_site_visit(case, people["oubei"], today() - timedelta(days=3), "初查：有过期药。")
    assert services.participation_notes(case) == [early, late]


@pytest.mark.parametrize(
    "days, findings, message",
    [
        (1, "已到现场", "不能晚于今天"),
        (-30, "已到现场", "不能早于案件受理日期"),
        (0, "   ", "请写明核查情况"),
        (0, "查" * 2001, "不能超过2000个字"),
    ],
)
def test_a_site_visit_is_validated(case, people, days, findings, message):
    with pytest.raises(ActionError, match=message):
        services.record_site_visit(case, people["oubei"], today() + timedelta(days=days), findings)
    assert not services.participation_notes(case)


def test_a_closed_case_takes_no_new_entries(case, people):
    case.status = CaseStatus.CLOSED
    with pytest.raises(ActionError, match="已结案"):
        services.record_site_visit(case, people["oubei"], today(), "已到现场")
    with pytest.raises(ActionError, match="已结案"):
        services.add_co_handler_opinion(case, people["co"], "同意")


def test_the_township_posts_the_form_and_the_lead_department_reads_it(client, login, case, people):
    login(people["oubei"])
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'id="site-visit-form"' in page and 'id="co-opinion-form"' not in page
    future = (today() + timedelta(days=1)).isoformat()
    page = client.post(
        f"/staff/cases/{case.id}/site-visit", data={"visited_on": future, "findings": "已到现场"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "核查日期不能晚于今天。" in page
    page = client.post(
        f"/staff/cases/{case.id}/site-visit", data={"visited_on": "明天", "findings": "已到现场"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "日期格式不正确" in page
    page = client.post(
        f"/staff/cases/{case.id}/site-visit",
        data={"visited_on": today().isoformat(), "findings": "店内确有过期感冒药，已责令下架。"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已登记现场核查情况" in page
    assert client.post(f"/staff/cases/{case.id}/co-opinion", data={"opinion": "同意"}).status_code == 403

    login(people["co"])
    assert client.post(f"/staff/cases/{case.id}/site-visit", data={"findings": "x"}).status_code == 403
    client.post(f"/staff/cases/{case.id}/co-opinion", data={"opinion": "建议核查进货台账。"})

    login(people["lead"])
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert 'id="site-visit-form"' not in page and 'id="co-opinion-form"' not in page
    notes = page[page.index('id="participation"') :]
    assert notes.index("店内确有过期感冒药") < notes.index("建议核查进货台账。")
    assert "oubei" in notes and "yj-health" in notes
    assert client.post(f"/staff/cases/{case.id}/site-visit", data={"findings": "x"}).status_code == 403


def test_the_citizen_does_not_see_the_notes(client, case, people):
    from intake.cases.lookup import public_view

    services.record_site_visit(case, people["oubei"], today(), "店内确有过期感冒药。")
    assert "过期感冒药" not in str(public_view(case))


def test_a_user_who_cannot_see_the_case_gets_404(client, login, case, people):
    login(people["other_township"])
    assert client.post(f"/staff/cases/{case.id}/site-visit", data={"findings": "x"}).status_code == 404


def test_the_lead_department_is_told_and_the_township_not_of_its_own_finding(case, people):
    from notify.models import Message

    people["lead"].phone, people["oubei"].phone = "+8613800000001", "+8613800000002"
    services.record_site_visit(case, people["oubei"], today(), "已到现场核查。")
    services.add_co_handler_opinion(case, people["co"], "同意。")
    messages = db.session.scalars(sa.select(Message).where(Message.template == "co_handling_note")).all()
    assert [m.recipient for m in messages] == ["+8613800000001", "+8613800000001"]
    assert "瓯北街道的协办意见" in messages[0].body and "卫生" in messages[1].body
