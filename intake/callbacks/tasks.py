"""The periodic callback job: send the surveys that are due, close what went unanswered."""

from datetime import datetime

from intake.callbacks import services
from intake.jobcontext import in_app_context
from intake.sweeplog import records_run
from intake.types import utcnow


@in_app_context
@records_run
def sweep_callbacks(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    return {"asked": services.ask_due(now), "no_response": services.expire(now)}
