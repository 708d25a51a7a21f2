"""Clocks take their length from the policy table and count Chinese working days."""

from datetime import date, datetime

import pytest

from intake.cases.clocks import start_clock
from intake.extensions import db
from intake.reference.models import CalendarDay
from routing.calendar import TZ
from tests.factories import CaseFactory


@pytest.mark.parametrize(
    "start, due",
    [
        (datetime(2026, 9, 30, 16, 0, tzinfo=TZ), datetime(2026, 10, 8, 23, 59, 59, 999999, tzinfo=TZ)),
        (datetime(2026, 10, 9, 9, 0, tzinfo=TZ), datetime(2026, 10, 10, 23, 59, 59, 999999, tzinfo=TZ)),
        (datetime(2026, 12, 31, 9, 0, tzinfo=TZ), datetime(2027, 1, 1, 23, 59, 59, 999999, tzinfo=TZ)),
    ],
)
def test_sign_clock_is_one_working_day_around_national_day_and_into_2027(start, due):
    clock = start_clock(CaseFactory(received_at=start), "sign", start)
    assert clock.due_at == due
    assert bool(clock.calendar_warning) == (due.year == 2027)


def test_entered_holidays_for_an_uncovered_year_are_used_without_warning():
    db.session.add(CalendarDay(day=date(2027, 1, 1), working=False, note="元旦"))
    start = datetime(2026, 12, 31, 9, 0, tzinfo=TZ)
    clock = start_clock(CaseFactory(received_at=start), "sign", start)
    assert clock.due_at == datetime(2027, 1, 4, 23, 59, 59, 999999, tzinfo=TZ)
    assert clock.calendar_warning == ""


def test_urgent_case_signs_within_two_hours():
    start = datetime(2026, 10, 1, 23, 30, tzinfo=TZ)
    clock = start_clock(CaseFactory(received_at=start, urgent=True), "sign", start)
    assert clock.due_at == datetime(2026, 10, 2, 1, 30, tzinfo=TZ)


def test_complaint_decision_is_seven_working_days_and_tip_fifteen():
    start = datetime(2026, 9, 28, 10, 0, tzinfo=TZ)
    assert start_clock(CaseFactory(received_at=start), "decision", start).due_at.date() == date(2026, 10, 13)
    tip = CaseFactory(received_at=datetime(2026, 4, 22, 10, 0, tzinfo=TZ), tip=True)
    assert start_clock(tip, "decision", tip.received_at).due_at.date() == date(2026, 5, 15)
