"""Where the business is: county, township and village, with reasons and doubts.

The business's own place counts, not the caller's: the address field first, then
the story, then the shop's name. A name that several villages share is settled only
by other evidence in the case (a county or township named, the caller's area code);
otherwise the township stays unknown and the candidates are listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder

from routing.router import fuzzy
from routing.router.gazetteer import RANK, VILLAGE_SUFFIXES, Gazetteer, Mention, normalize, strip_suffix
from routing.router.reasons import PHONE_DOUBT, PhoneReason

SOURCE_LABEL = {"address": "地址中", "text": "描述中", "name": "店名中"}

# A bare two-character name counts only when it stands like a place: the character
# before it ends a word (or a place name), the text after it is what follows places.
LEFT_OK = set("在从到去往至是于近县市区镇乡道村那这个的边住找靠临向和与及、")
RIGHT_OK = (
    "那",
    "这",
    "的",
    "有",
    "一",
    "某",
    "附近",
    "边",
    "旁",
    "门口",
    "村口",
    "口",
    "菜",
    "市场",
    "农贸",
    "集市",
    "老街",
    "街上",
    "镇上",
    "路口",
    "开",
    "卖",
    "做",
    "一带",
    "到",
    "至",
    "往",
    "方向",
    "里",
    "上",
    "片",
    "店",
    "小",
    "药",
    "农资",
    "超市",
    "便利",
    "理发",
    "美",
    "音像",
    "液化",
    "燃气",
    "客运",
    "车站",
    "地区",
    "人",
    "也",
    "还",
    "是",
    "和",
    "与",
    "及",
    "等",
    "、",
    "景",
    "中学",
    "小学",
    "学校",
    "医院",
    "码头",
    "工业",
    "广场",
    "公园",
    "东",
    "西",
    "南",
    "北",
    "中心",
    "境内",
    "辖区",
    "周边",
    "范围",
    "区域",
    "政府",
    "农村",
    "乡下",
    "本地",
    "当地",
    "居民",
    "村民",
    "海鲜",
    "夜市",
    "步行街",
    "商业",
    "一条街",
    "老",
    "集镇",
    "汽车站",
    "客运站",
    "火车站",
    "港",
    "街区",
    "坐",
    "出发",
    "上车",
    "下车",
    "玩",
    "旅游",
    "游玩",
    "逛",
    "出差",
    "办事",
    "探亲",
    "走亲戚",
)
# A name followed by these is a road or route, which the divisions do not name.
ROAD = re.compile(r"^[东西南北中]?(路|大道|大街|街(?![道上])|巷|弄|公路|省道|国道|高速)")

# The caller's home or work. 老家 (where the caller comes from) is not here: people go back
# there and shop, so a 老家 place may well be the business's.
RESIDENCE = (
    "住在",
    "家住",
    "住",
    "我家在",
    "我家",
    "居住在",
    "居住",
    "户籍在",
    "我是",
    "本人是",
    "现住",
    "现居",
    "单位在",
    "公司在",
    "上班在",
    "住址：",
    "住址:",
    "住址是",
    "住址在",
    "家庭住址",
)
# The address field said to be the caller's own: 地址（来电人住址）, （家）, 地址填的是我单位的.
ADDRESS_IS_CALLERS = re.compile(
    r"[（(]\s*(来电人|投诉人|举报人|本人|我的?)?(家|住|住址|家庭住址|住处|家里|单位|工作单位|公司|单位地址|住所|居住地)"
    r"\s*[)）]|(来电人|投诉人|举报人|本人)的?(住址|家|单位|住处|居住地)|家庭住址|^\s*(住址|家|单位|住处)\s*[:：]"
)
TEXT_SAYS_ADDRESS_IS_CALLERS = re.compile(
    r"地址[^，。！？；;]{0,8}?(是|为|填|写|留)[^，。！？；;]{0,4}?(我|本人|来电人|投诉人|自己)?的?"
    r"(家|家里|住址|住的地方|单位|公司|工作单位|上班的地方|工作的地方)"
    r"|(填|留|写)的?(是)?(我|自己|本人)?(家|家里|单位|公司|家庭)的?(地址|住址)"
)
# The caller says where they live; a shop elsewhere in the story is then not at the address.
LIVES_AT = re.compile(
    r"(我|本人|来电人|投诉人|举报人|其)(现在|目前|现)?(家)?(住|住在|家住|家在|居住在|住的是)"
    r"|家住|家在|现住|现居|住址[：:是在]|(我|本人)是[^，。！？；;]{1,8}的[，。,\s]|(我|本人)是[^，。！？；;]{1,8}人"
)
COMPARISON = ("比", "比在")
ARRIVAL = ("到了", "到达", "开到", "送到", "拉到", "开往", "前往", "去往", "驶往", "直达", "通往", "发往")
TOWARD = ("到", "去", "往", "至")
ROUTE_MARK = ("—", "→", "～", "~", "―")  # 嘉兴火车站—乌镇: a route, not an address
VEHICLE_AFTER = re.compile(r"^[^，。！？,.!?；;]{0,5}?(方向|车|巴|班|船|直达|专线|线路)")
ORIGIN_AFTER = ("到", "至", "往", "开往", "发往")
WORKPLACE_AFTER = ("打工", "上班", "工作", "上学", "读书", "务工")
# Where the caller lives, said without a division name; where the shop is, said the same way.
UNNAMED_HOME = re.compile(r"(住|住在|家在|家住)(县城|城里|市区|城区)")
UNNAMED_SHOP = re.compile(
    r"(在|去|到)(县城|城里|市区|城区|市里|外地|外省|外县|乡下|外面|别处|别的地方|别的镇|隔壁镇)"
    r"[^，。！？；;]{0,6}(一家|那家|的|买|吃|店|玩|旅游|出差|办事)"
    r"|(上班|下班|回家|放学|出门|买菜)?的?(路上|途中)|路过|经过"
)
# A shop by the caller's home or work: the address places it too. The home's neighbourhood is wider
# (镇上, 村里): a caller names their own village or town that way, not their workplace.
NEARBY_WORDS = (
    "隔壁",
    "对面",
    "楼下",
    "楼上",
    "门口",
    "旁边",
    "附近",
    "边上",
    "斜对面",
    "小区里",
    "小区内",
    "同一栋",
    "一楼",
)
NEARBY = re.compile("|".join(NEARBY_WORDS))
NEAR_HOME = re.compile(
    "|".join(NEARBY_WORDS + ("小区", "镇上", "街上", "村里", "村口", "本村", "我们村", "我们镇", "我们这"))
)
# 从海盐批发来的: where the goods came from, not where the shop is.
GOODS_FROM_AFTER = re.compile(r"^[^，。！？；;]{0,6}?(进|批发|批|运|拉|买|采购|调|发|送)(来|的|货|过来)")
# 去桥头镇医院看病: where the caller went afterwards.
AFTERWARDS_AFTER = re.compile(r"^[^，。！？；;]{0,4}?(医院|卫生院|看病|就医|就诊|派出所|报警|市场监管所|市监所|工商所)")
PERSON_AFTER = re.compile(r"^人[，。,.\s]|^人$|^本地人|^的人")  # 我是沈荡人: where a person is from
TRAVEL_BEFORE = re.compile(r"(坐|乘|搭|骑|开车|打车|坐车|乘车)[^，。！？；;]{0,12}(到|去|往|至)$")
ON_THE_WAY_AFTER = ("的路上", "路上", "方向", "途中")
VISIT_AFTER = ("玩", "旅游", "游玩", "逛", "游", "出差", "办事", "探亲", "走亲戚", "看")

# A shop's name alone is weak: shops are named after towns famous for a dish (沙县小吃).
CONF_TOWNSHIP = {
    ("address", False): 0.95,
    ("address", True): 0.9,
    ("text", False): 0.9,
    ("text", True): 0.85,
    ("name", False): 0.55,
    ("name", True): 0.55,
}
CONF_VILLAGE = {
    ("address", False): 0.85,
    ("address", True): 0.8,
    ("text", False): 0.85,
    ("text", True): 0.7,
    ("name", False): 0.55,
    ("name", True): 0.5,
}
# A landline stays in its area; a mobile only says where the SIM was registered, so it makes
# a best guess for the dispatcher but never routes a repeated village name on its own.
CONF_PHONE = {"landline": 0.75, "mobile": 0.55}
CONF_SHORT_VILLAGE = 0.55  # 安全, 国庆, 大型 are villages too: not enough to route on alone
CONF_AGAINST_LANDLINE = 0.5


@dataclass
class Location:
    """The business's place; ``candidates`` are the townships it could be when unsure."""

    county: str | None = None
    township: str | None = None
    village: str | None = None
    confidence: float = 0.0
    evidence: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    # The candidates as they were before the caller's phone narrowed them (None: it did not).
    public_candidates: list[str] | None = None
    # Why the township is only a guess for the dispatcher, even with nothing contradicting it.
    guess_only: list[str] = field(default_factory=list)
    # What the township rests on (a Group), and every place name read: for calibration's features.
    basis: object = None
    groups: list = field(default_factory=list)


