"""Running job functions inside the application, whichever worker picked them up.

The app factory registers itself here (``create_app`` does), so a worker process started by
``flask worker`` builds the app when a job needs one, without this module importing the app.
"""

import functools
import inspect

from flask import current_app, has_app_context

from intake.extensions import db
from intake.logconfig import case_context
from intake.transaction import transaction

_factory: list = []


def register_app_factory(factory) -> None:
    """What builds the app for a job that runs outside an app context (``create_app``)."""
    _factory[:] = [factory]


def in_app_context(func):
    """Give the job an app context (building the app if the process has none yet) and a clean session;
    a job whose first argument is `case_id` logs with that case; commit what the job added when it
    returns, roll it back when it raises (its body only flushes)."""
    params = list(inspect.signature(func).parameters)
    about_a_case = bool(params) and params[0] == "case_id"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        case_id = (args[0] if args else kwargs.get("case_id")) if about_a_case else None
        with case_context(case_id):
            if has_app_context():
                return _run(func, args, kwargs)
            if not _factory:
                raise RuntimeError("no app factory registered: start workers with `flask --app wsgi worker`")
            with _factory[0]().app_context():
                return _run(func, args, kwargs)

    return wrapper


def _run(func, args, kwargs):
    try:
        with transaction():
            return func(*args, **kwargs)
    finally:
        db.session.remove()
        current_app.logger.debug("job %s done", func.__name__)
