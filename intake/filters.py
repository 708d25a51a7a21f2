"""Template filters and globals: local times, labels."""

from intake.cases.kinds import ANSWERABLE_KINDS, KIND_LABELS
from intake.cases.labels import ACTION_LABELS, CLOCK_LABELS, STATUS_LABELS
from routing.calendar import TZ


def local_time(dt, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.astimezone(TZ).strftime(fmt) if dt else ""


def deadline_text(dt) -> str:
    """A deadline as a citizen reads it: the day alone when it ends at the close of the day."""
    if not dt:
        return ""
    local = dt.astimezone(TZ)
    if (local.hour, local.minute) == (23, 59):
        return f"{local.year}年{local.month}月{local.day}日"
    return f"{local.year}年{local.month}月{local.day}日{local:%H:%M}"


def init_app(app) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["deadline"] = deadline_text
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        ACTION_LABELS=ACTION_LABELS,
        CLOCK_LABELS=CLOCK_LABELS,
        KIND_LABELS=KIND_LABELS,
        ANSWERABLE_KINDS=ANSWERABLE_KINDS,
    )
