"""Supervisors read the week's figures by department and township, as a page, CSV and XLSX."""

import csv
import io
import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from intake.accounts.models import Role
from intake.callbacks.models import Answer
from intake.extensions import db
from intake.reports.services import build_report, parse_period
from routing.calendar import TZ
from tests.factories import CallbackFactory, CaseEventFactory, CaseFactory, ClockFactory, DepartmentFactory

W47 = "?period=week&date=2026-11-16"  # Monday 16 to Sunday 22 November 2026
MARKET, CULTURE = "永嘉县市场监督管理局", "永嘉县文化和广电旅游体育局"
OUBEI, QIAOTOU = "330324009", "330324102"  # 瓯北街道, 桥头镇
NANHU_MARKET = "南湖区市场监督管理局"


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


def clock(case, name, dept, started, due, stopped=None):
    return ClockFactory(case=case, name=name, department=dept, started_at=started, due_at=due, stopped_at=stopped)


def event(case, action, when, actor=None, to=None):
    return CaseEventFactory(
        case=case, action=action, at=when, actor=actor, data={"lead_department": to.name} if to else None
    )


@pytest.fixture
def week(make_user):
    """Week 47 in 永嘉: met, missed, returned and reopened; a case the week before; one in 南湖区."""
    market, culture = DepartmentFactory(kind="market"), DepartmentFactory(kind="culture")
    market_staff = make_user("yj-market")
    culture_staff = make_user("yj-culture", kind="culture")
    dispatcher = make_user("paidan", role=Role.DISPATCHER, kind=None)
    supervisor = make_user("duban", role=Role.SUPERVISOR, kind=None)

    # signed and decided on time, replied, reopened, rework late
    a = CaseFactory(received_at=at(16), lead_department=market, township_code=OUBEI)
    event(a, "route", at(16, 11), to=market)
    clock(a, "sign", market, at(16, 11), at(17, 23), stopped=at(16, 15))
    clock(a, "decision", market, at(16), at(25, 23), stopped=at(18))
    event(a, "reply", at(18), market_staff)
    event(a, "reopen", at(19), supervisor)
    clock(a, "rework", market, at(19), at(20, 23))  # still running, due in the week, past

    # signed late, resolved on time
    b = CaseFactory(received_at=at(17), lead_department=market, township_code=QIAOTOU)
    event(b, "route", at(17, 11), to=market)
    clock(b, "sign", market, at(17, 11), at(18, 23), stopped=at(19))
    clock(b, "resolve", market, at(17), at(21, 23), stopped=at(20))
    event(b, "reply", at(20), market_staff)

    # sent to culture, returned on time, dispatched to market
    c = CaseFactory(received_at=at(18), lead_department=market, township_code=OUBEI)
    event(c, "route", at(18, 11), to=culture)
    clock(c, "sign", culture, at(18, 11), at(19, 23), stopped=at(18, 16))
    event(c, "return", at(18, 16), culture_staff)
    event(c, "dispatch", at(19, 9), dispatcher, to=market)
    clock(c, "sign", market, at(19, 9), at(24, 23), stopped=at(24, 9))  # signed after the week

    d = CaseFactory(received_at=at(10), lead_department=market, township_code=OUBEI)  # the week before
    event(d, "route", at(10, 11), to=market)
    clock(d, "sign", market, at(10, 11), at(11, 23), stopped=at(11))

    # 回访: a dissatisfied, b satisfied, d no answer (not counted)
    CallbackFactory(case=a, ask_at=at(19, 9), answer=Answer.DISSATISFIED, answered_at=at(19))
    CallbackFactory(case=b, ask_at=at(21, 9), answer=Answer.SATISFIED, answered_at=at(21))
    CallbackFactory(case=d, ask_at=at(12, 9), answer=Answer.NO_RESPONSE, answered_at=at(18))

    nanhu = DepartmentFactory(kind="market", county_code="330402")
    # 南湖区建设街道, missed
    e = CaseFactory(received_at=at(17), lead_department=nanhu, township_code="330402007", county_code="330402")
    event(e, "route", at(17, 11), to=nanhu)
    clock(e, "sign", nanhu, at(17, 11), at(18, 23), stopped=at(20))
    db.session.commit()


