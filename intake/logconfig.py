"""Logging, configured once per process before the app: each line names its request, job or case.

Named logconfig, not logging, so that `import logging` next to it keeps meaning the standard library.
"""

import logging
import logging.config
import re
import sys
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from rq import get_current_job

from intake.config import log_level

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"
REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like (a UUID, a hex or base64 token): nothing that could forge a line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
_ENVIRON_KEY = "intake.request_id"
_case_id: ContextVar[int | None] = ContextVar("log_case_id", default=None)
_configured = False


def configure_logging(level: str | None = None) -> None:
    """Send every logger's lines to stderr in FORMAT at LOG_LEVEL; later calls change nothing."""
    global _configured
    if _configured:
        return
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,  # modules' loggers made at import time keep working
            "filters": {"context": {"()": ContextFilter}},
            "formatters": {"line": {"format": FORMAT}},
            "handlers": {"stderr": {"()": StderrHandler, "filters": ["context"], "formatter": "line"}},
            "root": {"level": level or log_level(), "handlers": ["stderr"]},
        }
    )
    _configured = True


def init_app(app) -> None:
    app.after_request(_echo_request_id)


class StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line (as logging's last resort does), so a test
    runner that swaps it, or closes the one it had, gets the lines instead of an error."""

    def __init__(self, level=logging.NOTSET):
        logging.Handler.__init__(self, level)

    @property
    def stream(self):
        return sys.stderr


class ContextFilter(logging.Filter):
    """Fills `context`: `req=…` in a request, `job=…` and `case=…` in a job, `-` otherwise."""

    def filter(self, record: logging.LogRecord) -> bool:
        parts = []
        if has_request_context():
            parts.append(f"req={request_id()}")
        job = get_current_job()
        if job is not None:
            parts.append(f"job={job.id}")
        if (case_id := _case_id.get()) is not None:
            parts.append(f"case={case_id}")
        record.context = " ".join(parts) or "-"
        return True


def request_id() -> str:
    """The current request's id: the proxy's X-Request-ID when it looks like one, else a new one."""
    rid = request.environ.get(_ENVIRON_KEY)
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.environ[_ENVIRON_KEY] = rid
    return rid


def _echo_request_id(response):
    response.headers.setdefault(REQUEST_ID_HEADER, request_id())
    return response


@contextmanager
def case_context(case_id: int | None):
    """Lines logged inside name this case (a job about one case runs in it)."""
    token = _case_id.set(case_id)
    try:
        yield
    finally:
        _case_id.reset(token)


def bind_case(case_id: int | None) -> None:
    """Name the case for the rest of the current job, once the job has found it (a message's case)."""
    _case_id.set(case_id)
