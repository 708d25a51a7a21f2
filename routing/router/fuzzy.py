"""Division names as people actually write them: by sound, by shape, short, with a slip.

``FuzzyMatcher`` finds in a text the spans that are not an exact name but are a division
name written
- by sound (按读音): toneless pinyin with the southern-accent confusions folded
  (in/ing, en/eng, an/ang, n/l, z/zh, c/ch, s/sh, h/f): 甘浦 → 澉浦镇, 常水 → 长水街道;
- by shape (按字形): one look-alike character (``data/same_stroke.txt``): 祟福 → 崇福镇;
- with a character dropped (缺字) or one too many (多字): 王江镇 → 王江泾镇;
- with another or an old suffix (后缀不同): 瓯北镇 → 瓯北街道, 云岭镇 → 云岭乡;
- short (简称): without the county or city it starts with, 碱厂 → 连云港碱厂;
- in pinyin letters (按拼音): ganpu → 澉浦镇.
Every character maps to a folded syllable key, so sound is one Aho-Corasick scan over key
strings; shapes, dropped characters and short forms are a second scan over variant strings.

Townships and counties are found; village names only stand in the way: a span that also
reads as a village is ambiguous, never a village found by guessing. Whether a fuzzy name
counts is decided with the rest of the case (``fit_fuzzy``, called by ``locate``): only when
exactly one division fits what the case allows.

``PlaceMatcher.search`` serves people typing into a place picker with the same rules.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
from pypinyin import pinyin_dict
from pypinyin.constants import PHRASES_DICT
from pypinyin.contrib.tone_convert import to_normal, to_tone3

from routing.router.names import (
    COUNTY_SUFFIXES,
    TOWNSHIP_SUFFIXES,
    VILLAGE_SUFFIXES,
    ZONE_SUFFIXES,
    Division,
    normalize,
    strip_suffix,
)
from routing.router.reasons import PhoneReason

SOUND, SHAPE, MISSING, SUFFIX, SHORT, ALIAS, PINYIN = "按读音", "按字形", "缺字", "后缀不同", "简称", "别名", "按拼音"
EXTRA, INITIALS, PART = "多字", "按拼音首字母", "含其名"
# When one span reads as a division several ways, the plainest way names it.
HOW_ORDER = {
    h: i for i, h in enumerate(("", ALIAS, SUFFIX, SHORT, MISSING, EXTRA, SOUND, SHAPE, PINYIN, INITIALS, PART))
}

# What people write after a township's name, longest first.
WRITTEN_TOWNSHIP = ("街道办事处", "街道办", "街道", "镇", "乡", "林场", "农场", "场区")
WRITTEN_COUNTY = ("县", "市", "区")
_TOWNSHIP_SUFFIX = re.compile("|".join(WRITTEN_TOWNSHIP))
_COUNTY_SUFFIX = re.compile("|".join(WRITTEN_COUNTY))
_LATIN = re.compile(r"[A-Za-z]+(?:[ '’-][A-Za-z]+)*")
PREFIXES = ("县", "市")
NUMERALS = set("零一二三四五六七八九十百千万两")  # 县特产场场区 → 特产场

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
MAX_COMBOS = 16  # heteronym readings of one name tried at most
NO_KEY = "\x01"

_INITIAL_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"))
_FINAL_FOLD = (("ing", "in"), ("eng", "en"), ("ang", "an"))


def fold(syllable: str) -> str:
    """A toneless syllable with the southern-accent confusions folded: zhang → zan, ning → lin."""
    for a, b in _INITIAL_FOLD:
        if syllable.startswith(a):
            syllable = b + syllable[len(a) :]
            break
    for a, b in _FINAL_FOLD:
        if syllable.endswith(a):
            return syllable[: -len(a)] + b
    return syllable


@lru_cache(maxsize=None)
def readings(ch: str) -> tuple[str, ...]:
    """A character's readings with tones (tone3: zhang3), most common first; () if not a hanzi."""
    raw = pinyin_dict.pinyin_dict.get(ord(ch))
    return tuple(dict.fromkeys(to_tone3(r) for r in raw.split(","))) if raw else ()


