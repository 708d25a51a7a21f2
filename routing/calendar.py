"""Deadline arithmetic on the Chinese working-day calendar (Asia/Shanghai)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")
UNITS = ("working_days", "calendar_days", "hours")


@dataclass(frozen=True)
class Overrides:
    """Administrator-entered days for years chinesecalendar does not cover."""

    holidays: frozenset[date] = frozenset()  # extra days off
    workdays: frozenset[date] = frozenset()  # make-up working days (调休)
    years: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable (lists/sets from a DB query) but keep the object hashable.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "years", frozenset(d.year for d in self.holidays | self.workdays))


def to_local(dt: datetime) -> datetime:
    """Convert to Asia/Shanghai; a naive datetime is taken as UTC."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(TZ)


def parse_local_time(text: str) -> datetime:
    """ISO 8601 ('2026-09-28T10:00', or with a space or a zone); without a zone, Asia/Shanghai time.

    ValueError if malformed.
    """
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def end_of_day(d: date) -> datetime:
    """23:59:59.999999 Asia/Shanghai on day d."""
    return datetime.combine(d, time.max, tzinfo=TZ)


def _check(n: int) -> None:
    if n < 0:
        raise ValueError(f"amount must be >= 0, got {n}")


class WorkCalendar:
    """Working days from chinesecalendar, admin overrides and a weekend-only fallback."""

    def __init__(self, overrides: Overrides | None = None):
        self.overrides = overrides or Overrides()
        self.missing_years: set[int] = set()

    def is_working_day(self, d: date) -> bool:
        """True if d (a local date; a datetime is converted to local first) is a working day."""
        if isinstance(d, datetime):
            d = to_local(d).date()
        # Holidays are checked first so a day entered in both lists has one deterministic answer.
        if d in self.overrides.holidays:
            return False
        if d in self.overrides.workdays:
            return True
        if d.year not in self.missing_years:
            try:
                return chinese_calendar.is_workday(d)
            except NotImplementedError:
                # An uncovered year the admin entered days for is not reported as missing.
                if d.year not in self.overrides.years:
                    self.missing_years.add(d.year)
        return d.weekday() < 5

    def next_working_day(self, d: date) -> date:
        """d itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """End of the n-th working day after start's local date (the start day is not counted)."""
        _check(n)
        d = to_local(start).date()
        if n == 0:
            return end_of_day(self.next_working_day(d))
        while n:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return end_of_day(d)

    def add_calendar_days(self, start: datetime, n: int) -> datetime:
        """End of local date + n days, moved to the next working day if needed."""
        _check(n)
        return end_of_day(self.next_working_day(to_local(start).date() + timedelta(days=n)))

    def add_hours(self, start: datetime, n: int) -> datetime:
        """start + n elapsed hours, in Asia/Shanghai."""
        _check(n)
        # Add in UTC: aware-datetime arithmetic is wall-clock within one zone.
        return (to_local(start).astimezone(timezone.utc) + timedelta(hours=n)).astimezone(TZ)

    def due(self, start: datetime, amount: int, unit: str) -> datetime:
        """Deadline for a policy-table limit of `amount` `unit`s starting at start."""
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; expected one of {UNITS}")
        return getattr(self, f"add_{unit}")(start, amount)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Count working days d with start's local date < d <= end's local date."""
        d, last = to_local(start).date(), to_local(end).date()
        count = 0
        while d < last:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count
