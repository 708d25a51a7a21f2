"""Staff users: one saving rule for the page and the CLI, deactivation, last login, duty messages."""

import pytest
import sqlalchemy as sa

from intake.accounts.models import Role, User
from intake.accounts.services import StaffFields, UserError, check_staff, create_user
from intake.authz import visible_cases
from intake.extensions import db
from intake.reference.models import Department
from notify.models import Message
from tests.factories import OUBEI, YONGJIA, CaseFactory


def market() -> Department:
    return db.session.scalar(sa.select(Department).filter_by(county_code=YONGJIA, kind="market"))


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin", Role.ADMIN, kind=None)
    login(user)
    return user


# --- the rule --------------------------------------------------------------------------------------


def test_a_department_user_without_a_department_is_refused_in_chinese():
    with pytest.raises(UserError) as exc:
        check_staff(StaffFields("张三", Role.DEPARTMENT, county_code=YONGJIA))
    assert exc.value.field == "department_id" and "必须选择所属部门" in str(exc.value)


def test_a_township_user_needs_a_township_and_the_county_follows_from_it():
    with pytest.raises(UserError, match="必须选择所属乡镇"):
        check_staff(StaffFields("李四", Role.TOWNSHIP))
    fields = check_staff(StaffFields("李四", Role.TOWNSHIP, township_code=OUBEI))
    assert fields.county_code == YONGJIA and fields.department_id is None


def test_the_phone_is_a_mobile_in_e164_and_the_department_sets_the_county():
    fields = check_staff(StaffFields("张三", Role.DEPARTMENT, department_id=market().id, phone="138 1234 5678"))
    assert fields.phone == "+8613812345678" and fields.county_code == YONGJIA
    with pytest.raises(UserError, match="手机号码"):
        check_staff(StaffFields("张三", Role.DEPARTMENT, department_id=market().id, phone="0577-6712345"))
    with pytest.raises(UserError, match="电子邮箱"):
        check_staff(StaffFields("张三", Role.DISPATCHER, email="not-an-address"))


def test_a_department_user_without_a_department_sees_no_case():
    CaseFactory()  # received, no lead department yet
    orphan = User(username="orphan", display_name="x", password_hash="x", role=Role.DEPARTMENT)
    assert db.session.scalars(visible_cases(orphan)).all() == []


# --- logging in ------------------------------------------------------------------------------------


def test_last_login_is_recorded(make_user, login):
    user = make_user("yj-market")
    assert user.last_login_at is None
    assert login(user).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


def test_a_deactivated_user_cannot_log_in_and_loses_their_session(make_user, login, client):
    user = make_user("yj-market")
    login(user)
    assert client.get("/staff/").status_code == 200
    db.session.expire_all()
    first = db.session.get(User, user.id).last_login_at
    user = db.session.get(User, user.id)
    user.active = False
    db.session.commit()
    assert client.get("/staff/").status_code == 302  # the session no longer counts
    resp = login(user)
    assert resp.status_code == 200 and "用户名或密码不正确" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at == first


# --- the CLI ---------------------------------------------------------------------------------------


def test_create_user_takes_phone_email_and_duty(app):
    runner = app.test_cli_runner()
    args = ["create-user", "zhangsan", "--password", "secret-123", "--name", "张三", "--role", "department"]
    out = runner.invoke(args=[*args, "--county", YONGJIA])
    assert out.exit_code != 0 and "必须选择所属部门" in out.output
    out = runner.invoke(
        args=[*args, "--county", YONGJIA, "--department-kind", "market", "--phone", "13812345678"]
        + ["--email", "zs@example.gov.cn", "--off-duty"]
    )
    assert out.exit_code == 0, out.output
    user = db.session.scalar(sa.select(User).filter_by(username="zhangsan"))
    assert (user.phone, user.email, user.on_duty, user.department_id) == (
        "+8613812345678",
        "zs@example.gov.cn",
        False,
        market().id,
    )
    out = runner.invoke(
        args=["create-user", "lisi", "--password", "secret-123", "--name", "李四"]
        + ["--role", "township", "--phone", "12"]
    )
    assert out.exit_code != 0 and "乡镇" in out.output


# --- the pages -------------------------------------------------------------------------------------


def test_only_administrators_see_the_users_page(make_user, login, client):
    login(make_user("yj-market"))
    assert client.get("/admin/users").status_code == 403


def test_administrator_creates_edits_deactivates_and_resets(admin, client):
    form = {"username": "wangwu", "password": "short", "display_name": "王五", "role": "department"}
    resp = client.post("/admin/users/new", data=form)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "必须选择所属部门" in text and "密码至少 8 位" in text
    form.update(password="long-enough", department_id=str(market().id), phone="13912345678", on_duty="y")
    assert client.post("/admin/users/new", data=form).status_code == 302
    user = db.session.scalar(sa.select(User).filter_by(username="wangwu"))
    assert user.phone == "+8613912345678" and user.on_duty and user.county_code == YONGJIA
    assert "从未登录" in client.get("/admin/users").get_data(as_text=True)

    edit = {"display_name": "王五", "role": "department", "department_id": str(market().id), "email": "ww@example.cn"}
    assert client.post(f"/admin/users/{user.id}", data=edit).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.email == "ww@example.cn" and not user.on_duty and user.phone == ""

    assert client.post(f"/admin/users/{user.id}/password", data={"password": "new-secret-1"}).status_code == 302
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert not user.active and user.check_password("new-secret-1")
    assert client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).active  # not yourself
    self_demotion = {"display_name": "admin", "role": "dispatcher"}
    resp = client.post(f"/admin/users/{admin.id}", data=self_demotion)
    assert resp.status_code == 400 and "不能取消自己的系统管理员角色" in resp.get_data(as_text=True)


# --- duty messages and the dashboard -----------------------------------------------------------------


def test_duty_messages_go_to_on_duty_active_users_and_the_dashboard_warns(make_user, login, client, run_jobs):
    from tests.intake.test_api import PHARMACY

    client.post("/api/v1/cases", json=PHARMACY)
    run_jobs()
    login(make_user("admin", Role.ADMIN, kind=None))  # after the jobs: they end the test's session
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="unreachable"' in page and "永嘉县市场监督管理局" in page

    region = "CN"
    create_user(
        "on", "secret-123", StaffFields("值班", Role.DEPARTMENT, department_id=market().id, phone="13800000001"), region
    )
    create_user(
        "off",
        "secret-123",
        StaffFields("休息", Role.DEPARTMENT, department_id=market().id, phone="13800000002", on_duty=False),
        region,
    )
    gone = create_user(
        "gone",
        "secret-123",
        StaffFields("离职", Role.DEPARTMENT, department_id=market().id, phone="13800000003"),
        region,
    )
    gone.active = False
    create_user(
        "tw", "secret-123", StaffFields("乡镇", Role.TOWNSHIP, township_code=OUBEI, email="tw@example.cn"), region
    )
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="unreachable"' not in page

    client.post("/api/v1/cases", json={**PHARMACY, "complainant": {"name": "王红", "phone": "13900001111"}})
    run_jobs()
    staff = {m.recipient for m in db.session.scalars(sa.select(Message)) if m.template == "case_dispatched"}
    assert staff == {"+8613800000001", "tw@example.cn"}