class _Tables(HTMLParser):
    """Each table's rows by id, as the cell texts a reader sees."""

    def __init__(self):
        super().__init__()
        self.tables, self._table, self._cell = {}, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_rows(html: str, table: str) -> dict[str, list[str]]:
    parser = _Tables()
    parser.feed(html)
    return {cells[0]: cells[1:] for cells in parser.tables[table]}


def supervisor_login(make_user, login, county="330324"):
    login(make_user("chen", role=Role.SUPERVISOR, county=county, kind=None))


# 受理量, 派单量, 按时签收率, 按时办结率, 退单率, 发回重办率, 满意率
MARKET_ROW = ["3", "3", "50.0% 1/2", "66.7% 2/3", "0.0% 0/3", "50.0% 1/2", "50.0% 1/2"]
CULTURE_ROW = ["0", "1", "100.0% 1/1", "—", "100.0% 1/1", "—", "—"]
OUBEI_ROW = ["2", "3", "100.0% 2/2", "50.0% 1/2", "33.3% 1/3", "100.0% 1/1", "0.0% 0/1"]
QIAOTOU_ROW = ["1", "1", "0.0% 0/1", "100.0% 1/1", "0.0% 0/1", "0.0% 0/1", "100.0% 1/1"]
TOTAL_ROW = ["3", "4", "66.7% 2/3", "66.7% 2/3", "25.0% 1/4", "50.0% 1/2", "50.0% 1/2"]


def test_supervisor_sees_the_weeks_rates_by_department_and_township(week, client, make_user, login):
    supervisor_login(make_user, login)
    html = client.get("/staff/figures/" + W47).get_data(as_text=True)
    assert "2026年第47周（11月16日—11月22日）" in html
    assert 'href="/staff/figures/">统计</a>' in html  # the nav link

    departments = page_rows(html, "departments")
    assert departments[MARKET] == MARKET_ROW
    assert departments[CULTURE] == CULTURE_ROW
    assert departments["永嘉县农业农村局"] == ["0", "0", "—", "—", "—", "—", "—"]  # idle, still listed
    assert departments["合计"] == TOTAL_ROW

    townships = page_rows(html, "townships")
    assert townships["瓯北街道"] == OUBEI_ROW
    assert townships["桥头镇"] == QIAOTOU_ROW
    assert townships["合计"] == TOTAL_ROW


def test_chart_draws_both_rates_per_department_as_inline_svg(week, client, make_user, login):
    supervisor_login(make_user, login)
    html = client.get("/staff/figures/" + W47).get_data(as_text=True)
    chart = re.search(r'<svg id="chart".*?</svg>', html, re.S)[0]
    assert "<title" in chart and 'role="img"' in chart
    assert MARKET in chart and "按时签收率 50.0%" in chart and "按时办结率 66.7%" in chart
    assert "永嘉县农业农村局" not in chart  # nothing to chart
    assert "<script" not in html


def test_period_links_and_the_month_view(week, client, make_user, login):
    supervisor_login(make_user, login)
    html = client.get("/staff/figures/" + W47).get_data(as_text=True)
    assert "date=2026-11-09" in html and "date=2026-11-23" in html

    html = client.get("/staff/figures/?period=month&date=2026-11").get_data(as_text=True)
    assert "2026年11月" in html and "date=2026-10" in html and "date=2026-12" in html
    assert page_rows(html, "departments")[MARKET][:3] == ["4", "4", "75.0% 3/4"]  # with weeks 46 and 48
    assert client.get("/staff/figures/?period=week&date=2026-13-45").status_code == 400


