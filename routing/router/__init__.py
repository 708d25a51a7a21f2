"""The text router: a plain library that reads a case and proposes where it goes.

It imports nothing from Flask, SQLAlchemy or ``intake``: it is built from reference
data handed in (``Reference``), so it can be evaluated, benchmarked and tested
without an app or a database. The app and the worker feed it (``routing.services``).
"""

from routing.router.reference import Reference, build_router, load_reference

__all__ = ["Reference", "build_router", "load_reference"]
