"""Where to send a user back to after a form; which ids a URL may carry."""

from werkzeug.routing import IntegerConverter


def local_or(target: str, fallback: str) -> str:
    """The target if it is a path on this site, else the fallback (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else fallback


# Ids are INTEGER columns (int4 on PostgreSQL): a larger number in a URL is a 404, not an overflow.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Werkzeug's `int` converter bounded to the ids the database holds (create_app registers it as `int`)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
