"""Place names of the divisions, found in free text with one Aho-Corasick automaton.

Every division is indexed under its official name, its suffix-free forms
(敬仁村委会 → 敬仁村, 敬仁; 瓯北街道 → 瓯北; 海宁市 → 海宁) and any aliases.
Forms without a suffix are flagged ``bare``: they are weaker evidence, because
bare names are often ordinary words too (国庆, 电子, 建设).

Names as people write them with a slip (甘浦镇 for 澉浦镇, 王江镇 for 王江泾镇, 瓯北镇 for
瓯北街道) come from ``routing.router.fuzzy``: ``find`` adds them where no exact name covers
the span, with ``Mention.how`` saying how each was found.
"""

from __future__ import annotations

import ahocorasick

from routing.router import fuzzy as fuzzy_module
from routing.router.names import (  # noqa: F401  (the names the rest of the router reads from here)
    COUNTY_SUFFIXES,
    HIGHER_SUFFIXES,
    LEVELS,
    RANK,
    TOWNSHIP_SUFFIXES,
    VILLAGE_SUFFIXES,
    VILLAGE_WRITTEN,
    ZONE_SUFFIXES,
    Division,
    Mention,
    longest_matches,
    normalize,
    strip_suffix,
)


def name_forms(name: str, level: str) -> list[tuple[str, bool]]:
    """(form, bare) pairs under which a division is indexed."""
    forms = {name: False}
    if level == "village":
        base = strip_suffix(name, VILLAGE_SUFFIXES)
        base = strip_suffix(base, ("村", "社区")) if base != name else base
        for written in VILLAGE_WRITTEN:
            forms.setdefault(base + written, False)
        forms.setdefault(base, True)
    elif level == "township" and name.endswith(ZONE_SUFFIXES):
        base = strip_suffix(name, ZONE_SUFFIXES)  # 连云 alone is the district, not the zone
        for suffix in ZONE_SUFFIXES:
            forms.setdefault(base + suffix, False)
    elif level == "township":
        base = strip_suffix(name, TOWNSHIP_SUFFIXES)
        forms.setdefault(base, True)  # 瓯北镇 (many 街道 were 镇) is a fuzzy name: 后缀不同
    elif level == "county":
        forms.setdefault(strip_suffix(name, COUNTY_SUFFIXES), True)
    else:
        forms.setdefault(strip_suffix(name, HIGHER_SUFFIXES), True)
    return [(f, bare) for f, bare in forms.items() if len(f) >= 2]


