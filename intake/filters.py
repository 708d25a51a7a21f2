"""Template filters and globals: local times, labels."""
from zoneinfo import ZoneInfo

from intake.cases.workflow import ACTION_LABELS, CLOCK_LABELS, STATUS_LABELS

TZ = ZoneInfo("Asia/Shanghai")


def local_time(dt, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.astimezone(TZ).strftime(fmt) if dt else ""


def init_app(app) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals.update(STATUS_LABELS=STATUS_LABELS, ACTION_LABELS=ACTION_LABELS,
                                CLOCK_LABELS=CLOCK_LABELS)
