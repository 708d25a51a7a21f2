"""Finding a township, or a village of a township, from what someone typed.

The matching itself is the router's (``PlaceMatcher`` in ``routing/router/fuzzy.py``): the same
index the worker routes with, rebuilt when reference data changes, so the pickers find what the
router would (homophones 甘浦 → 澉浦镇, initials obj → 瓯北街道, plain characters). Here: who may
search, what a query may be, and the JSON the pickers read.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from routing.services import get_router

# Those who route a case by hand (dispatchers) or file one from a call (operators), and administrators.
MAX_QUERY = 32  # characters; a place name with its county is far shorter
DEFAULT_LIMIT = 10
MAX_LIMIT = 20
# How a fuzzy hit was found, as the router's matcher says it, in the user's language; "" for a plain match.
HOW_LABELS = {
    "按读音": _l("按读音"),
    "按字形": _l("按字形"),
    "缺字": _l("缺字"),
    "简称": _l("简称"),
    "别名": _l("别名"),
    "按拼音": _l("按拼音"),
    "按拼音首字母": _l("按拼音首字母"),
    "后缀不同": _l("后缀不同"),
    "多字": _l("多字"),
    "含其名": _l("含其名"),
}


class PlaceQueryError(ValueError):
    """A query the search refuses (too long, an unknown township): a 400, never a 500."""


def _gazetteer():
    return get_router().gazetteer


def _matcher():
    """The router's PlaceMatcher (routing/router/fuzzy.py), on the gazetteer the worker routes with."""
    return get_router().gazetteer.matcher


def check_township(code: str) -> str:
    """The township code if it is one, else PlaceQueryError."""
    code = (code or "").strip()
    division = _gazetteer().divisions.get(code)
    if division is None or division.level != "township":
        raise PlaceQueryError(_("没有这个乡镇（街道）代码。"))
    return code


def search_places(query: str, township: str | None = None, limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Townships matching ``query``, or the villages of ``township``, best first, as the pickers show them."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        raise PlaceQueryError(_("输入太长：最多 %(n)d 个字。", n=MAX_QUERY))
    if township:
        township = check_township(township)
    if not query:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    gazetteer = _gazetteer()
    hits = _matcher().search(query, limit=limit, township=township)
    return [
        {
            "code": h.code,
            "name": h.name,
            "county": h.county,
            "county_name": gazetteer.name(h.county),
            "level": h.level,
            "how": str(HOW_LABELS.get(h.how, h.how or "")),
        }
        for h in hits
    ]


def resolve_place(text: str, township: str | None = None) -> str | None:
    """The code a typed place means: a code as such, else the only or first match; None when nothing.

    ``township`` given: a village of that township. The dispatcher who types 瓯北 and presses
    Enter without picking gets 瓯北街道; an older form's '330324009 瓯北街道 永嘉县' is its code.
    """
    text = (text or "").strip()
    if not text or len(text) > MAX_QUERY * 2:
        return None
    divisions = _gazetteer().divisions
    level = "village" if township else "township"
    first = text.split()[0]
    known = divisions.get(first)
    if known is not None and known.level == level and (not township or known.parent_code == township):
        return known.code
    try:
        found = search_places(text[:MAX_QUERY], township=township, limit=1)
    except PlaceQueryError:
        return None
    return found[0]["code"] if found else None


def describe_places(codes) -> list[dict]:
    """The places of these codes (the machine's candidates, the case's township) as a search returns them."""
    gazetteer = _gazetteer()
    out = []
    for code in codes or []:
        division = gazetteer.divisions.get(code or "")
        if division is None:
            continue
        county = gazetteer.county_of(code) or ""
        out.append(
            {
                "code": division.code,
                "name": division.name,
                "county": county,
                "county_name": gazetteer.name(county),
                "level": division.level,
                "how": "",
            }
        )
    return out