@dataclass
class Group:
    """The readings of one place name at one spot in one source."""

    source: str
    text: str
    span: tuple[int, int]
    readings: list[Mention]
    role: str = "business"

    @property
    def bare(self) -> bool:
        return all(m.bare for m in self.readings)

    @property
    def top_level(self) -> str:
        return min((m.level for m in self.readings), key=RANK.get)

    def at_level(self, level: str) -> list[Mention]:
        return [m for m in self.readings if m.level == level]


def locate(
    gazetteer: Gazetteer,
    address: str | None,
    text: str | None,
    caller_phone: str | None = None,
    business_name: str | None = None,
) -> Location:
    """The business's place, from its address, the story, its name and the caller's phone."""
    groups = []
    for source, raw in (("address", address), ("text", text), ("name", business_name)):
        groups += _groups(gazetteer, source, normalize(raw))
    groups, slips = fuzzy.split_fuzzy(groups)  # names written with a slip count only if one place fits
    loc = Location(groups=groups)
    _set_aside_callers_address(gazetteer, groups, normalize(address), normalize(text), loc)
    counties = _county_evidence(gazetteer, groups, loc)
    kept, reasons, doubts = fuzzy.fit_fuzzy(
        gazetteer, slips, groups, counties, lambda: _phone_counties(gazetteer, caller_phone), SOURCE_LABEL
    )
    groups += kept
    loc.evidence += reasons
    _note_ignored(groups, loc)
    if not _settle_township(gazetteer, groups, counties, caller_phone, loc):
        _settle_by_village(gazetteer, groups, counties, caller_phone, loc)
    if doubts and loc.township is None and not loc.problems:
        problem, candidates = fuzzy.doubt_problem(gazetteer, doubts)
        loc.problems.append(problem)
        rest = [c for c in loc.candidates if c not in candidates]
        loc.candidates = candidates + rest
        public = fuzzy.public_candidates(gazetteer, doubts)
        if public != candidates:
            loc.public_candidates = public + [c for c in rest if c not in public]
    _fill_rest(gazetteer, groups, counties, loc)
    return loc