@lru_cache(maxsize=None)
def toneless(ch: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(to_normal(r) for r in readings(ch)))


_KEYS: dict[str, str] = {}  # folded syllable → one private-use character


def _key_char(folded: str) -> str:
    if folded not in _KEYS:
        _KEYS[folded] = chr(0xE000 + len(_KEYS))
    return _KEYS[folded]


class _TextKeys(dict):
    """str.translate table: each hanzi to the key of its most common reading."""

    def __missing__(self, code: int) -> str:
        r = toneless(chr(code))
        self[code] = value = _key_char(fold(r[0])) if r else NO_KEY
        return value


_TEXT_KEYS = _TextKeys()


def text_keys(text: str) -> str:
    """One key character per character of ``text``."""
    return text.translate(_TEXT_KEYS)


NAME_READINGS = 2  # a name's character is heard in its two commonest readings (长: zhang, chang)


def name_keys(name: str) -> list[str]:
    """Key strings of a name, one per combination of its characters' readings (bounded)."""
    per_char = [tuple(dict.fromkeys(fold(r) for r in toneless(ch)[:NAME_READINGS])) or (None,) for ch in name]
    if any(p == (None,) for p in per_char):
        return []
    combos = itertools.islice(itertools.product(*per_char), MAX_COMBOS)
    return list(dict.fromkeys("".join(_key_char(s) for s in c) for c in combos))


def same_tones(written: str, name: str) -> bool:
    """Whether each written character is read as the name's, tone included (each one's usual reading)."""
    return len(written) == len(name) and all(
        a == b or (readings(a) and readings(b) and readings(a)[0] in readings(b) and readings(b)[0] in readings(a))
        for a, b in zip(written, name)
    )


def _could_be_slip(written: str, base: str) -> bool:
    """Whether a bare two-character word may be a township written by sound.

    大妈 is not 大麻 (the tones differ), 五元 not 武原 (a number), 涨水 not 长水 (a word of
    its own: pypinyin's phrase list has it).
    """
    return same_tones(written, base) and not any(c in NUMERALS for c in written) and written not in PHRASES_DICT


def full_pinyin(name: str) -> list[str]:
    """Toneless pinyin spellings of a name (oubeijiedao), one per reading combination."""
    per_char = [toneless(ch) or (ch,) for ch in name]
    return ["".join(c) for c in itertools.islice(itertools.product(*per_char), MAX_COMBOS)]


def initials(name: str) -> set[str]:
    per_char = [tuple(dict.fromkeys(r[0] for r in toneless(ch))) or (ch,) for ch in name]
    return {"".join(c) for c in itertools.islice(itertools.product(*per_char), MAX_COMBOS)}


@lru_cache(maxsize=1)
def lookalikes() -> dict[str, frozenset[str]]:
    """Each character's look-alikes, from pycorrector's same_stroke.txt."""
    table: dict[str, set[str]] = {}
    with open(os.path.join(DATA, "same_stroke.txt"), encoding="utf-8") as fh:
        for line in fh:
            group = [c for c in line.split() if len(c) == 1]
            for c in group:
                table.setdefault(c, set()).update(x for x in group if x != c)
    return {c: frozenset(s) for c, s in table.items()}


def village_base(name: str) -> str:
    base = strip_suffix(name, VILLAGE_SUFFIXES)
    return strip_suffix(base, ("村", "社区")) if base != name else base


def township_base(name: str) -> str:
    return strip_suffix(name, TOWNSHIP_SUFFIXES)


def short_forms(base: str, higher: list[str]) -> list[str]:
    """连云港碱厂 → 碱厂, 县特产场 → 特产场: without the county or city name it starts with."""
    out = []
    for prefix in [*higher, *PREFIXES]:
        if prefix and base.startswith(prefix) and len(base) - len(prefix) >= 2:
            out.append(base[len(prefix) :])
    return out


