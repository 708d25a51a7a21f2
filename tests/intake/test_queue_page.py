"""The clerk's queue: counts, marks, the next deadline first, filters, search, pages; odd parameters."""

from datetime import timedelta

import pytest
from flask import url_for

from intake.accounts.models import Role
from intake.cases.kinds import CaseKind
from intake.extensions import db
from intake.navigation import MAX_ID, IdConverter
from intake.staff import services
from intake.types import utcnow
from tests.factories import CaseFactory, ClockFactory

QIAOTOU = "330324102"


def _case(due_in_hours=None, **kw):
    case = CaseFactory(dispatched=True, **kw)
    if due_in_hours is not None:
        ClockFactory(
            case=case, started_at=utcnow() - timedelta(days=2), due_at=utcnow() + timedelta(hours=due_in_hours)
        )
    db.session.commit()
    return case


def _rows(client, query=""):
    page = client.get("/staff/" + query)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # in the page's order (the database returns rows in no particular order without ORDER BY)
    return text, sorted((no for no in _tracking_numbers() if no in text), key=text.index)


def _tracking_numbers():
    from intake.cases.models import Case

    return [c.tracking_no for c in db.session.query(Case).all()]


def test_red_first_with_its_mark_then_by_the_next_deadline(client, make_user, login):
    login(make_user("yj-market"))
    later = _case(48, business_name="晚店")
    none = _case(business_name="无期限店")
    red = _case(-2, business_name="超期店")
    amber = _case(3, business_name="临期店")
    amber.clocks[0].amber_at = utcnow() - timedelta(hours=1)
    red.escalated_at = utcnow()
    db.session.commit()
    text = client.get("/staff/").get_data(as_text=True)
    order = [text.index(c.tracking_no) for c in (red, amber, later, none)]
    assert order == sorted(order)
    assert 'data-marks="escalated red"' in text and 'data-marks="amber"' in text
    assert "已超期 <b>1</b>" in text and "临期 <b>1</b>" in text and "督办 <b>1</b>" in text
    page = services.queue_page(make_user("yj-market"), services.QueueFilter(overdue=True))
    assert [c.id for c in page.cases] == [red.id] and page.marks[red.id] == {"red", "escalated"}