# --- finding and reading the place names ---------------------------------------


def _groups(gaz: Gazetteer, source: str, text: str) -> list[Group]:
    by_span: dict[tuple[int, int], list[Mention]] = {}
    for m in gaz.find(text):
        by_span.setdefault(m.span, []).append(m)
    ends = {s[1] for s in by_span}
    starts = {s[0] for s in by_span}
    groups = []
    for span, readings in by_span.items():
        g = Group(source, text[span[0] : span[1]], span, readings)
        if not _stands_as_place(g, text, ends):
            continue
        if source in ("text", "address"):
            g.role = _role(text, _chain_start(span, ends, by_span), _chain_end(span, starts, by_span))
        groups.append(g)
    return groups


def _stands_as_place(g: Group, text: str, ends: set[int]) -> bool:
    start, end = g.span
    after = text[end : end + 4]
    if ROAD.match(after) and g.top_level in ("township", "village"):
        return False
    if not g.bare or g.top_level in ("province", "city", "county") or len(g.text) >= 3:
        return True
    before = text[start - 1] if start else ""
    left_ok = start == 0 or start in ends or not _is_cjk(before)
    if g.source == "name":
        return left_ok
    if g.source == "address":
        return left_ok or before in LEFT_OK
    right_ok = not after or not _is_cjk(after[0]) or after.startswith(RIGHT_OK)
    if before in "在从" and g.top_level == "township":
        return True  # 在连岛大沙湾: a township after 在 is a place whatever follows
    return (left_ok or before in LEFT_OK) and right_ok


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _chain_start(span, ends, by_span) -> int:
    """Where a run of adjacent place names (永嘉县瓯北街道) begins."""
    start = span[0]
    while start in ends:
        start = next(s[0] for s in by_span if s[1] == start)
    return start


