"""The text router: a plain library that reads a case and proposes where it goes.

It imports nothing from Flask, SQLAlchemy or ``intake``: it is built from reference
data handed in (``Reference``), so it can be evaluated, benchmarked and tested
without an app or a database. The app and the worker feed it (``routing.services``).

Importing the package loads nothing heavy: ``Reference``, ``build_router`` and ``load_reference``
are read from ``routing.router.reference`` when first asked for (PEP 562), so a process that only
needs a light module of the package (``calibrate`` for the threshold, ``names`` for ``normalize``,
``reasons``) does not load the pinyin phrases, OpenCC and the phone geodata. The web process is one.
"""

__all__ = ["Reference", "build_router", "load_reference"]


def __getattr__(name: str):
    if name in __all__:
        from routing.router import reference

        return getattr(reference, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