class Gazetteer:
    """Divisions by code, and every name form in one automaton."""

    def __init__(
        self, divisions: dict[str, Division], index: dict[str, list[tuple]], aliases: dict[str, list[str]] | None = None
    ):
        self.divisions = divisions
        self._children: dict[str, list[str]] = {}
        for d in divisions.values():
            self._children.setdefault(d.parent_code, []).append(d.code)
        self._automaton = ahocorasick.Automaton()
        for key, entries in index.items():
            self._automaton.add_word(key, (key, tuple(entries)))
        self._automaton.make_automaton()
        self.fuzzy = fuzzy_module.FuzzyMatcher(divisions, aliases)
        self.matcher = fuzzy_module.PlaceMatcher(self, aliases)  # .search(query, limit) for a place picker

    @classmethod
    def from_rows(cls, rows) -> "Gazetteer":
        """Build from dicts with code, name, level, parent_code and optional aliases."""
        divisions: dict[str, Division] = {}
        index: dict[str, list[tuple[str, bool, str]]] = {}
        aliases: dict[str, list[str]] = {}
        for row in rows:
            level = getattr(row["level"], "value", row["level"])
            d = Division(row["code"], row["name"], level, row.get("parent_code") or "")
            divisions[d.code] = d
            forms = [(f, bare, "") for f, bare in name_forms(d.name, level)]
            own = [a for a in row.get("aliases") or [] if len(a) >= 2]
            if own:
                aliases[d.code] = own
            forms += [(a, False, "别名") for a in own]
            for form, bare, how in forms:
                for key in {form, normalize(form)}:
                    entries = index.setdefault(key, [])
                    if not any(code == d.code for code, _, _ in entries):
                        entries.append((d.code, bare, how))
        return cls(divisions, index, aliases)

    def find(self, text: str | None, fuzzy: bool = True) -> list[Mention]:
        """Every division named in ``text``; overlapping names yield to the longest.

        With ``fuzzy``, also names written with a slip, where no exact name covers the span:
        a fuzzy span may take in a bare exact name inside it (西塘 in 西塘街道) only when that
        name's townships are among its readings, so it never beats an exact name.
        """
        text = normalize(text)
        exact = list(longest_matches(self._automaton, text))
        mentions: list[Mention] = []
        absorbed: set[tuple[int, int]] = set()
        if fuzzy and text:
            taken: list[tuple[int, int]] = []
            for f in sorted(self.fuzzy.find(text), key=lambda f: (f.span[0] - f.span[1], f.span[0])):
                readings = self._fit_exact(f, exact, taken)
                if readings is None:
                    continue
                levels = {self.divisions[c].level for c in readings}
                if levels == {"county"} and len(readings) > 1:
                    continue
                taken.append(f.span)
                absorbed.update(span for span, _, _ in exact if f.span[0] <= span[0] and span[1] <= f.span[1])
                mentions += [
                    Mention(code, self.divisions[code].level, text[f.span[0] : f.span[1]], f.span, not f.marked, how)
                    for code, how in readings.items()
                ]
        mentions += [
            Mention(code, self.divisions[code].level, key, span, bare, how)
            for span, key, entries in exact
            if span not in absorbed
            for code, bare, how in entries
        ]
        mentions.sort(key=lambda m: (m.span[0], RANK[m.level]))
        return mentions

    def _fit_exact(self, f, exact, taken) -> dict[str, str] | None:
        """The readings of a fuzzy span beside the exact names, or None if an exact name wins."""
        start, end = f.span
        if any(s < end and start < e for s, e in taken):
            return None
        readings = dict(f.readings)
        for (s, e), _, entries in exact:
            if not (s < end and start < e):
                continue
            inside = start <= s and e <= end and (s, e) != (start, end)
            if not inside or not all(bare for _, bare, _ in entries):
                return None  # the exact name covers it, or crosses it
            # 海洲 in 海洲湾街道: a bare name followed by more of a name and a suffix is part of it
            part = f.marked and e < f.name_end
            for code, _, _ in entries:
                level = self.divisions[code].level
                if level == "township" and code not in readings:
                    if not part:
                        return None  # an exact township of its own
                    readings[code] = "含其名"  # stays a rival: the fuzzy name never beats it
                if level in ("province", "city"):
                    if all(code in self.chain(c) for c in readings):
                        continue  # 连云港减厂: the city's name is part of the township's
                    return None
                if level == "county" or (level == "village" and not f.marked):
                    readings.setdefault(code, "后缀不同" if level == "county" else "含其名")
        return readings

    # accessors
    def name(self, code: str | None) -> str:
        d = self.divisions.get(code or "")
        return d.name if d else ""

    def level(self, code: str) -> str:
        return self.divisions[code].level

    def parent(self, code: str) -> str:
        return self.divisions[code].parent_code

    def chain(self, code: str) -> list[str]:
        """The code and its ancestors, nearest first."""
        out = []
        while code in self.divisions:
            out.append(code)
            code = self.divisions[code].parent_code
        return out

    def ancestor(self, code: str | None, level: str) -> str | None:
        for c in self.chain(code or ""):
            if self.divisions[c].level == level:
                return c
        return None

    def county_of(self, code: str | None) -> str | None:
        return self.ancestor(code, "county")

    def township_of(self, code: str | None) -> str | None:
        return self.ancestor(code, "township")

    def children(self, code: str) -> list[str]:
        return list(self._children.get(code, []))

    def townships_of(self, county: str) -> list[str]:
        return [c for c in self._children.get(county, []) if self.divisions[c].level == "township"]

    def counties_under(self, code: str) -> set[str]:
        """The counties a province, city or county code covers."""
        d = self.divisions.get(code)
        if d is None or RANK[d.level] > RANK["county"]:
            return set()
        if d.level == "county":
            return {code}
        return set().union(*(self.counties_under(c) for c in self._children.get(code, [])))

    def full_name(self, code: str | None) -> str:
        """Township and village names, e.g. 瓯北街道码道社区."""
        parts = [
            self.divisions[c].name for c in self.chain(code or "") if self.divisions[c].level in ("township", "village")
        ]
        return "".join(reversed(parts))