def _chain_end(span, starts, by_span) -> int:
    end = span[1]
    while end in starts:
        end = next(s[1] for s in by_span if s[0] == end)
    return end


def _role(text: str, start: int, end: int) -> str:
    """Whether a place in the story is the business's, or the caller's home, a comparison, a route end, a name."""
    before, after = text[max(0, start - 4) : start], text[end : end + 8]
    if (
        before.endswith(RESIDENCE)
        or after.startswith(WORKPLACE_AFTER)
        or (before.endswith("是") and PERSON_AFTER.match(after))
    ):
        return "residence"
    if before.endswith(COMPARISON):
        return "comparison"
    if _quoted_name(text, start, end):
        return "name"
    if (
        before.endswith(ARRIVAL + ROUTE_MARK)
        or (before.endswith(TOWARD) and VEHICLE_AFTER.match(after))
        or TRAVEL_BEFORE.search(text[max(0, start - 16) : start])
        or (before.endswith(TOWARD) and after.startswith(ON_THE_WAY_AFTER))
    ):
        return "destination"
    if before.endswith("从") and GOODS_FROM_AFTER.match(after):
        return "supply"
    if before.endswith(("去", "到", "在")) and AFTERWARDS_AFTER.match(after):
        return "afterwards"
    if after.startswith(ORIGIN_AFTER + ROUTE_MARK) or before.endswith("从"):
        return "origin"
    return "business"


def _quoted_name(text: str, start: int, end: int) -> bool:
    """A place inside quotation marks with more after it (“沈荡酱油”, “永嘉麦饼”): part of a name."""
    opening = max(text.rfind(q, 0, start) for q in '“"「『')
    if opening < 0 or start - opening > 1:
        return False
    closing = min((i for i in (text.find(q, end) for q in '”"」』') if i >= 0), default=-1)
    return closing > end and closing - end <= 8


# --- counties ------------------------------------------------------------------


def _county_evidence(gaz: Gazetteer, groups: list[Group], loc: Location) -> set[str]:
    """Counties the case names for the business (address first); empty if none.

    A story that puts the business in a county other than the address's is a contradiction.
    """
    found = {source: _counties_named(gaz, groups, source) for source in ("address", "text")}
    for source in ("address", "text"):
        sets, names = found[source]
        if not sets:
            continue
        common = set.intersection(*sets)
        if not common:
            loc.problems.append(f"{SOURCE_LABEL[source]}提到不同的县市：{'、'.join(dict.fromkeys(names))}")
            return set.union(*sets)
        loc.evidence.append(
            f"{SOURCE_LABEL[source]}'{'、'.join(dict.fromkeys(names))}' → "
            + "、".join(gaz.name(c) for c in sorted(common))
        )
        other_sets, other_names = found["text"] if source == "address" else ([], [])
        if other_sets and not common & set.union(*other_sets):
            loc.problems.append(
                f"矛盾：地址在{'、'.join(gaz.name(c) for c in sorted(common))}，"
                f"描述中却说是{'、'.join(dict.fromkeys(other_names))}"
            )
        return common
    return set()


def _counties_named(gaz: Gazetteer, groups: list[Group], source: str):
    """The county sets, and the names, of the counties (or cities) one source names for the business."""
    sets, names = [], []
    for g in groups:
        if g.source == source and g.role in ("business", "origin") and RANK[g.top_level] <= RANK["county"]:
            sets.append(gaz.counties_under(g.at_level(g.top_level)[0].code))
            names.append(g.text)
    return sets, names


