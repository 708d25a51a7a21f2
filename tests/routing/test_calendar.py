"""Tests for routing.calendar (facts checked against chinesecalendar 1.11.0)."""

from datetime import date, datetime, timedelta, timezone

import pytest

from routing.calendar import TZ, Overrides, WorkCalendar


def local(*args):
    return datetime(*args, tzinfo=TZ)


def eod(y, m, d):
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=TZ)


@pytest.fixture
def cal():
    return WorkCalendar()


def test_2026_national_day_facts(cal):
    # 10-01..10-07 off; 09-20 (Sun) and 10-10 (Sat) are make-up working days.
    assert not any(cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 9, 20))
    assert cal.is_working_day(date(2026, 10, 10))
    assert not cal.is_working_day(date(2026, 10, 11))
    assert cal.missing_years == set()


def test_seven_working_days_across_national_day(cal):
    # 9/29, 9/30, 10/8, 10/9, 10/10 (make-up Sat), 10/12, 10/13
    result = cal.add_working_days(local(2026, 9, 28, 10), 7)
    assert result == eod(2026, 10, 13)
    assert result.tzinfo is TZ
    assert result.utcoffset() == timedelta(hours=8)
    assert result.isoformat() == "2026-10-13T23:59:59.999999+08:00"


def test_start_is_converted_to_shanghai_local_date(cal):
    # 2026-09-27 17:00 UTC is 2026-09-28 01:00 in Shanghai.
    assert cal.add_working_days(datetime(2026, 9, 27, 17, tzinfo=timezone.utc), 7) == eod(2026, 10, 13)
    # Naive means UTC: 2026-09-27 15:59 UTC is still 9-27 23:59 local, a Mid-autumn holiday.
    assert cal.add_working_days(datetime(2026, 9, 27, 15, 59), 1) == eod(2026, 9, 28)


def test_start_on_holiday(cal):
    assert cal.add_working_days(local(2026, 10, 3, 9), 1) == eod(2026, 10, 8)
    assert cal.add_working_days(local(2026, 10, 3, 9), 0) == eod(2026, 10, 8)


def test_start_on_make_up_saturday(cal):
    assert cal.add_working_days(local(2026, 10, 10, 9), 0) == eod(2026, 10, 10)
    assert cal.add_working_days(local(2026, 10, 10, 9), 1) == eod(2026, 10, 12)


def test_friday_plus_one_is_monday(cal):
    assert cal.add_working_days(local(2026, 10, 16, 17, 30), 1) == eod(2026, 10, 19)


def test_n_zero_on_working_day_is_same_day(cal):
    assert cal.add_working_days(local(2026, 10, 9, 8), 0) == eod(2026, 10, 9)


def test_tip_15_plus_15_working_days(cal):
    # Receipt Wed 2026-04-22; Labour Day 5/1-5/5 off, Sat 5/9 is a make-up day.
    received = local(2026, 4, 22, 15)
    first = cal.due(received, 15, "working_days")
    assert first == eod(2026, 5, 15)
    extended = cal.add_working_days(first, 15)
    assert extended == eod(2026, 6, 5)
    assert cal.add_working_days(received, 30) == extended


def test_60_calendar_days_on_holiday_moves_to_next_working_day(cal):
    # 2026-08-02 + 60 days = 2026-10-01 (National Day) -> 2026-10-08
    assert cal.add_calendar_days(local(2026, 8, 2, 11), 60) == eod(2026, 10, 8)


def test_60_calendar_days_on_weekend_and_make_up_day(cal):
    # 2026-08-19 + 60 = Sun 2026-10-18 -> Mon 10-19; 2026-08-11 + 60 = make-up Sat 10-10 stays.
    assert cal.due(local(2026, 8, 19, 11), 60, "calendar_days") == eod(2026, 10, 19)
    assert cal.add_calendar_days(local(2026, 8, 11, 11), 60) == eod(2026, 10, 10)


def test_two_hours_across_midnight(cal):
    result = cal.due(local(2026, 10, 1, 23, 30), 2, "hours")
    assert result == local(2026, 10, 2, 1, 30)
    assert result.tzinfo is TZ
    # Same instant given in UTC, and naive (= UTC).
    assert cal.add_hours(datetime(2026, 10, 1, 15, 30, tzinfo=timezone.utc), 2) == result
    assert cal.add_hours(datetime(2026, 10, 1, 15, 30), 2) == result


def test_into_2027_falls_back_to_weekends_and_warns(cal):
    # 12/29, 12/30, 12/31, Fri 1/1 (no schedule), 1/4-1/8, 1/11
    assert cal.add_working_days(local(2026, 12, 28, 10), 10) == eod(2027, 1, 11)
    assert cal.missing_years == {2027}


def test_into_2027_with_admin_overrides():
    cal = WorkCalendar(Overrides(holidays=frozenset({date(2027, 1, 1)})))
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add_working_days(local(2026, 12, 28, 10), 10) == eod(2027, 1, 12)
    assert cal.missing_years == set()


def test_override_workday_in_uncovered_year_counts():
    cal = WorkCalendar(Overrides(holidays={date(2027, 2, 8)}, workdays={date(2027, 2, 6)}))
    assert cal.is_working_day(date(2027, 2, 6))  # a Saturday
    assert not cal.is_working_day(date(2027, 2, 8))  # a Monday
    assert not cal.is_working_day(date(2027, 2, 7))  # a plain Sunday
    assert cal.missing_years == set()


def test_overrides_win_in_covered_year():
    cal = WorkCalendar(Overrides(holidays={date(2026, 10, 12)}, workdays={date(2026, 10, 11)}))
    assert cal.is_working_day(date(2026, 10, 11))
    assert not cal.is_working_day(date(2026, 10, 12))
    assert not cal.is_working_day(date(2026, 10, 5))  # still from chinesecalendar


def test_2030_weekends_only(cal):
    assert date(2030, 5, 1).weekday() == 2  # Wednesday; no Labour Day without a schedule
    assert cal.is_working_day(date(2030, 5, 1))
    assert cal.add_working_days(local(2030, 5, 1, 9), 3) == eod(2030, 5, 6)
    # 2030-06-30 is a Sunday
    assert cal.add_calendar_days(local(2030, 5, 1, 9), 60) == eod(2030, 7, 1)
    assert cal.missing_years == {2030}


@pytest.mark.parametrize("year", [2027, 2030, 2099, 2003])
def test_never_raises_for_uncovered_years(cal, year):
    start = local(year, 12, 30, 12)
    for unit in ("working_days", "calendar_days", "hours"):
        assert cal.due(start, 20, unit) > start
    assert year in cal.missing_years


def test_unknown_unit_raises(cal):
    with pytest.raises(ValueError):
        cal.due(local(2026, 10, 9), 1, "weeks")


def test_negative_amount_raises(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(local(2026, 10, 9), -1)


def test_working_days_between(cal):
    start = local(2026, 9, 28, 10)
    deadline = cal.add_working_days(start, 7)
    assert cal.working_days_between(start, deadline) == 7
    assert cal.working_days_between(local(2026, 10, 1), local(2026, 10, 7, 20)) == 0
    assert cal.working_days_between(local(2026, 10, 9), local(2026, 10, 10)) == 1
    assert cal.working_days_between(deadline, start) == 0
