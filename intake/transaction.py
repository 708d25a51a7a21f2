"""Commit at the edge: services add and flush; the request, the job or the CLI command commits.

Three edges, one rule (commit when the work ends normally, roll back when it raises):

- A request with a mutating method (POST, PUT, PATCH, DELETE) commits in one `after_request`
  hook when its response is a success (below 400) and rolls back otherwise. One hook rather than
  a decorator on each of the thirty-odd POST views: a new POST view cannot forget it, and the
  views stay as they are. A GET never commits; a GET that writes on purpose (the personal-data
  access log) says so with `@transactional` on its view. A staff session's last_seen_at is written
  (at most once a minute) after the request's own commit, by intake/accounts/views.py.
- A job commits when its function returns (`intake.jobcontext.in_app_context`); a job that must
  commit one step before the next (before it calls a gateway, before it tells Redis) runs that
  step with `transactional(step)(...)` or `with transaction():`.
- A CLI command that writes commits with `with transaction():` around what it writes.

Nothing else calls `db.session.commit()` (tests/intake/test_transactions.py checks).
"""

import functools
from contextlib import contextmanager

from flask import request

from intake.extensions import db

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@contextmanager
def transaction():
    """Commit what the block added when it ends normally; roll all of it back when it raises."""
    try:
        yield db.session
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def transactional(func):
    """Run `func` as one transaction: committed when it returns, rolled back when it raises."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with transaction():
            return func(*args, **kwargs)

    return wrapper


def _commit_mutating_request(response):
    if request.method in MUTATING:
        if response.status_code < 400:
            db.session.commit()
        else:  # refused or failed: nothing the request added stays
            db.session.rollback()
    return response


def init_app(app) -> None:
    app.after_request(_commit_mutating_request)