def _reading(g: Group, counties: set[str], gaz: Gazetteer) -> list[Mention]:
    """The readings of a name below county level that fit the counties named."""
    readings = [m for m in g.readings if RANK[m.level] > RANK["county"]]
    if counties:
        fitting = [m for m in readings if gaz.county_of(m.code) in counties]
        if fitting or g.bare:
            readings = fitting
    return readings


# --- townships -----------------------------------------------------------------


def _township_groups(gaz, groups, counties, source, roles=("business", "origin")):
    """{township: group} for names read as townships in one source."""
    found: dict[str, Group] = {}
    for g in groups:
        if g.source != source or g.role not in roles or RANK[g.top_level] <= RANK["county"]:
            continue
        towns = [m for m in _reading(g, counties, gaz) if m.level == "township"]
        if len(towns) == 1:
            found.setdefault(towns[0].code, g)
    return found


def _drop_shadowed(gaz, found: dict[str, Group], named: set[str]) -> dict[str, Group]:
    """A bare name that is also a village of another township named (凤鸣 in 梧桐街道) is that village."""
    return {
        t: g
        for t, g in found.items()
        if not (g.bare and any(m.level == "village" and gaz.township_of(m.code) in named - {t} for m in g.readings))
    }


def _settle_township(gaz: Gazetteer, groups, counties, phone, loc: Location) -> bool:
    """Pick the township the case names; False if it names none."""
    towns = {src: _township_groups(gaz, groups, counties, src) for src in SOURCE_LABEL}
    named = set(towns["address"]) | set(towns["text"])
    towns = {src: _drop_shadowed(gaz, found, named) for src, found in towns.items()}
    chosen = _first_source_naming(gaz, groups, counties, towns, loc)
    if chosen is None:  # a line between two townships
        return True
    if not chosen:
        # Perhaps near the caller's home or work: a guess for the dispatcher, never a route.
        loc.candidates = list(_township_groups(gaz, groups, counties, "text", ("residence",)))
        return False
    if len(chosen) > 1:
        loc.problems.append(f"提到{len(chosen)}个乡镇（{_names(gaz, chosen)}），无法确定店在哪一个")
        loc.candidates = list(chosen)
        return True
    ((town, g),) = chosen.items()
    extra = [t for t, x in towns["text"].items() if x.role == "business" and t != town]
    if g.source == "address" and not extra:
        extra = _villages_elsewhere(gaz, town, groups, counties)
    if g.source == "address" and extra:
        loc.problems.append(f"矛盾：地址是{gaz.name(town)}，描述中却是{_names(gaz, extra)}")
        loc.candidates = [town] + extra
    _check_village_fits(gaz, town, g, groups, loc)
    _check_bare_township(gaz, town, g, counties, groups, loc)
    loc.township, loc.basis = town, g
    loc.confidence = CONF_TOWNSHIP[(g.source, g.bare)] - (0.05 if g.role == "origin" else 0)
    loc.evidence.append(f"{SOURCE_LABEL[g.source]}'{g.text}' → {gaz.name(town)}")
    if g.bare and g.source != "address":
        _check_landline(gaz, town, g, phone, loc)
    elif not counties:
        _check_landline_city(gaz, town, phone, loc)
    return True


def _villages_elsewhere(gaz: Gazetteer, town: str, groups, counties) -> list[str]:
    """Townships of villages the story names for the business (written out: X村) that are not in ``town``."""
    out = []
    for x in groups:
        if x.source != "text" or x.role != "business" or x.bare:
            continue
        villages = [m for m in _reading(x, counties, gaz) if m.level == "village"]
        if (
            villages
            and len(villages) == len([m for m in x.readings if RANK[m.level] > RANK["county"]])
            and not any(gaz.township_of(m.code) == town for m in villages)
        ):
            out += [t for m in villages if (t := gaz.township_of(m.code)) not in out]
    return out


