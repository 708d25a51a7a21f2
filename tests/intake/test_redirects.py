"""No open redirect: every next= is read the way the browser will read the Location header."""

from urllib.parse import quote, unquote

import pytest

from intake.navigation import local_or

FALLBACK = "/staff/"

OFF_SITE = [
    "/\t/evil.example/",  # /%09/evil.example/: the browser drops the tab and goes to //evil.example/
    "/\n/evil.example",
    "/\r/evil.example",
    "//evil.example",
    "/\\evil.example",  # the browser reads \ as /
    "\\/evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example",
    " https://evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/ /evil.example",
    unquote("%2F%2Fevil.example"),  # what request.args holds after its one decode
    "\x00//evil.example",
    "/\u3000/evil.example",  # an ideographic space
    "/\u200b/evil.example",  # a zero-width space
    "evil.example",
    "",
    None,
]
ON_SITE = ["/staff/cases/3?x=1", "/staff/", "/admin/users/2#user-2", "/staff/?q=%E7%93%AF%E5%8C%97", "/staff/?q=瓯北"]


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
def test_a_target_off_this_site_gives_the_fallback(target):
    assert local_or(target, FALLBACK) == FALLBACK


@pytest.mark.parametrize("target", ON_SITE)
def test_a_path_on_this_site_survives(target):
    assert local_or(target, FALLBACK) == target


@pytest.mark.parametrize(
    "target", ["/%09/evil.example/", "%2F%2Fevil.example", "/%5Cevil.example", "https:evil.example"]
)
def test_login_with_an_off_site_next_lands_on_the_queue(client, make_user, target):
    user = make_user("yj-market")
    response = client.post(f"/login?next={target}", data={"username": user.username, "password": "pw-yj-market"})
    assert response.status_code == 302 and response.location == "/staff/"


def test_login_with_a_next_on_this_site_goes_there(client, make_user):
    user = make_user("yj-market")
    next_url = quote("/staff/cases/3?x=1", safe="")
    response = client.post(f"/login?next={next_url}", data={"username": user.username, "password": "pw-yj-market"})
    assert response.location == "/staff/cases/3?x=1"


def test_a_login_required_page_sends_back_to_itself_after_login(client, make_user):
    user = make_user("yj-market")
    to_login = client.get("/staff/overdue?x=1")
    assert to_login.status_code == 302 and "/login?next=" in to_login.location
    response = client.post(to_login.location, data={"username": user.username, "password": "pw-yj-market"})
    assert response.location == "/staff/overdue?x=1"
