"""Running job functions inside the application, whichever worker picked them up."""
import functools

from flask import current_app, has_app_context


def in_app_context(func):
    """Give the job an app context (creating the app under a plain `rq worker`) and a clean session."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
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