def test_periods_are_read_from_a_day_a_week_or_a_month():
    period = parse_period("week", "2026-11-16")
    assert period.slug == "2026-W47"
    assert parse_period("week", "2026-W47") == period == parse_period("week", "2026-11-22")
    assert parse_period("month", "2026-11-30").slug == "2026-11"


def test_a_running_clock_counts_only_once_its_time_is_up(week):
    market = DepartmentFactory(kind="market")
    before_due = build_report(parse_period("week", "2026-11-16"), "330324", now=at(20, 12))
    row = next(r for r in before_due.departments if r.key == market.id)
    assert (row.counts["completion_met"], row.counts["completion_due"]) == (2, 2)


def test_csv_has_the_pages_numbers(week, client, make_user, login):
    supervisor_login(make_user, login)
    resp = client.get("/staff/figures/figures.csv" + W47)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "filename*=UTF-8''%E7%BB%9F%E8%AE%A1_2026-W47.csv" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert "2026年第47周" in rows[0][0]
    header = rows[2]
    assert header[:5] == ["部门", "受理量", "派单量", "按时签收率", "按时签收"]
    market = dict(zip(header, next(r for r in rows if r and r[0] == MARKET)))
    assert (market["受理量"], market["按时签收率"], market["按时办结率"], market["按时办结"], market["应办结"]) == (
        "3",
        "50.0%",
        "66.7%",
        "2",
        "3",
    )
    oubei = next(r for r in rows if r and r[0] == "瓯北街道")
    assert oubei[:4] == ["瓯北街道", "2", "3", "100.0%"]
    assert [r for r in rows if r and r[0] == "合计"][1][1:3] == ["3", "4"]


def test_xlsx_opens_with_a_sheet_per_table_and_the_same_numbers(week, client, make_user, login):
    supervisor_login(make_user, login)
    resp = client.get("/staff/figures/figures.xlsx" + W47)
    assert resp.status_code == 200
    assert "%E7%BB%9F%E8%AE%A1_2026-W47.xlsx" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["按部门", "按乡镇（街道）"]
    sheet = book["按部门"]
    assert "2026年第47周" in sheet["A1"].value
    assert sheet["A2"].value == "部门" and sheet["A2"].font.bold
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    market = rows[MARKET]
    assert market[1:3] == (3, 3)
    assert market[3:6] == (0.5, 1, 2)  # 按时签收率, 按时签收, 应签收
    assert rows[CULTURE][6] == "—"  # no completion clock due
    township = {r[0]: r for r in book["按乡镇（街道）"].iter_rows(min_row=3, values_only=True)}
    assert township["瓯北街道"][1:4] == (2, 3, 1.0)
    assert township["合计"][1:3] == (3, 4)


def test_only_supervisors_and_admins_see_figures(week, client, make_user, login):
    login(make_user("yj-market"))
    for path in ("/staff/figures/", "/staff/figures/figures.csv", "/staff/figures/figures.xlsx"):
        assert client.get(path + W47).status_code == 403
    assert "/staff/figures" not in client.get("/staff/").get_data(as_text=True)  # no nav link


def test_figures_need_login(client):
    resp = client.get("/staff/figures/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_county_supervisor_sees_only_their_county(week, client, make_user, login):
    supervisor_login(make_user, login)
    html = client.get("/staff/figures/" + W47).get_data(as_text=True)
    assert NANHU_MARKET not in html and "建设街道" not in html
    csv_text = client.get("/staff/figures/figures.csv" + W47).data.decode("utf-8-sig")
    assert NANHU_MARKET not in csv_text

    client.post("/logout")
    login(make_user("root", role=Role.ADMIN, county=None, kind=None))
    html = client.get("/staff/figures/" + W47).get_data(as_text=True)
    assert page_rows(html, "departments")[NANHU_MARKET] == ["1", "1", "0.0% 0/1", "—", "0.0% 0/1", "—", "—"]
    assert page_rows(html, "townships")["南湖区建设街道"][0] == "1"
    assert page_rows(html, "departments")["合计"][:3] == ["4", "5", "50.0% 2/4"]
