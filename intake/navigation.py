"""Where to send a user back to after a form; which ids a URL may carry."""

import unicodedata
from urllib.parse import urlsplit

from flask import abort, current_app, request
from werkzeug.routing import IntegerConverter


def local_or(target: str | None, fallback: str) -> str:
    r"""The target if the browser will read it as a path on this site, else the fallback (no open redirect).

    Read the way a browser reads a Location header: it drops tab, CR and LF anywhere and trims
    spaces and controls at the ends (so "/\t/evil.example" is "//evil.example"), and treats "\" as "/"
    (so "/\evil.example" is another host). Any of those, any other control or space character, a
    scheme or a host after urlsplit, or a leading "//" is refused outright rather than cleaned.
    """
    if not target or not isinstance(target, str):
        return fallback
    if any(_unsafe_character(c) for c in target):
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def _unsafe_character(c: str) -> bool:
    """Controls (tab, CR, LF, NUL, DEL, C1), any kind of space, and the backslash."""
    return c == "\\" or c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp")


# Ids are INTEGER columns (int4 on PostgreSQL): a larger number in a URL is a 404, not an overflow.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Werkzeug's `int` converter bounded to the ids the database holds (create_app registers it as `int`)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def id_arg(text: str) -> int:
    """`request.args.get(name, type=id_arg)`: an id the database can hold; anything else is the default.

    `type=int` lets 99999999999999999999 through to the query, where PostgreSQL overflows (a 500).
    """
    value = int(text.strip())
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"not an id: {value}")
    return value


# The years a date in a query or a read-only form may name: the clocks and reports compute nothing
# outside them, and 9999-12-31 plus a time limit overflows Python's dates.
MIN_YEAR, MAX_YEAR = 2000, 2100


def in_years(day) -> bool:
    """Whether a date or datetime falls in MIN_YEAR..MAX_YEAR."""
    return MIN_YEAR <= day.year <= MAX_YEAR


def reject_nul_characters():
    """A before_request hook: a NUL in the path or the query string is a 400, not a database error.

    PostgreSQL's text columns cannot hold NUL (0x00), so `?q=%00` reached any query as a 500.
    A view marked @nul_characters_handled cleans its own parameters and answers as it likes.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "nul_characters_handled", False):
        return
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        abort(400)


def nul_characters_handled(view):
    """Mark a view that strips NUL characters itself (the place search answers `?q=%00` with no results)."""
    view.nul_characters_handled = True
    return view