@dataclass(frozen=True)
class FuzzySpan:
    """A span of the (normalized) text that reads as divisions: {code: how}."""

    span: tuple[int, int]
    readings: dict
    marked: bool  # written with a suffix, or long enough not to be an ordinary word
    name_end: int = 0  # where the written suffix (镇, 街道) begins; the span's end if none


@dataclass(frozen=True)
class _Entry:
    code: str
    level: str
    form: str  # what is matched: the base, or a variant of it
    how: str
    base: str  # the name without its suffix
    suffix: str  # the division's own suffix: written after ``base`` it is the exact name


class FuzzyMatcher:
    """Fuzzy spans of a text, from the divisions (townships, counties; villages as rivals)."""

    def __init__(self, divisions: dict[str, Division], aliases: dict[str, list[str]] | None = None):
        self.divisions = divisions
        aliases = aliases or {}
        sound: dict[str, list[_Entry]] = {}
        chars: dict[str, list[_Entry]] = {}
        self.pinyin: dict[str, list[_Entry]] = {}
        shapes = lookalikes()
        self._base: dict[str, str] = {}
        for d in divisions.values():
            names = [d.name] + [a for a in aliases.get(d.code, []) if len(a) >= 2]
            for name in names:
                if d.level == "township" and name.endswith(ZONE_SUFFIXES):
                    self._base.setdefault(d.code, name)
                elif d.level == "township":
                    base = township_base(name)
                    suffix = name[len(base) :]
                    self._base.setdefault(d.code, base)
                    self._add_township(d, base, suffix, sound, chars, shapes)
                elif d.level == "county":
                    base = strip_suffix(name, COUNTY_SUFFIXES)
                    self._base.setdefault(d.code, base)
                    for key in name_keys(base):
                        sound.setdefault(key, []).append(_Entry(d.code, d.level, base, SOUND, base, ""))
                    for variant in self._shape_variants(base, shapes):
                        chars.setdefault(variant, []).append(_Entry(d.code, d.level, variant, SHAPE, base, ""))
                elif d.level == "village":
                    base = village_base(name)
                    self._base.setdefault(d.code, base)
                    if len(base) < 2:
                        continue
                    for key in name_keys(base):
                        sound.setdefault(key, []).append(_Entry(d.code, d.level, base, SOUND, base, ""))
                    for variant in self._missing_variants(base):
                        chars.setdefault(variant, []).append(_Entry(d.code, d.level, variant, MISSING, base, ""))
        self._sound, self._sound_villages = _automata(sound)
        self._chars, self._chars_villages = _automata(chars)
        # bases of three characters or more, for a name written with one character too many
        self._long_bases: dict[str, list[str]] = {}
        for code, base in self._base.items():
            if self.divisions[code].level == "township" and 3 <= len(base) <= 5:
                self._long_bases.setdefault(base, []).append(code)

    def _add_township(self, d, base, suffix, sound, chars, shapes):
        entry = lambda form, how: _Entry(d.code, d.level, form, how, base, suffix)  # noqa: E731
        for key in name_keys(base):
            sound.setdefault(key, []).append(entry(base, SOUND))
        chars.setdefault(base, []).append(entry(base, SUFFIX))
        for variant in self._missing_variants(base):
            chars.setdefault(variant, []).append(entry(variant, MISSING))
        for variant in self._shape_variants(base, shapes):
            chars.setdefault(variant, []).append(entry(variant, SHAPE))
        higher = [strip_suffix(self.divisions[c].name, COUNTY_SUFFIXES + ("市",)) for c in self._ancestors(d.code)]
        for short in short_forms(base, higher):
            chars.setdefault(short, []).append(entry(short, SHORT))
        for spelling in {p for form in (base, base + suffix) for p in full_pinyin(form)}:
            if len(spelling) >= 5:
                self.pinyin.setdefault(spelling, []).append(entry(base, PINYIN))

    def _ancestors(self, code):
        parent = self.divisions[code].parent_code
        while parent in self.divisions:
            yield parent
            parent = self.divisions[parent].parent_code

    @staticmethod
    def _missing_variants(base: str) -> set[str]:
        if len(base) < 3:
            return set()
        return {base[:i] + base[i + 1 :] for i in range(len(base))} - {base}

    @staticmethod
    def _shape_variants(base: str, shapes) -> set[str]:
        return {base[:i] + alt + base[i + 1 :] for i, ch in enumerate(base) for alt in shapes.get(ch, ())}

    # --- finding ---------------------------------------------------------------

    def find(self, text: str) -> list[FuzzySpan]:
        """Spans of the normalized ``text`` that read, not exactly, as townships or counties."""
        if not text:
            return []
        found: dict[tuple[int, int], dict[str, str]] = {}
        marked: dict[tuple[int, int], bool] = {}
        name_ends: dict[tuple[int, int], int] = {}
        keys = text_keys(text)
        for automaton, scanned in ((self._sound, keys), (self._chars, text)):
            for end, (length, entries) in automaton.iter(scanned):
                self._take(text, end + 1 - length, end + 1, entries, found, marked, name_ends)
        if not all(marked.values()):  # a village only stands in the way of a township written bare
            for automaton, scanned in ((self._sound_villages, keys), (self._chars_villages, text)):
                for end, (length, entries) in automaton.iter(scanned):
                    if (end + 1 - length, end + 1) in found:
                        self._take(text, end + 1 - length, end + 1, entries, found, marked, name_ends)
        for m in _TOWNSHIP_SUFFIX.finditer(text):
            self._extra(text, m.start(), m.end(), found, marked, name_ends)
        if _LATIN.search(text):
            for m in _LATIN.finditer(text):
                spelling = re.sub(r"[^a-z]", "", m.group().lower())
                for e in self.pinyin.get(spelling, ()):
                    found.setdefault(m.span(), {})[e.code] = PINYIN
                    marked[m.span()] = True
        spans = []
        for span, codes in found.items():
            towns = {self._base[c] for c in codes if self.divisions[c].level != "village"}
            if not towns:
                continue  # villages are never guessed, only rivals
            # A village of the township's very name is no more a rival than for the exact name.
            codes = {
                c: h for c, h in codes.items() if self.divisions[c].level != "village" or self._base[c] not in towns
            }
            spans.append(FuzzySpan(span, codes, marked[span], name_ends.get(span, span[1])))
        return spans

    def _extra(self, text, at, end, found, marked, name_ends):
        """王江泾泾镇: the characters before a suffix are a long base with one character too many."""
        for length in (4, 5, 6):
            start = at - length
            if start < 0:
                break
            window = text[start:at]
            for i in range(length):
                for code in self._long_bases.get(window[:i] + window[i + 1 :], ()):
                    codes = found.setdefault((start, end), {})
                    codes.setdefault(code, EXTRA)
                    marked[(start, end)], name_ends[(start, end)] = True, at

    def _take(self, text, start, end, entries, found, marked, name_ends):
        written = text[start:end]
        m = _TOWNSHIP_SUFFIX.match(text, end)
        suffix = m.group() if m else ""
        m = _COUNTY_SUFFIX.match(text, end)
        county_suffix = m.group() if m else ""
        for e in entries:
            how = e.how
            if e.level == "village":
                if suffix or written == e.base:
                    continue  # written as a township, or exactly the village (the exact index has it)
                span, is_marked = (start, end), len(written) >= 3
                if not is_marked and how == SOUND and not same_tones(written, e.base):
                    continue  # a rival only if it sounds as alike as a township must
            elif e.level == "county":
                if not county_suffix or written == e.base:
                    continue
                span, is_marked = (start, end + len(county_suffix)), True
            else:
                if county_suffix and not suffix:
                    continue  # 海州区 names a district, not 海洲街道
                if written == e.base and how == SOUND:
                    how = SUFFIX  # the exact base; only a different suffix makes it a slip
                if how == SUFFIX and (not suffix or suffix == e.suffix):
                    continue  # the bare base or the exact name: the exact index has them
                if suffix:
                    span, is_marked = (start, end + len(suffix)), True
                else:
                    span = (start, end)
                    is_marked = len(written) >= 3 or (written[-1] == e.base[-1] and written[-1] in "镇乡")
                    if not is_marked and how == SOUND and not _could_be_slip(written, e.base):
                        continue
                    if not is_marked and how in (SHAPE, MISSING):
                        continue
            codes = found.setdefault(span, {})
            name_ends[span] = end
            if e.code not in codes or HOW_ORDER[how] < HOW_ORDER[codes[e.code]]:
                codes[e.code] = how
            marked[span] = marked.get(span, False) or is_marked