def _check_village_fits(gaz: Gazetteer, town: str, g: Group, groups, loc: Location) -> None:
    """A village written out right after the township (王店镇梅园村) that is not one of its villages."""
    for x in groups:
        if x.source != g.source or x.span[0] != g.span[1] or x.bare:
            continue
        villages = x.at_level("village")
        if villages and len(villages) == len(x.readings) and not any(gaz.township_of(m.code) == town for m in villages):
            elsewhere = "、".join(dict.fromkeys(gaz.name(gaz.township_of(m.code)) for m in villages))
            loc.problems.append(f"矛盾：{gaz.name(town)}没有'{x.text}'（{elsewhere}才有）")
            loc.candidates = [town] + [t for m in villages if (t := gaz.township_of(m.code)) != town]


def _check_bare_township(gaz: Gazetteer, town: str, g: Group, counties, groups, loc: Location) -> None:
    """A township written without its suffix (马桥) that is also a village of another township:
    unless the case names something else of the township, a dispatcher cannot tell which is meant."""
    if not g.bare:
        return
    villages = [m for m in _reading(g, counties, gaz) if m.level == "village" and gaz.township_of(m.code) != town]
    if not villages:
        return
    others = {gaz.township_of(m.code) for m in villages}
    if any(
        x is not g
        and x.role in ("business", "origin")
        and any(gaz.township_of(m.code) == town for m in x.readings if m.level == "village")
        and not any(gaz.township_of(m.code) in others for m in x.readings)
        for x in groups
    ):
        return  # a village of the township is named too
    loc.problems.append(f"'{g.text}'既是{gaz.name(town)}，也是{_names(gaz, sorted(others))}的村/社区名，无法确定")
    loc.candidates = [town] + sorted(others)


def _first_source_naming(gaz, groups, counties, towns, loc: Location) -> dict[str, Group] | None:
    """The townships named for the business by the address, else the story, else the shop's name.

    A place a vehicle only starts from counts when no other is named, unless the line
    runs to another township: then where the vehicle is based is not said.
    """
    for source in SOURCE_LABEL:
        business = {t: g for t, g in towns[source].items() if g.role == "business"}
        origins = {t: g for t, g in towns[source].items() if g.role == "origin"}
        ends = [t for t in _township_groups(gaz, groups, counties, source, ("destination",)) if t not in origins]
        if not business and origins and ends:
            loc.problems.append(f"说的是{_names(gaz, list(origins) + ends)}之间的线路，没说车在哪里经营")
            loc.candidates = list(origins) + ends
            return None
        if business or origins:
            return business or origins
    return {}


def _check_landline(gaz: Gazetteer, town: str, g: Group, phone, loc: Location) -> None:
    """A bare name (桥头, 大桥) far from where the caller's landline is may be an ordinary word."""
    region = _phone_counties(gaz, phone)
    if region and region[0] == "landline" and gaz.county_of(town) not in region[3]:
        loc.confidence = min(loc.confidence, CONF_AGAINST_LANDLINE)
        loc.evidence.append(
            PhoneReason(f"来电区号{region[1]}在{region[2]}，与'{g.text}'（{gaz.name(town)}）不符，可能不是地名")
        )


def _set_aside_callers_address(gaz: Gazetteer, groups: list[Group], address: str, text: str, loc: Location) -> None:
    """The address field is the caller's home or work when the case says so, or when the story says
    where the caller lives, that is the address, and the shop is somewhere else in the story.

    A shop next to or opposite the caller's home or work is still placed by that address.
    """
    address_groups = [g for g in groups if g.source == "address"]
    if not address_groups:
        return
    said = ADDRESS_IS_CALLERS.search(address) or TEXT_SAYS_ADDRESS_IS_CALLERS.search(text)
    address_towns = {gaz.township_of(m.code) for g in address_groups for m in g.readings} - {None}
    named_elsewhere = any(
        g.source == "text"
        and g.role == "business"
        and not _same_place(g, address_groups)
        and (
            g.top_level in ("township", "county")
            or (address_towns and not g.bare and not any(gaz.township_of(m.code) in address_towns for m in g.readings))
        )
        for g in groups
    )
    if not said:
        home = {m.code for g in groups if g.source == "text" and g.role == "residence" for m in g.readings}
        home_is_address = any(m.code in home for g in address_groups for m in g.readings) or (
            not home and UNNAMED_HOME.search(text)
        )
        if not (LIVES_AT.search(text) and home_is_address):
            return
        if not (named_elsewhere or UNNAMED_SHOP.search(text)):
            if not NEAR_HOME.search(text):  # the address is where the caller lives; of the shop, nothing
                loc.guess_only.append("地址是来电人的住处，描述没有说店在哪里")
            return
    elif not named_elsewhere and NEARBY.search(text):
        loc.evidence.append("地址栏是来电人的住址或单位，店就在它附近")
        return
    for g in address_groups:
        g.role = "residence"
    loc.evidence.append("地址栏填的是来电人的住址或单位，按描述中店的位置")


