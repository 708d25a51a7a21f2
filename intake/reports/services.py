"""Figures supervisors report (信息报送), counted in SQL and laid out for the page, CSV and XLSX.

Every figure is one line of FIGURES, read alike by the page, the CSV and the XLSX. A figure is
a count of one measure or a rate of two; measures come from the grouped queries in MEASURES.
A new figure (满意率, say) is one more query there, when its measures are new, and one more line
in FIGURES.
"""

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from intake.accounts.models import User
from intake.callbacks.models import Answer, Callback
from intake.cases.models import Case, CaseEvent, Clock
from intake.extensions import db
from intake.navigation import in_years
from intake.reference.models import Department, Division, DivisionLevel
from intake.types import utcnow
from routing.calendar import TZ

PERIOD_KINDS = ("week", "month")


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month, in Asia/Shanghai local time."""

    kind: str  # "week" or "month"
    first_day: date

    @property
    def end_day(self) -> date:
        """The day after the last."""
        if self.kind == "week":
            return self.first_day + timedelta(days=7)
        return _month_start(self.first_day, 1)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), TZ)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, time(), TZ)

    @property
    def slug(self) -> str:
        """2026-W47 or 2026-11, for file names."""
        if self.kind == "week":
            year, week, _weekday = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day:%Y-%m}"

    @property
    def param(self) -> str:
        """The `date` query parameter that names this period."""
        return self.first_day.isoformat() if self.kind == "week" else self.slug

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _weekday = self.first_day.isocalendar()
            return _(
                "%(year)d年第%(week)d周（%(first)s—%(last)s）",
                year=year,
                week=week,
                first=_day_label(self.first_day),
                last=_day_label(self.last_day),
            )
        return _("%(year)d年%(month)d月", year=self.first_day.year, month=self.first_day.month)

    def previous(self) -> "Period":
        if self.kind == "week":
            return Period("week", self.first_day - timedelta(days=7))
        return Period("month", _month_start(self.first_day, -1))

    def following(self) -> "Period":
        return Period(self.kind, self.end_day)


def _month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _day_label(day: date) -> str:
    return _("%(month)d月%(day)d日", month=day.month, day=day.day)


def parse_period(kind: str | None, value: str | None, today: date | None = None) -> Period:
    """The period a query names (period=week|month, date=2026-11-16, 2026-11 or 2026-W47).

    With no date, the period holding today (Asia/Shanghai); raises ValueError for what it cannot read.
    """
    kind = kind or "week"
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    day = _parse_day(value) if value else (today or datetime.now(TZ).date())
    if not in_years(day):
        raise ValueError(f"year out of range: {day.year}")
    if kind == "week":
        return Period("week", day - timedelta(days=day.weekday()))
    return Period("month", day.replace(day=1))


def _parse_day(value: str) -> date:
    value = value.strip()
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        return date(int(match[1]), int(match[2]), 1)
    if match := re.fullmatch(r"(\d{4})-?W(\d{1,2})", value, re.IGNORECASE):
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return date.fromisoformat(value)


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A share with the counts behind it; no share when there was nothing to count."""

    numerator: int
    denominator: int

    @property
    def share(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        return "—" if self.share is None else f"{self.share:.1%}"

    def __str__(self) -> str:
        return self.percent


@dataclass(frozen=True)
class Figure:
    """One column of the report: a count of one measure, or a rate of two."""

    key: str
    label: str
    numerator: str
    denominator: str | None = None
    numerator_label: str = ""  # the exports give a rate's two counts columns of their own
    denominator_label: str = ""
    description: str = ""

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    def value(self, counts: Counter) -> int | Rate:
        if self.denominator is None:
            return counts[self.numerator]
        return Rate(counts[self.numerator], counts[self.denominator])


FIGURES: tuple[Figure, ...] = (
    Figure("received", _l("受理量"), "received", description=_l("本期收到的案件数，按案件现在的承办部门和属地统计。")),
    Figure(
        "dispatched", _l("派单量"), "dispatched", description=_l("本期自动派单和人工派单的次数，按派往的部门统计。")
    ),
    Figure(
        "signed_on_time",
        _l("按时签收率"),
        "sign_met",
        "sign_due",
        _l("按时签收"),
        _l("应签收"),
        description=_l("本期签收（或退单）的，以及本期到期仍未签收的签收时限中，按时签收的比例。"),
    ),
    Figure(
        "closed_on_time",
        _l("按时办结率"),
        "completion_met",
        "completion_due",
        _l("按时办结"),
        _l("应办结"),
        description=_l("受理/立案决定、办结、重办时限中，本期办结的和本期到期仍未办结的，按时办结的比例。"),
    ),
    Figure(
        "returned",
        _l("退单率"),
        "returned",
        "dispatched",
        _l("退单"),
        _l("派单"),
        description=_l("本期退单次数与派单次数之比，退单计入退单人所在部门。"),
    ),
    Figure(
        "reopened",
        _l("发回重办率"),
        "reopened",
        "replied",
        _l("发回重办"),
        _l("办结答复"),
        description=_l("本期发回重办次数与办结答复次数之比。"),
    ),
    Figure(
        "satisfied",
        _l("满意率"),
        "satisfied",
        "surveyed",
        _l("满意和基本满意"),
        _l("回访有效答复"),
        description=_l("本期回访答复中，满意和基本满意所占比例；未应答的不计入。"),
    ),
)
CHARTED = ("signed_on_time", "closed_on_time")


# --- the measures: a handful of grouped queries ------------------------------------------------
# Each returns (department id, township code, measure, count) rows; a department or township
# is None where the case has none yet.

MeasureRow = tuple[int | None, str | None, str, int]

DISPATCHES = ("route", "dispatch")
EVENT_MEASURES = {
    "route": "dispatched",
    "dispatch": "dispatched",
    "return": "returned",
    "reply": "replied",
    "reopen": "reopened",
}
SIGN_CLOCKS = ("sign",)
COMPLETION_CLOCKS = ("decision", "resolve", "rework")


def _within(column, period: Period):
    return sa.and_(column >= period.start, column < period.end)


def _scoped(query: sa.Select, county_code: str | None) -> sa.Select:
    return query.where(Case.county_code == county_code) if county_code else query


def _grouped(rows: sa.Select, *sums) -> list[sa.Row]:
    """Count the rows by department, township and measure (grouped over a subquery, so the
    GROUP BY names columns, not expressions with parameters, which PostgreSQL would refuse)."""
    sub = rows.subquery()
    keys = (sub.c.department_id, sub.c.township_code, sub.c.measure)
    extra = [fn(sub) for fn in sums]
    return db.session.execute(sa.select(*keys, sa.func.count(), *extra).group_by(*keys)).all()


def received_cases(period: Period, county_code: str | None, now: datetime) -> list[MeasureRow]:
    """受理量: cases received in the period, by their lead department and township."""
    rows = sa.select(
        Case.lead_department_id.label("department_id"), Case.township_code, sa.literal("received").label("measure")
    ).where(_within(Case.received_at, period))
    return [tuple(r) for r in _grouped(_scoped(rows, county_code))]


def case_events(period: Period, county_code: str | None, now: datetime) -> list[MeasureRow]:
    """Dispatches, returns, replies and reopenings in the period.

    A dispatch counts for the department it went to (named in the event), a return for the
    department of the staff member who returned it, a reply or reopening for the lead department.
    """
    actor, target = aliased(User), aliased(Department)
    dispatched = CaseEvent.action.in_(DISPATCHES)
    department = sa.case(
        (dispatched, sa.func.coalesce(target.id, Case.lead_department_id)),
        (CaseEvent.action == "return", actor.department_id),
        else_=Case.lead_department_id,
    )
    rows = (
        sa.select(
            department.label("department_id"),
            Case.township_code,
            sa.case(EVENT_MEASURES, value=CaseEvent.action).label("measure"),
        )
        .select_from(CaseEvent)
        .join(Case, CaseEvent.case_id == Case.id)
        .outerjoin(actor, CaseEvent.actor_id == actor.id)
        .outerjoin(
            target,
            sa.and_(
                dispatched,
                target.county_code == Case.county_code,
                target.name == CaseEvent.data["lead_department"].as_string(),
            ),
        )
        .where(CaseEvent.action.in_(list(EVENT_MEASURES)), _within(CaseEvent.at, period))
    )
    return [tuple(r) for r in _grouped(_scoped(rows, county_code))]


def settled_clocks(period: Period, county_code: str | None, now: datetime) -> list[MeasureRow]:
    """Sign-for and completion clocks settled in the period, and how many of them were met.

    Settled: stopped in the period, or still running with its due time in the period and past.
    A clock counts for the department that held it when it started.
    """
    settled = sa.or_(
        _within(Clock.stopped_at, period),
        sa.and_(Clock.stopped_at.is_(None), _within(Clock.due_at, period), Clock.due_at < now),
    )
    group = sa.case((Clock.name.in_(SIGN_CLOCKS), "sign"), else_="completion")
    rows = (
        sa.select(
            Clock.department_id.label("department_id"),
            Case.township_code,
            group.label("measure"),
            Clock.met.label("met"),
        )
        .select_from(Clock)
        .join(Case, Clock.case_id == Case.id)
        .where(Clock.name.in_(SIGN_CLOCKS + COMPLETION_CLOCKS), settled)
    )
    out: list[MeasureRow] = []
    for department, township, group_name, due, on_time in _grouped(_scoped(rows, county_code), _met):
        out += [
            (department, township, f"{group_name}_due", due),
            (department, township, f"{group_name}_met", on_time or 0),
        ]
    return out


def _met(sub: sa.Subquery):
    return sa.func.sum(sa.case((sub.c.met.is_(True), 1), else_=0))


def callbacks_answered(period: Period, county_code: str | None, now: datetime) -> list[MeasureRow]:
    """回访 answered in the period (by SMS or phone), and how many were satisfied or basically so."""
    rows = (
        sa.select(
            Case.lead_department_id.label("department_id"),
            Case.township_code,
            sa.literal("surveyed").label("measure"),
            Callback.answer.in_([Answer.SATISFIED, Answer.BASIC]).label("met"),
        )
        .select_from(Callback)
        .join(Case, Callback.case_id == Case.id)
        .where(
            _within(Callback.answered_at, period), Callback.answer.is_not(None), Callback.answer != Answer.NO_RESPONSE
        )
    )
    out: list[MeasureRow] = []
    for department, township, _measure, answered, satisfied in _grouped(_scoped(rows, county_code), _met):
        out += [(department, township, "surveyed", answered), (department, township, "satisfied", satisfied or 0)]
    return out


MEASURES: tuple[Callable[[Period, str | None, datetime], Iterable[MeasureRow]], ...] = (
    received_cases,
    case_events,
    settled_clocks,
    callbacks_answered,
)


# --- the report -------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a table: a department, a township, or the total."""

    key: int | str | None
    name: str
    counts: Counter = field(default_factory=Counter)

    def value(self, figure: Figure) -> int | Rate:
        return figure.value(self.counts)


class Table(NamedTuple):
    key: str  # "departments" or "townships", the table's id on the page
    heading: str  # 按部门: the section heading and the sheet's name
    label: str  # 部门: the first column's header
    rows: list[Row]


@dataclass
class Report:
    period: Period
    scope_name: str
    departments: list[Row]
    townships: list[Row]
    total: Row

    def tables(self) -> list[Table]:
        return [
            Table("departments", _("按部门"), _("部门"), self.departments),
            Table("townships", _("按乡镇（街道）"), _("乡镇（街道）"), self.townships),
        ]

    @property
    def title(self) -> str:
        return _("%(scope)s信息报送统计：%(period)s", scope=self.scope_name, period=self.period.label)

    def chart(self) -> list[tuple[Row, list[tuple[Figure, Rate]]]]:
        """Departments with something to chart, each with its charted rates."""
        figures = [f for f in FIGURES if f.key in CHARTED]
        bars = [(row, [(f, row.value(f)) for f in figures]) for row in self.departments]
        return [(row, rates) for row, rates in bars if any(r.denominator for _f, r in rates)]


def build_report(period: Period, county_code: str | None = None, now: datetime | None = None) -> Report:
    """Every figure for the period, by department and by township, for one county or all."""
    now = now or utcnow()
    by_department: dict[int | None, Counter] = defaultdict(Counter)
    by_township: dict[str | None, Counter] = defaultdict(Counter)
    total: Counter = Counter()
    for measure in MEASURES:
        for department, township, name, n in measure(period, county_code, now):
            by_department[department][name] += n
            by_township[township][name] += n
            total[name] += n
    scope = db.session.get(Division, county_code) if county_code else None
    return Report(
        period=period,
        scope_name=scope.name if scope else _("全部县（市、区）"),
        departments=_department_rows(by_department, county_code),
        townships=_township_rows(by_township, county_code),
        total=Row(None, _("合计"), total),
    )


def _department_rows(counts: dict, county_code: str | None) -> list[Row]:
    """A county's departments all appear, idle or not; across counties, those with figures."""
    wanted = Department.id.in_([k for k in counts if k is not None])
    if county_code:
        wanted = sa.or_(wanted, Department.county_code == county_code)
    departments = db.session.execute(
        sa.select(Department.id, Department.name).where(wanted).order_by(Department.county_code, Department.id)
    ).all()
    rows = [Row(key, name, counts.get(key, Counter())) for key, name in departments]
    if None in counts:
        rows.append(Row(None, _("未确定部门"), counts[None]))
    return rows


def _township_rows(counts: dict, county_code: str | None) -> list[Row]:
    """A county's townships all appear; across counties, those with figures, named with their county."""
    county = aliased(Division)
    wanted = Division.code.in_([k for k in counts if k is not None])
    if county_code:
        wanted = sa.or_(wanted, sa.and_(Division.parent_code == county_code, Division.level == DivisionLevel.TOWNSHIP))
    townships = db.session.execute(
        sa.select(Division.code, Division.name, county.name)
        .outerjoin(county, Division.parent_code == county.code)
        .where(wanted)
        .order_by(Division.code)
    ).all()
    rows = [
        Row(code, name if county_code else f"{county_name or ''}{name}", counts.get(code, Counter()))
        for code, name, county_name in townships
    ]
    if None in counts:
        rows.append(Row(None, _("未确定属地"), counts[None]))
    return rows


# --- the downloads ----------------------------------------------------------------------------


def export_header(table: Table) -> list[str]:
    """The page's columns; a rate is followed by its two counts, so a spreadsheet can add them up."""
    header = [table.label]
    for figure in FIGURES:
        header.append(str(figure.label))
        if figure.is_rate:
            header += [str(figure.numerator_label), str(figure.denominator_label)]
    return header


def export_cells(row: Row, percent_as_text: bool) -> list:
    cells: list = [row.name]
    for figure in FIGURES:
        value = row.value(figure)
        if isinstance(value, Rate):
            share = value.percent if percent_as_text or value.share is None else value.share
            cells += [share, value.numerator, value.denominator]
        else:
            cells.append(value)
    return cells


def report_csv(report: Report) -> bytes:
    """Both tables, one after the other, in UTF-8 with a BOM so Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report.title])
    for table in report.tables():
        writer.writerow([])
        writer.writerow(export_header(table))
        for row in [*table.rows, report.total]:
            writer.writerow(export_cells(row, percent_as_text=True))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    """One sheet per table: a title row naming the period, a bold header, the rows and the total."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for table in report.tables():
        sheet = workbook.create_sheet(table.heading)
        sheet.append([report.title])
        sheet["A1"].font = Font(bold=True, size=14)
        header = export_header(table)
        sheet.append(header)
        for row in [*table.rows, report.total]:
            sheet.append(export_cells(row, percent_as_text=False))
        for cell in sheet[2] + sheet[sheet.max_row]:
            cell.font = bold
        for column in sheet.iter_cols(min_row=3):
            for cell in column:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0%"
        sheet.column_dimensions["A"].width = 30
        for index in range(2, len(header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 12
        sheet.freeze_panes = "B3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