def _automata(index: dict[str, list[_Entry]]) -> tuple[ahocorasick.Automaton, ahocorasick.Automaton]:
    """(townships and counties, villages): values (length, entries)."""
    out = []
    for villages in (False, True):
        automaton = ahocorasick.Automaton()
        for key, entries in index.items():
            entries = tuple(e for e in entries if (e.level == "village") == villages)
            if entries:
                automaton.add_word(key, (len(key), entries))
        automaton.make_automaton()
        out.append(automaton)
    return out[0], out[1]


# --- deciding with the rest of the case -----------------------------------------


def describe(text: str, how: str, name: str) -> str:
    """'新代镇'按读音视为新埭镇"""
    return f"'{text}'{how}视为{name}"


def is_fuzzy(mention) -> bool:
    return mention.how not in ("", ALIAS)


def split_fuzzy(groups) -> tuple[list, list]:
    """(exact groups, fuzzy groups below county level); a fuzzy county stays with the exact."""
    exact, fuzzy = [], []
    for g in groups:
        if any(is_fuzzy(m) for m in g.readings) and any(m.level != "county" for m in g.readings):
            fuzzy.append(g)
        else:
            exact.append(g)
    return exact, fuzzy


def fit_fuzzy(
    gaz, fuzzy_groups, groups, counties: set[str], phone_region, source_label: dict
) -> tuple[list, list, list]:
    """Which fuzzy names count: (groups kept, their reasons, doubts).

    A fuzzy name counts when exactly one township fits among those the rest of the case
    allows: the counties named, else the caller's landline area, else the townships named
    exactly elsewhere in the case (a village, the shop's name). It never beats an exact name
    of another township in the same source. A doubt is (group, {township: how}), a
    candidate for the dispatcher.
    """
    kept, reasons, doubts = [], [], []
    for g in groups:  # an alias, or a county written with a slip (永佳县): the reason says which name
        named = next((m for m in g.readings if m.how), None)
        if named and len(g.readings) == 1 and g.role in ("business", "origin"):
            reasons.append(source_label[g.source] + describe(g.text, named.how, gaz.name(named.code)))
    if not fuzzy_groups:
        return kept, reasons, doubts
    phone_region = phone_region() if callable(phone_region) else phone_region
    exact_towns = {}  # source → townships named exactly there for the business
    for g in groups:
        if g.role in ("business", "origin"):
            towns = {
                gaz.township_of(m.code)
                for m in g.readings
                if m.level in ("township", "village") and (not counties or gaz.county_of(m.code) in counties)
            }
            if len(towns) == 1 and not any(is_fuzzy(m) for m in g.readings):
                exact_towns.setdefault(g.source, set()).update(
                    t for t in towns if any(m.level == "township" for m in g.readings)
                )
                exact_towns.setdefault("*", set()).update(towns)
    for g in fuzzy_groups:
        readings = g.readings
        if counties:
            readings = [m for m in readings if m.level != "county" and gaz.county_of(m.code) in counties]
        options = before_phone = _options(gaz, readings)
        if len(options) > 1 and phone_region and phone_region[0] == "landline":
            narrowed = _options(gaz, [m for m in readings if gaz.county_of(m.code) in phone_region[3]])
            options = narrowed or options
        if len(options) > 1 and exact_towns.get("*"):
            narrowed = {t: h for t, h in options.items() if t in exact_towns["*"]}
            options = narrowed if len(narrowed) == 1 else options
        towns = {t for t in options if gaz.level(t) == "township"}
        if not towns:
            continue
        label = source_label[g.source]
        if len(options) > 1:
            if g.role in ("business", "origin"):
                doubts.append((g, options, before_phone))
            continue
        ((town, how),) = options.items()
        rivals = exact_towns.get(g.source, set()) - {town}
        if g.role in ("business", "origin") and rivals:
            reasons.append(
                f"{label}{describe(g.text, how, gaz.name(town))}？同处已写明"
                f"{'、'.join(gaz.name(t) for t in sorted(rivals))}，以写明的为准"
            )
            continue
        chosen = [m for m in readings if m.code == town]
        if not chosen:
            continue  # only villages of that township sound alike: no village is guessed
        g.readings = chosen
        kept.append(g)
        if g.role in ("business", "origin"):
            reasons.append(label + describe(g.text, how, gaz.name(town)))
    return kept, reasons, doubts


