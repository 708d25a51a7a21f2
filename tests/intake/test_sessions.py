"""Staff sessions end: at logout (a copied cookie is refused), after idle time, at a password change."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g, request_started

from intake.accounts.models import Role, StaffSession
from intake.extensions import db


def login_with(client, user, password=None):
    return client.post("/login", data={"username": user.username, "password": password or "pw-" + user.username})


def refused(client) -> bool:
    """The queue sends this browser to the login page."""
    response = client.get("/staff/")
    return response.status_code == 302 and response.location.startswith("/login")


@pytest.fixture(autouse=True)
def each_request_loads_its_user(app):
    """Each request finds its user afresh, as in production: the suite's requests share one app
    context (tests/conftest.py), whose `g` would otherwise keep the user of the request before."""

    def forget(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def clerk(make_user):
    return make_user("yj-market")


def test_a_cookie_copied_before_logout_is_refused_after_it(client, clerk):
    login_with(client, clerk)
    assert client.get("/staff/").status_code == 200
    copied = client.get_cookie("session").value
    client.post("/logout")
    assert refused(client)

    client.set_cookie("session", copied)  # the replay: the very cookie that worked before logout
    assert refused(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0


def backdate(last_seen):
    with db.engine.begin() as conn:
        conn.execute(sa.update(StaffSession).values(last_seen_at=last_seen))
    db.session.expire_all()  # the suite's requests share this session (tests/conftest.py)


def test_an_idle_session_expires_and_a_busy_one_is_kept_alive(app, client, clerk):
    login_with(client, clerk)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    seen = db.session.scalar(sa.select(StaffSession.last_seen_at))
    backdate(seen - timedelta(minutes=2))  # as if the last request was 2 minutes ago
    assert client.get("/staff/").status_code == 200
    assert db.session.scalar(sa.select(StaffSession.last_seen_at)) >= seen  # the request was seen

    backdate(seen - idle - timedelta(minutes=1))  # idle for longer than SESSION_IDLE_MINUTES
    assert refused(client)
    login_with(client, clerk)  # logging in again works, and clears the stale row
    assert client.get("/staff/").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 1


def test_a_session_ends_session_max_hours_after_its_login_however_busy(app, client, clerk, make_user):
    login_with(client, clerk)
    signed_in = db.session.scalar(sa.select(StaffSession.created_at))
    lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    with db.engine.begin() as conn:  # signed in nearly SESSION_MAX_HOURS ago, busy all along
        conn.execute(sa.update(StaffSession).values(created_at=signed_in - lifetime + timedelta(minutes=5)))
    db.session.expire_all()
    assert client.get("/staff/").status_code == 200

    with db.engine.begin() as conn:  # and now past it, with a request a minute ago
        conn.execute(sa.update(StaffSession).values(created_at=signed_in - lifetime - timedelta(minutes=1)))
    db.session.expire_all()
    assert refused(client)

    other = app.test_client()
    login_with(other, make_user("yj-health"))  # the next login, anyone's, tidies the dead row away
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 1
    assert refused(client)


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app, clerk):
    here, elsewhere = app.test_client(), app.test_client()
    login_with(here, clerk)
    login_with(elsewhere, clerk)
    form = {"current_password": "pw-yj-market", "new_password": "a-new-secret-1", "confirm": "a-new-secret-1"}
    response = here.post("/account/password", data=form, follow_redirects=True)
    assert "密码已修改" in response.get_data(as_text=True)
    assert here.get("/staff/").status_code == 200
    assert refused(elsewhere)
    assert login_with(elsewhere, clerk).status_code == 200  # the old password: the form again, with an error
    assert login_with(elsewhere, clerk, "a-new-secret-1").status_code == 302


def test_a_wrong_current_password_changes_nothing(client, clerk):
    login_with(client, clerk)
    form = {"current_password": "guess", "new_password": "a-new-secret-1", "confirm": "a-new-secret-1"}
    response = client.post("/account/password", data=form)
    assert response.status_code == 400 and "当前密码不正确" in response.get_data(as_text=True)
    db.session.expire_all()
    assert clerk.check_password("pw-yj-market")


def test_an_administrators_reset_and_a_deactivation_end_the_users_sessions(app, make_user, clerk):
    admin_browser, clerk_browser = app.test_client(), app.test_client()
    admin = make_user("admin", role=Role.ADMIN, county=None, kind=None)
    login_with(admin_browser, admin)
    login_with(clerk_browser, clerk)
    admin_browser.post(f"/admin/users/{clerk.id}/password", data={"password": "reset-by-admin"})
    assert refused(clerk_browser)

    login_with(clerk_browser, clerk, "reset-by-admin")
    assert clerk_browser.get("/staff/").status_code == 200
    admin_browser.post(f"/admin/users/{clerk.id}/active", data={"active": "0"})
    assert refused(clerk_browser)
    assert admin_browser.get("/admin/users").status_code == 200  # the administrator's own session stays


def test_login_starts_a_new_session(client, clerk):
    with client.session_transaction() as planted:
        planted["planted"] = "set before login"
        planted["staff_session"] = "a token an attacker chose"
    login_with(client, clerk)
    with client.session_transaction() as session:
        assert "planted" not in session and session["staff_session"] != "a token an attacker chose"
    assert client.get("/staff/").status_code == 200


def test_a_session_cookie_used_by_another_browser_is_dropped(app, client, clerk):
    login_with(client, clerk, None)
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/staff/", headers={"User-Agent": "Another browser/1.0"})
    assert response.status_code == 302 and response.location.startswith("/login")


def test_logging_in_again_on_the_same_browser_ends_the_earlier_session(client, make_user, clerk):
    login_with(client, clerk)
    earlier = client.get_cookie("session").value
    supervisor = make_user("zhou", role=Role.SUPERVISOR, county=None, kind=None)
    login_with(client, supervisor)
    assert db.session.scalars(sa.select(StaffSession.user_id)).all() == [supervisor.id]
    client.set_cookie("session", earlier)
    assert refused(client)
