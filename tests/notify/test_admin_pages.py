"""The administrator's pages for messages out: the outbound log and the template wording."""

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import PersonalDataAccess
from intake.extensions import db
from notify.models import Message, MessageStatus, MessageTemplate
from notify.services import masked_recipient, opt_out, queue_message, sms_segments
from tests.notify.conftest import CITIZEN

GOOD = "【十小投诉举报】您的投诉{tracking_no}已受理，请在{due}前留意办理单位的电话。"


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", Role.ADMIN, kind=None)
    login(user)
    return user


def edit(client, key: str, text: str):
    return client.post(f"/admin/templates/{key}", data={f"template-{key}-text": text}, follow_redirects=True)


def wording(key: str) -> str:
    db.session.expire_all()
    return db.session.get(MessageTemplate, key).text


def test_templates_are_seeded_from_the_csv_with_their_essential_flag(app):
    from notify.services import templates

    shipped = templates()
    rows = {t.key: t for t in db.session.scalars(sa.select(MessageTemplate))}
    assert set(shipped) <= set(rows)
    assert rows["case_accepted"].essential and not rows["survey"].essential
    assert rows["case_accepted"].text == shipped["case_accepted"]["text"]


def test_seeding_again_keeps_an_administrators_wording(app, admin, client):
    from intake.seeding import seed_all

    edit(client, "case_accepted", GOOD)
    assert seed_all()["message_template"] == 0
    assert wording("case_accepted") == GOOD


def test_seeding_again_brings_wording_nobody_edited_up_to_the_shipped_text(app):
    """A live system gets a release's new wording (已登记, the lookup address) where no administrator changed it."""
    from intake.extensions import db
    from intake.seeding import seed_all
    from notify.models import MessageTemplate
    from notify.services import templates

    db.session.get(MessageTemplate, "web_receipt").text = "【十小投诉举报】您的投诉已受理。"  # an older release's text
    db.session.commit()
    seed_all()
    assert wording("web_receipt") == templates()["web_receipt"]["text"]


@pytest.mark.parametrize(
    "text, error",
    [
        ("【十小投诉举报】您的投诉{tracking_no}已受理，经办人{handler}。", "不认识的占位符：{handler}"),
        ("【十小投诉举报】您的投诉{tracking_no已受理。", "花括号不成对"),
        ("【十小投诉举报】您的投诉{tracking_no.__class__}已受理。", "写法不对"),
        ("【十小投诉举报】您的投诉{}已受理。", "写法不对"),
        ("【十小投诉举报】您的投诉{tracking_no:d}已受理。", "模板无法生成短信"),
        ("   ", "请填写模板内容"),
    ],
)
def test_a_bad_template_is_refused_in_chinese_and_nothing_changes(client, admin, text, error):
    before = wording("case_accepted")
    response = edit(client, "case_accepted", text)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert wording("case_accepted") == before


def test_a_good_edit_changes_what_the_next_message_says(client, admin, case, event):
    response = edit(client, "case_accepted", GOOD)
    assert response.status_code == 200 and "已保存" in response.get_data(as_text=True)
    row = db.session.get(MessageTemplate, "case_accepted")
    assert row.text == GOOD and row.updated_by_id == admin.id
    page = client.get("/admin/templates").get_data(as_text=True)
    assert f"{admin.display_name} 于" in page

    message = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07")
    assert message.body == GOOD.format(tracking_no=case.tracking_no, due="2026-12-07")


def test_the_page_counts_characters_and_warns_of_a_second_sms(client, admin):
    page = client.get("/admin/templates").get_data(as_text=True)
    assert 'id="template-case_accepted"' in page and "1 条短信" in page
    long = GOOD + "如对办理结果不满意，可在收到答复后十五日内向上一级市场监督管理部门申请复核。"
    response = edit(client, "case_accepted", long)
    assert response.status_code == 200 and "将分 2 条短信发送" in response.get_data(as_text=True)
    assert "分 2 条发送" in client.get("/admin/templates").get_data(as_text=True)


def test_sms_segments():
    assert [sms_segments(n) for n in (0, 1, 70, 71, 134, 135)] == [0, 1, 1, 2, 2, 3]


def test_the_message_log_shows_queued_messages_to_an_administrator(client, admin, case, event, template):
    queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07")
    opt_out(CITIZEN)
    template("test_news", "【十小投诉举报】案件{tracking_no}有新进展。", essential=False)
    queue_message(case, "sms", CITIZEN, "test_news", event())
    db.session.commit()
    assert {m.status for m in db.session.scalars(sa.select(Message))} == {
        MessageStatus.QUEUED,
        MessageStatus.SUPPRESSED,
    }

    page = client.get("/admin/messages").get_data(as_text=True)
    assert f"您的投诉（受理编号{case.tracking_no}）已受理" in page and "待发送" in page
    assert "已回复TD退订" in page and CITIZEN not in page and masked_recipient(CITIZEN) in page
    queued_only = client.get("/admin/messages?status=queued").get_data(as_text=True)
    assert "已受理" in queued_only and "TD退订" not in queued_only
    assert "没有符合条件的通知" in client.get("/admin/messages?channel=mail").get_data(as_text=True)
    assert "已受理" in client.get("/admin/messages?recipient=0001111").get_data(as_text=True)
    assert "已受理" not in client.get("/admin/messages?recipient=0002222").get_data(as_text=True)


def test_a_number_is_shown_only_when_asked_for_and_the_look_is_logged(client, admin, case, event):
    message = queue_message(case, "sms", CITIZEN, "case_accepted", event(), due="2026-12-07")
    db.session.commit()
    assert CITIZEN not in client.get("/admin/messages").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PersonalDataAccess.id))) == 0

    page = client.post(f"/admin/messages/{message.id}/recipient").get_data(as_text=True)
    assert CITIZEN in page and "已记入个人信息查看记录" in page
    look = db.session.scalars(sa.select(PersonalDataAccess)).one()
    assert (look.user_id, look.case_id, look.message_id, look.purpose) == (
        admin.id,
        case.id,
        message.id,
        "message_recipient",
    )


def test_masked_numbers_keep_the_ends():
    assert masked_recipient("+8613812345678") == "+86138****5678"
    assert masked_recipient("zhang.san@example.com") == "z***@example.com"
    assert "1234" not in masked_recipient("1234")


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.DISPATCHER, Role.SUPERVISOR, Role.OPERATOR])
def test_only_administrators_see_messages_and_templates(client, make_user, login, role):
    login(make_user("someone", role))
    assert client.get("/admin/messages").status_code == 403
    assert client.get("/admin/templates").status_code == 403
    assert client.post("/admin/templates/case_accepted", data={"template-case_accepted-text": GOOD}).status_code == 403
    assert wording("case_accepted") != GOOD


def test_the_menu_links_the_pages(client, admin):
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/messages"' in page and 'href="/admin/templates"' in page