def _same_place(g: Group, others: list[Group]) -> bool:
    return any(m.code == o.code for x in others for o in x.readings for m in g.readings)


def _check_landline_city(gaz: Gazetteer, town: str, phone, loc: Location) -> None:
    """A township named without its county, by a caller whose landline is in another of our cities:
    the same township name is common, and a landline stays where it is, so ask a dispatcher."""
    region = _phone_counties(gaz, phone)
    if region and region[0] == "landline" and region[3] and gaz.county_of(town) not in region[3]:
        loc.guess_only.append(
            PhoneReason(
                f"来电区号{region[1]}在{region[2]}，而{gaz.name(town)}在{gaz.name(gaz.county_of(town))}，未说明县市",
                PHONE_DOUBT,
            )
        )


def _note_ignored(groups, loc: Location) -> None:
    why = {
        "residence": "是来电人住或工作的地方",
        "comparison": "只是比较",
        "destination": "是线路的去向",
        "name": "是店名或商品名的一部分",
        "supply": "是货的来源",
        "afterwards": "是来电人后来去的地方",
    }
    for g in groups:
        if g.role in why:
            loc.evidence.append(f"{SOURCE_LABEL[g.source]}'{g.text}'{why[g.role]}，不是店的位置")


def _names(gaz: Gazetteer, codes) -> str:
    return "、".join(gaz.name(c) for c in codes)


# --- villages ------------------------------------------------------------------


def _village_sets(gaz, groups, counties, source) -> list[tuple[Group, set[str]]]:
    out = []
    for g in groups:
        if g.source != source or g.role not in ("business", "origin") or RANK[g.top_level] <= RANK["county"]:
            continue
        villages = [m for m in _reading(g, counties, gaz) if m.level == "village"]
        if villages and not any(m.level == "township" for m in _reading(g, counties, gaz)):
            out.append((g, {gaz.township_of(m.code) for m in villages}))
    return out


def _check_named_like_a_township(gaz: Gazetteer, town: str, g: Group, loc: Location) -> None:
    """A community named like another township (西塘社区, but 西塘镇 is elsewhere): the caller may mean
    a community of that township, so the village alone is a guess for the dispatcher."""
    base = strip_suffix(g.text, VILLAGE_SUFFIXES)
    rivals = {m.code for m in gaz.find(base) if m.level == "township" and m.code != town and m.span == (0, len(base))}
    if rivals:
        loc.guess_only.append(f"'{g.text}'与{_names(gaz, sorted(rivals))}同名，也可能是那里的村/社区")
        loc.candidates = [town] + sorted(rivals)


def _settle_by_village(gaz: Gazetteer, groups, counties, phone, loc: Location) -> None:
    """A township from the villages named, narrowed by the counties and the caller's phone."""
    found = []
    for source in ("address", "text", "name"):
        found = _village_sets(gaz, groups, counties, source)
        if found:
            break
    if not found:
        return
    towns = set.intersection(*(s for _, s in found)) or set.union(*(s for _, s in found))
    g = found[0][0]
    conf = CONF_VILLAGE[(g.source, g.bare)] - (0.05 if counties else 0)
    if g.bare and len(g.text) == 2 and g.source != "address":
        conf = min(conf, CONF_SHORT_VILLAGE)
        loc.evidence.append(f"'{g.text}'只是两个字的村名，也可能是普通词语，需人工确认")
    named = "、".join(dict.fromkeys(x.text for x, _ in found))
    before_phone = towns
    if len(towns) > 1:
        narrowed, how = _narrow_by_phone(gaz, towns, phone)
        if narrowed and len(narrowed) < len(towns):
            towns, conf = narrowed, min(conf, CONF_PHONE[how[0]])
            loc.evidence.append(how[1])
            if how[0] == "mobile":  # a SIM's region is where it was bought, not where the caller is
                loc.guess_only.append(PhoneReason("重名村只凭手机号归属地确定，需人工确认", PHONE_DOUBT))
    if len(towns) == 1:
        _check_named_like_a_township(gaz, next(iter(towns)), g, loc)
        loc.township, loc.basis = towns.pop(), g
        loc.confidence = conf
        loc.evidence.append(f"{SOURCE_LABEL[g.source]}'{named}' → {gaz.name(loc.township)}")
        return
    loc.candidates = sorted(towns)
    problem = _many_villages(gaz, named, found, towns)
    if towns != before_phone:  # the places left tell where the caller's number is from
        problem = PhoneReason(problem, _many_villages(gaz, named, found, before_phone))
        loc.public_candidates = sorted(before_phone)
    loc.problems.append(problem)


