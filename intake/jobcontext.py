"""Running job functions inside the application, whichever worker picked them up."""
import functools
import inspect

from flask import current_app, has_app_context

from intake.logconfig import case_context


def in_app_context(func):
    """Give the job an app context (creating the app under a plain `rq worker`) and a clean session;
    a job whose first argument is `case_id` logs with that case."""
    params = list(inspect.signature(func).parameters)
    about_a_case = bool(params) and params[0] == "case_id"

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        case_id = (args[0] if args else kwargs.get("case_id")) if about_a_case else None
        with case_context(case_id):
            if has_app_context():
                return _run(func, args, kwargs)
            from intake import create_app

            with create_app().app_context():
                return _run(func, args, kwargs)

    return wrapper


def _run(func, args, kwargs):
    from intake.extensions import db

    try:
        return func(*args, **kwargs)
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
        current_app.logger.debug("job %s done", func.__name__)