def _options(gaz, readings) -> dict[str, str]:
    """{township or county code: how} the readings amount to (a village stands for its township)."""
    out: dict[str, str] = {}
    for m in sorted(readings, key=lambda m: HOW_ORDER.get(m.how, 0)):
        key = m.code if m.level in ("county", "township") else gaz.township_of(m.code)
        if key:
            out.setdefault(key, m.how or PART)
    return out


def doubt_problem(gaz, doubts) -> tuple[str, list[str]]:
    """The problem a dispatcher reads for fuzzy names that fit several places, and the candidates.

    When the caller's landline left out some of the places, the problem is a PhoneReason whose
    public wording names them all: the places left would tell where the number is.
    """
    problem, candidates = _doubt_problem(gaz, [(g, options) for g, options, _ in doubts])
    if any(options != before for _, options, before in doubts):
        problem = PhoneReason(problem, _doubt_problem(gaz, [(g, before) for g, _, before in doubts])[0])
    return problem, candidates


def _doubt_problem(gaz, doubts) -> tuple[str, list[str]]:
    parts, candidates = [], []
    for g, options in doubts:
        if any(f"'{g.text}'" in p for p in parts):
            continue
        names = "、".join(f"{gaz.name(c)}（{how}）" for c, how in options.items())
        parts.append(f"'{g.text}'可能是{names}")
        candidates += [c for c in options if gaz.level(c) == "township" and c not in candidates]
    return "；".join(parts) + "，不能确定是哪一个", candidates


