"""Names of places as the router reads them: levels, suffixes, folding, matches and mentions.

The gazetteer and the fuzzy matcher both build on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
import opencc

LEVELS = ("province", "city", "county", "township", "village")
RANK = {lvl: i for i, lvl in enumerate(LEVELS)}

# Official suffixes, longest first; a name is never cut below two characters.
VILLAGE_SUFFIXES = (
    "社区居民委员会",
    "社区居委会",
    "村民委员会",
    "居民委员会",
    "虚拟生活区",
    "村村委会",
    "村委会",
    "居委会",
    "管理区社区",
    "社区",
    "村",
)
TOWNSHIP_SUFFIXES = ("街道", "林场", "农场", "场区", "镇", "乡")
ZONE_SUFFIXES = ("经济技术开发区", "经济开发区", "开发区", "经开区")
COUNTY_SUFFIXES = ("自治县", "县", "市", "区")
HIGHER_SUFFIXES = ("省", "市")
# How people write a place with its kind: both 村 and 社区 are said of either.
VILLAGE_WRITTEN = ("村", "社区", "村委会", "居委会", "社区居委会")

_t2s = opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def normalize(text: str | None) -> str:
    """Read traditional characters as simplified."""
    return _t2s.convert(text) if text else ""


def longest_matches(automaton: ahocorasick.Automaton, text: str):
    """(span, key, value) for the words of ``text`` found, longest first where they overlap.

    The automaton's values are (key, value) pairs.
    """
    hits = sorted(
        ((end - len(key) + 1, end + 1, key, value) for end, (key, value) in automaton.iter(text)) if text else [],
        key=lambda h: (h[0] - h[1], h[0]),
    )  # longest first, then leftmost
    taken: list[tuple[int, int]] = []
    for start, end, key, value in hits:
        if not any(start < e and s < end for s, e in taken):
            taken.append((start, end))
            yield (start, end), key, value


@dataclass(frozen=True)
class Mention:
    """A division named in a text: ``span`` indexes the normalized text."""

    code: str
    level: str
    text: str
    span: tuple[int, int]
    bare: bool = False
    how: str = ""  # "" for an exact name; else how it was read (按读音, 按字形, 缺字, 别名, …)


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str


def strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    """The name without its first matching suffix, or unchanged if that leaves < 2 chars."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name
