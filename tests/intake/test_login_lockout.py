"""Too many wrong passwords lock a username for a while, even against the right password; a name
nobody has reads exactly the same; the user is told; a right password or an administrator resets it."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake.accounts import services as account_services
from intake.accounts.models import LoginLockout, Role
from intake.extensions import db
from intake.types import utcnow
from notify.models import Message

LOCKED = "登录失败次数过多，账号已暂时锁定"
WRONG = "用户名或密码不正确"


@pytest.fixture
def clock(monkeypatch):
    """The services' clock, moved forward by tests."""
    now = {"t": utcnow()}
    monkeypatch.setattr(account_services, "utcnow", lambda: now["t"])

    def advance(**delta):
        now["t"] += timedelta(**delta)

    return advance


@pytest.fixture
def settings(app, monkeypatch):
    for name, value in {"LOGIN_MAX_FAILURES": 5, "LOGIN_FAILURE_WINDOW": 15, "LOGIN_LOCK_MINUTES": 15}.items():
        monkeypatch.setitem(app.config, name, value)


def attempt(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def page(resp) -> str:
    return resp.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, make_user, clock, settings):
    user = make_user("wang")
    for _ in range(4):
        assert WRONG in page(attempt(client, "wang", "guess"))
    fifth = attempt(client, "wang", "guess")
    assert LOCKED in page(fifth) and "15 分钟后再试" in page(fifth)
    right = attempt(client, "wang", "pw-wang")
    assert right.status_code == 200 and LOCKED in page(right)
    assert client.get("/staff/").status_code in (302, 401)  # not logged in

    clock(minutes=16)
    assert attempt(client, "wang", "pw-wang").status_code == 302
    assert db.session.get(LoginLockout, user.username) is None  # the success reset the count


def test_the_lock_message_counts_down(client, make_user, clock, settings):
    make_user("wang")
    for _ in range(5):
        attempt(client, "wang", "guess")
    clock(minutes=11)
    assert "4 分钟后再试" in page(attempt(client, "wang", "pw-wang"))


def test_an_unknown_username_gets_the_same_answers(client, make_user, clock, settings):
    make_user("wang")
    known = [page(attempt(client, "wang", "guess")) for _ in range(6)]
    unknown = [page(attempt(client, "nobody", "guess")) for _ in range(6)]
    strip = lambda text: text.replace("wang", "").replace("nobody", "")  # noqa: E731  (the typed name)
    assert [strip(t) for t in known] == [strip(t) for t in unknown]
    assert LOCKED in unknown[-1]


def test_wrong_passwords_spread_beyond_the_window_do_not_lock(client, make_user, clock, settings):
    make_user("wang")
    for _ in range(4):
        attempt(client, "wang", "guess")
    clock(minutes=16)
    for _ in range(4):
        assert WRONG in page(attempt(client, "wang", "guess"))
    assert attempt(client, "wang", "pw-wang").status_code == 302


def test_a_right_password_resets_the_count(client, make_user, clock, settings):
    make_user("wang")
    for _ in range(4):
        attempt(client, "wang", "guess")
    assert attempt(client, "wang", "pw-wang").status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert WRONG in page(attempt(client, "wang", "guess"))


def test_the_user_is_told_by_sms_and_mail_and_the_lock_is_logged(client, make_user, settings, caplog):
    user = make_user("wang")
    user.phone, user.email = "+8613912345678", "wang@example.gov.cn"
    db.session.commit()
    for _ in range(5):
        attempt(client, "wang", "guess")
    messages = db.session.scalars(sa.select(Message).filter_by(template="login_locked")).all()
    assert sorted((m.channel, m.recipient) for m in messages) == [
        ("mail", "wang@example.gov.cn"),
        ("sms", "+8613912345678"),
    ]
    assert "已锁定15分钟" in messages[0].body and "联系系统管理员" in messages[0].body
    assert "locked until" in caplog.text and "'wang'" in caplog.text


def test_an_administrator_resetting_the_password_unlocks(client, make_user, login, settings):
    user = make_user("wang")
    for _ in range(5):
        attempt(client, "wang", "guess")
    login(make_user("admin", Role.ADMIN, kind=None))
    assert "登录已锁定" in page(client.get("/admin/users"))
    assert "设置新密码即解除锁定" in page(client.get(f"/admin/users/{user.id}"))
    resp = client.post(f"/admin/users/{user.id}/password", data={"password": "new-secret-1"}, follow_redirects=True)
    assert "解除登录锁定" in page(resp)
    client.post("/logout")
    assert attempt(client, "wang", "new-secret-1").status_code == 302


def test_the_lock_holds_without_redis(client, make_user, settings, app, monkeypatch):
    from redis import Redis

    make_user("wang")
    monkeypatch.setitem(app.extensions, "redis", Redis.from_url("redis://127.0.0.1:1/5", socket_connect_timeout=0.2))
    for _ in range(5):
        attempt(client, "wang", "guess")
    assert LOCKED in page(attempt(client, "wang", "pw-wang"))


def test_rows_of_names_whose_window_and_lock_are_over_are_forgotten(client, make_user, clock, settings):
    make_user("wang")
    for name in ("ghost-1", "ghost-2"):  # names nobody has, as a password sprayer tries them
        assert WRONG in page(attempt(client, name, "guess"))
    for _ in range(5):
        attempt(client, "wang", "guess")
    clock(minutes=10)
    assert WRONG in page(attempt(client, "recent", "guess"))
    assert {r.username for r in db.session.scalars(sa.select(LoginLockout))} == {"ghost-1", "ghost-2", "wang", "recent"}

    clock(minutes=6)  # the first rows' window and wang's lock are over; "recent" still counts
    assert WRONG in page(attempt(client, "newcomer", "guess"))
    db.session.expire_all()
    assert {r.username for r in db.session.scalars(sa.select(LoginLockout))} == {"recent", "newcomer"}
    for _ in range(4):  # what is kept still counts: "recent" locks at its fifth wrong password
        last = attempt(client, "recent", "guess")
    assert LOCKED in page(last)
