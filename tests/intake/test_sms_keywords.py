"""The SMS keywords on /admin/reference/sms-words: in force for the next message, audited, kept by seed."""

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role
from intake.cases.models import Case, CaseKind
from intake.extensions import db
from intake.reference import cache as reference_cache
from intake.reference.models import ReferenceChange, SmsKeyword
from routing import services as routing_services
from tests.intake.test_reference_admin import become_another_process
from tests.intake.test_sms import sms, webhook  # noqa: F401  (the fixture signs with the test secret)

PAGE = "/admin/reference/sms-words"
TEXT = "永嘉县瓯北街道好日子大药房偷偷卖过期感冒药，我要揭发。"
DANGER = "永嘉县瓯北街道罗浮大街一家店冒黑烟了，人都跑出来了。"


@pytest.fixture(autouse=True)
def _restore_keywords(app):
    """The keywords outlive the per-test cleanup: put the seeded ones back."""
    yield
    db.session.rollback()
    db.session.execute(sa.delete(ReferenceChange))
    db.session.execute(sa.delete(SmsKeyword))
    from intake.seeding import seed_all

    seed_all()
    db.session.commit()
    routing_services.invalidate_router()


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", Role.ADMIN, kind=None)
    login(user)
    return user


def add(client, word, meaning="tip"):
    return client.post(PAGE, data={"word-word": word, "word-meaning": meaning})


def keyword_id(word) -> int:
    return db.session.scalar(sa.select(SmsKeyword.id).filter_by(word=word))


def text_in(client, text, sender) -> Case:
    """An inbound SMS from its own number (so it is not taken as details for an earlier case); its case."""
    assert sms(client, text, sender=sender) == "new_case"
    return latest_case()


def latest_case() -> Case:
    db.session.expire_all()
    return db.session.scalar(sa.select(Case).order_by(Case.id.desc()))


def test_a_word_added_on_the_page_makes_the_next_sms_a_tip_and_removing_it_stops_that(admin, client):
    admin_id = admin.id
    assert text_in(client, TEXT, "13900000001").kind is CaseKind.COMPLAINT
    elsewhere = dict(routing_services._cache), reference_cache._state["version"]  # another process's, before the change

    assert add(client, " 揭发 ").status_code == 302
    assert text_in(client, TEXT, "13900000002").kind is CaseKind.TIP
    row = db.session.scalar(sa.select(ReferenceChange).filter_by(table="sms_keyword"))
    assert (row.key, row.user_id, row.before, row.after) == ("揭发", admin_id, None, {"meaning": "tip"})
    page = client.get(PAGE)
    assert page.status_code == 200 and "揭发" in page.text and page.text.count('class="change"') == 1

    # Another process's cache sees the Redis version move and reads the table again (once its
    # REFERENCE_CHECK_SECONDS since it last read the version have passed).
    become_another_process(*elsewhere)
    assert "揭发" in routing_services.sms_keywords()["tip"]

    assert client.post(f"{PAGE}/{keyword_id('揭发')}/delete").status_code == 302
    assert text_in(client, TEXT, "13900000003").kind is CaseKind.COMPLAINT
    rows = db.session.scalars(sa.select(ReferenceChange).order_by(ReferenceChange.id)).all()
    assert [(r.before, r.after) for r in rows] == [(None, {"meaning": "tip"}), ({"meaning": "tip"}, None)]


def test_an_emergency_word_added_on_the_page_makes_the_next_sms_urgent(admin, client):
    assert not text_in(client, DANGER, "13900000001").urgent
    assert add(client, "冒黑烟", "emergency").status_code == 302
    assert text_in(client, DANGER, "13900000002").urgent
    assert client.post(f"{PAGE}/{keyword_id('冒黑烟')}/delete").status_code == 302
    assert not text_in(client, DANGER, "13900000003").urgent


def test_removing_a_seeded_emergency_word_stops_it(admin, client):
    text = "永嘉县瓯北街道罗浮大街一家液化气店漏气了，味道很大。"
    assert client.post(f"{PAGE}/{keyword_id('漏气')}/delete").status_code == 302
    assert not text_in(client, text, "13900000001").urgent


def test_bad_input_gets_a_chinese_form_error_and_changes_nothing(admin, client):
    cases = [
        (add(client, ""), "请填写关键词"),
        (add(client, "   "), "请填写关键词"),
        (add(client, "很" * 17), "关键词须为 1 到 16 个字"),
        (add(client, "举报"), "“举报”已在列表中（举报）"),
        (add(client, "火灾", "tip"), "“火灾”已在列表中（紧急情况）"),
        (add(client, "揭发", "nonsense"), "没有这种用途"),
        (add(client, "揭|发"), "不能含有"),
    ]
    for response, message in cases:
        assert response.status_code == 400, message
        assert "未保存" in response.text and message in response.text, message
    assert client.post(f"{PAGE}/999999/delete").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferenceChange)) == 0


@pytest.mark.parametrize("role", [Role.DEPARTMENT, Role.DISPATCHER, Role.SUPERVISOR, Role.OPERATOR])
def test_only_administrators_may_change_the_keywords(client, make_user, login, role):
    login(make_user("someone", role))
    assert client.get(PAGE).status_code == 403
    assert add(client, "揭发").status_code == 403
    assert client.post(f"{PAGE}/{keyword_id('举报')}/delete").status_code == 403
    assert keyword_id("举报") is not None and keyword_id("揭发") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferenceChange)) == 0


def test_seed_keeps_an_administrators_removal_and_adds_only_new_words(app, admin, client):
    assert client.post(f"{PAGE}/{keyword_id('咨询')}/delete").status_code == 302
    assert client.post(f"{PAGE}/{keyword_id('火灾')}/delete").status_code == 302
    assert add(client, "着火了", "emergency").status_code == 302
    db.session.execute(sa.delete(SmsKeyword).where(SmsKeyword.word == "爆炸"))  # lost, not removed on the page
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    words = dict(db.session.execute(sa.select(SmsKeyword.word, SmsKeyword.meaning)).all())
    assert "咨询" not in words and "火灾" not in words
    assert words["着火了"] == "emergency" and words["爆炸"] == "emergency" and words["举报"] == "tip"