def _many_villages(gaz: Gazetteer, named: str, found, towns: set[str]) -> str:
    places = "、".join(
        gaz.full_name(m.code)
        for x, _ in found
        for m in x.readings
        if m.level == "village" and gaz.township_of(m.code) in towns
    )
    return f"'{named}'有{len(towns)}处：{places}，案件中没有别的线索能确定是哪一个"


@lru_cache(maxsize=20000)
def phone_region(phone: str | None) -> tuple[str, str, str] | None:
    """(kind, area-code label, region) a caller's number tells, e.g. ('landline', '0577', '浙江省温州市')."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return None
    region = geocoder.description_for_number(number, "zh")
    if not region or region == "中国":
        return None
    national = str(number.national_number)
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return "mobile", national[:7], region
    length = phonenumbers.length_of_geographical_area_code(number)
    return "landline", "0" + national[:length], region


def _phone_counties(gaz: Gazetteer, phone: str | None):
    """(kind, label, region, counties) for the most specific region the caller's number names."""
    region = phone_region(phone)
    places = gaz.find(region[2]) if region else []
    if not places:
        return None
    finest = max(places, key=lambda m: RANK[m.level])
    return (*region, gaz.counties_under(finest.code))


def _narrow_by_phone(gaz: Gazetteer, towns: set[str], phone: str | None):
    """The towns in the caller's phone region, and what to say about it."""
    region = _phone_counties(gaz, phone)
    if region is None:
        return None, None
    kind, label, place, counties = region
    narrowed = {t for t in towns if gaz.county_of(t) in counties}
    what = f"来电区号{label}" if kind == "landline" else f"来电手机号{label}归属地"
    return narrowed, (kind, PhoneReason(f"{what} → {place}，只剩{_names(gaz, sorted(narrowed))}"))


# --- county and village --------------------------------------------------------


def _fill_rest(gaz: Gazetteer, groups, counties, loc: Location) -> None:
    if loc.township:
        loc.county = gaz.county_of(loc.township)
        if counties and loc.county not in counties:
            loc.problems.append(f"矛盾：提到的县市与{gaz.name(loc.township)}（{gaz.name(loc.county)}）不符")
            loc.candidates = loc.candidates or [loc.township]
        loc.village = _village_in(gaz, groups, loc.township)
        if loc.village:
            loc.evidence.append(f"村/社区：{gaz.name(loc.village)}")
    else:
        pool = {gaz.county_of(t) for t in loc.candidates} if loc.problems else counties
        loc.county = next(iter(pool)) if len(pool) == 1 else None
        if not loc.problems:
            where = gaz.name(loc.county) if loc.county else "案件"
            loc.problems.append(f"{where}中没有能确定乡镇的地名（道路、景点、'县城'等不算）")
    if loc.problems:
        loc.confidence = min(loc.confidence, 0.3)


def _village_in(gaz: Gazetteer, groups, township: str) -> str | None:
    """The one village of the township the case names, written out in full if possible."""
    best = None
    for g in groups:
        if g.role not in ("business", "origin"):
            continue
        here = [m for m in g.readings if m.level == "village" and gaz.parent(m.code) == township]
        if len(here) == 1 and not here[0].bare:
            return here[0].code
        if len(here) == 1:
            best = best or here[0].code
    return best