def public_candidates(gaz, doubts) -> list[str]:
    """The candidates of the doubts before the caller's landline narrowed them."""
    return _doubt_problem(gaz, [(g, before) for g, _, before in doubts])[1]


# --- searching, for a place picker ---------------------------------------------


@dataclass(frozen=True)
class PlaceHit:
    code: str
    name: str
    level: str
    county: str | None
    how: str  # "" for the characters typed, else 按拼音首字母, 按拼音, 按读音, 按字形, 缺字, 后缀不同, 简称, 别名


@dataclass
class _Place:
    code: str
    name: str
    level: str
    county: str | None
    base: str
    forms: list[tuple[str, str]]  # (characters, how): the name, the base, short forms, aliases
    keys: list[tuple[frozenset, ...]]  # per form: each character's folded syllables
    spellings: set[str]
    initials: set[str]


class PlaceMatcher:
    """Townships (and a township's villages) for what someone types into a place picker."""

    def __init__(self, gazetteer, aliases: dict[str, list[str]] | None = None):
        self.gazetteer = gazetteer
        self._aliases = aliases or {}
        self._places: dict[str, _Place] = {}
        self._townships = [self._place(c) for c, d in gazetteer.divisions.items() if d.level == "township"]

    def _place(self, code: str) -> _Place:
        if code in self._places:
            return self._places[code]
        gaz, d = self.gazetteer, self.gazetteer.divisions[code]
        base = township_base(d.name) if d.level == "township" else village_base(d.name)
        forms = [(d.name, ""), (base, "")]
        if d.level == "township":
            higher = [strip_suffix(gaz.name(c), COUNTY_SUFFIXES + ("市",)) for c in gaz.chain(code)[1:]]
            forms += [(s, SHORT) for s in short_forms(base, higher)]
        forms += [(normalize(a), ALIAS) for a in self._aliases.get(code, [])]
        keys = [tuple(frozenset(fold(r) for r in toneless(ch)) for ch in form) for form, _ in forms]
        spellings = {p for form in (d.name, base) for p in full_pinyin(form)}
        place = _Place(
            code, d.name, d.level, gaz.county_of(code), base, forms, keys, spellings, initials(d.name) | initials(base)
        )
        self._places[code] = place
        return place

    def search(
        self, query: str, limit: int = 10, *, township: str | None = None, county: str | None = None
    ) -> list[PlaceHit]:
        """Townships matching ``query`` (characters, pinyin initials, full pinyin, sound, shape, slips).

        With ``township``, that township's villages instead; ``county`` keeps only its townships.
        Best first: the characters typed, then pinyin, then sound and the other slips.
        """
        q = normalize((query or "").strip())
        if not q:
            return []
        if township:
            pool = [self._place(c) for c in self.gazetteer.children(township) if self.gazetteer.level(c) == "village"]
        else:
            pool = [p for p in self._townships if not county or p.county == county]
        scored = []
        for place in pool:
            found = self._score(place, q)
            if found is not None:
                scored.append(
                    (found[0], place.code, PlaceHit(place.code, place.name, place.level, place.county, found[1]))
                )
        scored.sort(key=lambda s: (s[0], s[1]))
        return [hit for _, _, hit in scored[:limit]]

    def _score(self, p: _Place, q: str) -> tuple[int, str] | None:
        if q.isascii():
            letters = re.sub(r"[^a-z]", "", q.lower())
            if not letters:
                return None
            if any(i.startswith(letters) for i in p.initials):
                return (10 + (letters not in p.initials), INITIALS)
            if len(letters) >= 2 and any(s.startswith(letters) for s in p.spellings):
                return (20, PINYIN)
            return None
        best = None
        for form, how in p.forms:
            if q == form:
                score = (0 if not how else 2, how)
            elif form.startswith(q):
                score = (1 if not how else 3, how)
            elif q in form and not how:
                score = (4, "")
            else:
                continue
            best = min(best or score, score)
        if best:
            return best
        base = q
        for s in WRITTEN_TOWNSHIP + ("村", "社区"):
            if q.endswith(s) and len(q) - len(s) >= 2:
                base = q[: -len(s)]
                break
        if len(base) < 2:
            return None
        if base == p.base:
            return (30, SUFFIX)
        if len(p.base) >= 3 and len(base) == len(p.base) - 1 and base in FuzzyMatcher._missing_variants(p.base):
            return (35, MISSING)
        qkeys = [{fold(r) for r in toneless(ch)} for ch in base]
        shapes = lookalikes()
        for (form, _how), keys in zip(p.forms, p.keys):
            if len(keys) >= len(base) and all(qk & k for qk, k in zip(qkeys, keys)):
                return (40, SOUND)
            if (
                len(form) >= len(base)
                and sum(a != b for a, b in zip(base, form)) == 1
                and all(a == b or b in shapes.get(a, ()) for a, b in zip(base, form))
            ):
                return (50, SHAPE)
        return None
