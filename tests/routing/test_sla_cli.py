"""The administrators' deadline tool and the holiday import for years chinesecalendar lacks."""

import pytest
import sqlalchemy as sa

from intake.extensions import db
from intake.reference.models import CalendarDay


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--start", "2026-09-28T10:00", "--working-days", "7"], "2026-10-13 23:59:59 +0800"),
        (["--start", "2026-10-09T10:00", "--working-days", "1"], "2026-10-10 23:59:59 +0800"),
        (["--start", "2026-08-02T10:00", "--calendar-days", "60"], "2026-10-08 23:59:59 +0800"),
        (["--start", "2026-10-01T23:30", "--hours", "2"], "2026-10-02 01:30:00 +0800"),
        (["--start", "2030-05-01T09:00", "--working-days", "3"], "2030-05-06 23:59:59 +0800"),
    ],
)
def test_sla_due_prints_the_deadline(app, args, expected):
    out = app.test_cli_runner().invoke(args=["sla", "due", *args]).output
    assert expected in out
    assert ("2030年法定节假日安排未录入" in out) == args[1].startswith("2030")


def test_entered_holidays_move_a_2027_deadline_and_silence_the_warning(app, tmp_path):
    runner = app.test_cli_runner()
    before = runner.invoke(args=["sla", "due", "--start", "2026-12-31T09:00", "--working-days", "1"]).output
    assert "2027-01-01 23:59:59" in before and "2027年" in before
    path = tmp_path / "2027.csv"
    path.write_text("day,working,note\n2027-01-01,0,元旦\n", encoding="utf-8")
    try:
        assert "已录入 1 天" in runner.invoke(args=["calendar", "import", str(path)]).output
        after = runner.invoke(args=["sla", "due", "--start", "2026-12-31T09:00", "--working-days", "1"]).output
        assert "2027-01-04 23:59:59" in after and "警告" not in after
    finally:
        db.session.execute(sa.delete(CalendarDay))
        db.session.commit()


def test_sla_due_needs_exactly_one_unit(app):
    result = app.test_cli_runner().invoke(args=["sla", "due", "--start", "2026-09-28T10:00"])
    assert result.exit_code != 0 and "exactly one" in result.output