def test_a_return_window_alone_is_no_deadline(client, make_user, login):
    case = _case()
    ClockFactory(case=case, name="return", due_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    assert services.case_marks(case) == set()


def test_filters_by_state_kind_industry_township_and_overdue(client, make_user, login):
    login(make_user("yj-market"))
    tip = _case(kind=CaseKind.TIP, industry_code="pharmacy", business_name="甲药店")
    other = _case(-1, township_code=QIAOTOU, business_name="乙饭店")
    _, rows = _rows(client, "?kind=tip")
    assert rows == [tip.tracking_no]
    _, rows = _rows(client, "?industry=pharmacy")
    assert rows == [tip.tracking_no]
    _, rows = _rows(client, f"?township={QIAOTOU}")
    assert rows == [other.tracking_no]
    _, rows = _rows(client, "?overdue=y")
    assert rows == [other.tracking_no]
    _, rows = _rows(client, "?status=signed")
    assert rows == []
    _, rows = _rows(client, "?status=dispatched")
    assert sorted(rows) == sorted([tip.tracking_no, other.tracking_no])


@pytest.mark.parametrize(
    "query, error",
    [
        ("?status=nonsense", True),
        ("?kind=x", True),
        ("?industry=%00", True),
        ("?township=999", True),
        ("?page=abc", True),
        ("?page=-1", True),
        ("?page=0", True),
        ("?page=99999999999999999999999", True),
        ("?q=" + "长" * 200, True),
        ("?status=closed", True),
        ("?unknown=1&kind=", False),
    ],
)
def test_odd_filter_values_are_a_form_error_and_ignored_never_a_500(client, make_user, login, query, error):
    login(make_user("yj-market"))
    case = _case(business_name="甲店")
    text, rows = _rows(client, query)
    assert ('id="filter-errors"' in text) is error
    assert rows == [case.tracking_no]  # the odd value is dropped, the rest of the queue shows


def test_a_page_past_the_end_is_empty_and_says_so(client, make_user, login):
    login(make_user("yj-market"))
    _case()
    text = client.get("/staff/?page=7").get_data(as_text=True)
    assert "没有这一页" in text and 'id="queue-table"' not in text


def test_pagination_instead_of_a_silent_cut(client, make_user, login, monkeypatch):
    login(make_user("yj-market"))
    cases = [_case(i) for i in range(1, 6)]
    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    monkeypatch.setattr(services.queue_page, "__defaults__", (1, 2, None))
    first, rows1 = _rows(client, "?kind=complaint")
    assert rows1 == [c.tracking_no for c in cases[:2]] and "第 1 / 3 页" in first
    assert "kind=complaint" in first and "page=2" in first  # the filters stay on the next page
    _, rows3 = _rows(client, "?kind=complaint&page=3")
    assert rows3 == [cases[4].tracking_no]


def test_search_by_tracking_number_business_and_phone(client, make_user, login):
    login(make_user("yj-market"))
    shop = _case(business_name="好日子大药房", complainant_phone="+8613812345678", complainant_name="李明")
    other = _case(business_name="别家", complainant_phone="+8613900001111", complainant_name="王红")
    assert _rows(client, "?q=好日子")[1] == [shop.tracking_no]
    assert _rows(client, f"?q={other.tracking_no}")[1] == [other.tracking_no]
    assert _rows(client, "?q=138 1234 5678")[1] == [shop.tracking_no]
    assert _rows(client, "?q=%25")[1] == []  # a wildcard is a character, not "everything"


def test_a_hidden_tippers_phone_finds_nothing(client, make_user, login):
    tip = _case(kind=CaseKind.TIP, business_name="某店", complainant_phone="+8613812345678")
    named = _case(business_name="另一店", complainant_phone="+8613812345678", complainant_name="李明")
    user = make_user("yj-market")
    login(user)
    assert _rows(client, "?q=13812345678")[1] == [named.tracking_no]
    tip.disclose_identity = True  # the tipper allowed it: now the lead department may find them
    db.session.commit()
    assert sorted(_rows(client, "?q=13812345678")[1]) == sorted([tip.tracking_no, named.tracking_no])
    client.post("/logout")
    login(make_user("oubei", role=Role.TOWNSHIP, kind=None, township="330324009"))
    assert _rows(client, "?q=13812345678")[1] == []  # a township never sees identities


def test_the_township_queue_says_which_township(client, make_user, login):
    login(make_user("oubei", role=Role.TOWNSHIP, kind=None, township="330324009"))
    text = client.get("/staff/").get_data(as_text=True)
    assert "瓯北街道" in text.split('id="queue-owner"')[1].split("</span>")[0]
    assert 'id="township"' not in text  # no township filter on a township's own queue


def test_return_lands_on_the_queue_with_a_notice(client, make_user, login):
    login(make_user("yj-market"))
    case = _case(24)
    ClockFactory(case=case, name="return", due_at=utcnow() + timedelta(days=1))
    db.session.commit()
    resp = client.post(f"/staff/cases/{case.id}/return", data={"reason": "不是本局管辖"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/")
    text = client.get("/staff/").get_data(as_text=True)
    assert "已退单" in text and case.tracking_no in text


def test_ids_too_large_for_the_database_are_404_on_every_int_route(app, client, make_user, login):
    login(make_user("admin", role=Role.ADMIN, kind=None))
    rules = [r for r in app.url_map.iter_rules() if any(isinstance(c, IdConverter) for c in r._converters.values())]
    assert len(rules) >= 15
    for rule in rules:
        with app.test_request_context():
            ok_url = url_for(rule.endpoint, **{name: MAX_ID for name in rule.arguments})
        big = ok_url.replace(str(MAX_ID), "99999999999999999999")
        method = "POST" if "POST" in rule.methods else "GET"
        assert client.open(big, method=method).status_code == 404, rule
        assert client.open(ok_url, method=method).status_code in (400, 403, 404), rule  # no such row
