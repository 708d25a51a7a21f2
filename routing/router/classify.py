"""Which of the ten small industries a case is about, from a weighted vocabulary.

The vocabulary is data (intake/reference/industry_terms.csv): rows of term, industry,
weight. The case is about the business complained of, not every trade its story
mentions, so each word is weighed by whose it is:
- the subject: the business's own name (``name_factor`` times a word of the story), a
  shop named as 这家/那家/一家…, the place the complainant bought or ate at (在…买的),
  …的老板/店里, and a trade's own goods it is said to sell (小卖部卖农药): ``SUBJECT``;
- incidental: a landmark (菜场门口), a neighbour (旁边就是小卖部), a customer or outlet
  (批发给周边小吃店, 拉到菜场去卖), several or other shops (多家小饭店), a supplier
  (从作坊进的货, 是食品厂送来的) or a comparison (比药店贵): ``MINOR``, and named in
  ``Classification.incidental`` so that a reason can say why it was set aside;
- plain: anything else.
Two trades both well attested and close in weight are equally the subject (a snack bar
keeping LPG cylinders): ``Classification.ambiguous`` names both, and the router sends
the case to triage.
A weight of 0 marks a neutral phrase that only shields the shorter words inside it
(医药费 is not a pharmacy).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import ahocorasick

from routing.router.files import read_industry_names
from routing.router.gazetteer import longest_matches, normalize

# Where a word stands says whose it is. A shop the complainant bought from, ate at or
# names with 这家/一家 is the subject; a supplier (从作坊进的), a customer or outlet
# (卖给小饭店, 拉到菜场去卖), a landmark (菜场门口), a neighbour (旁边是小卖部) and a
# comparison (比药店贵) are only mentioned. Clauses end at these marks.
_C = r"[^，,。！!？?；;\s]"
LANDMARK_AFTER = re.compile(r"^(的)?(边上|旁边|附近|对面|门口|隔壁|周边|周围|边|外面|楼上|楼下)")
NEIGHBOUR_BEFORE = re.compile(
    r"(旁边就是|旁边是|隔壁就是|隔壁是|对面就是|对面是|边上就是|边上是)"
    r"(一家|一个|家|个)?$"
)
CUSTOMER_BEFORE = re.compile(
    r"(卖给|批发给|供应给|供货给|送到|送往|送给|拉到|拉去|拿到|拿去|运到|运往|销往|卖到|供给)" + _C + r"{0,12}$"
)
CUSTOMER_AFTER = re.compile(r"^" + _C + r"{0,3}(供气|供货|送货|配送|进货)")
# 向…出售 / 给…供应: the one after 向 is the buyer.
BUYER_BEFORE = re.compile(r"(向|给|为)" + _C + r"{0,12}$")
BUYER_AFTER = re.compile(r"^" + _C + r"{0,6}(出售|销售|推销|兜售|供应|卖)")
SUPPLIER_BEFORE = re.compile(r"(从|由|向|找)" + _C + r"{0,10}$")
# 在…进的货 is a supplier too, but 在药店买的药 is where the complainant bought
RESTOCK_BEFORE = re.compile(r"在" + _C + r"{0,10}$")
RESTOCK_AFTER = re.compile(r"^(那里|那儿|那边|处)?" + _C + r"{0,4}(进的|进了|进来|进货|批发来|批来|拿的货|拿货|购进)")
SUPPLIER_AFTER = re.compile(
    r"^(那里|那儿|那边|处)?" + _C + r"{0,4}(进的|进了|进来|进货|批发来|批来|拿的货|拿来|拿货|"
    r"采购|订的|买来|买的|买了|买药|购买|购进)"
)
MADE_BY_BEFORE = re.compile(r"(是|由|从)" + _C + r"{0,8}$")  # 豆浆是外面作坊做的
MADE_BY_AFTER = re.compile(r"^(生产的|加工的|做的|出的|供的货|供应的|送来的|送的货|批发来的|批来的)")
COMPARE_BEFORE = re.compile(r"(比|像|跟|和|同|不如|好过)" + _C + r"{0,6}$")
COMPARE_AFTER = re.compile(r"^" + _C + r"{0,4}(贵|便宜|一样|差不多|还要|还贵|高出|低)")
# Several or other businesses (多家小饭店, 周边菜场, 其他饭店) are never the one complained of.
OTHERS_BEFORE = re.compile(r"(多家|几家|好几家|几个|各家|各个|周边|周边的|周围的|其他|其它|别的|别家)$")
# What the subject sells or does: a trade's own goods after 卖/销售/倒 (小卖部卖农药).
SELLS_BEFORE = re.compile(r"(卖|出售|销售|兜售|经营|倒|充装|灌装)" + _C + r"{0,3}$")
# The subject: named with a demonstrative or 一家, or the place of buying or eating.
SUBJECT_BEFORE = re.compile(
    r"(这家|那家|该|这个|那个|这间|那间|一家|有家|有个|一个|一间|有间|那一家|这一家)" + _C + r"{0,6}$"
)
AT_BEFORE = re.compile(r"(在|到|去)" + _C + r"{0,12}$")
AT_AFTER = re.compile(
    r"^" + _C + r"{0,12}(买|购|吃|喝|消费|就餐|用餐|理发|剪发|烫|染|做了|办了|办卡|充值|乘坐|坐了|坐车|换气)"
)
OWNER_AFTER = re.compile(
    r"^(的)?(老板|老板娘|店主|摊主|店家|店员|服务员|经营者|店里|店内|里面|里头|卖的|售卖的|出售的)"
)
# A word that names a kind of business (小吃店, 作坊, 菜场), not goods or acts.
BUSINESS_SUFFIX = tuple("店摊馆坊部铺场厂点行站所室社院车")
MINOR = 0.3  # what an incidental word still counts
SUBJECT = 1.5  # what a word naming the subject counts
AMBIGUOUS_SHARE = 0.6  # a rival with this share of the leader's weight, both attested: triage
STRONG_WORD = 2.0  # a word this heavy, not incidental, says by itself what the business is
INCIDENTAL = {
    "landmark": "地标",
    "neighbour": "邻近的店",
    "customer": "销售对象",
    "supplier": "进货来源",
    "comparison": "比较对象",
    "others": "别的店",
}
FACTOR = {"subject": SUBJECT, "plain": 1.0, **{role: MINOR for role in INCIDENTAL}}


@dataclass
class Classification:
    """The industry (None if the case never says), 0..1 confidence, (term, industry, weight) evidence.

    ``ambiguous`` names two industries when both are equally the business complained of
    (a snack bar keeping LPG cylinders); ``incidental`` lists (term, industry, role) for
    words that name some other business (a supplier, a customer, a landmark, a
    comparison), and ``rivals`` the other industries still in the running.
    """

    industry: str | None
    confidence: float
    evidence: list[tuple[str, str, float]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    ambiguous: list[str] = field(default_factory=list)
    rivals: list[str] = field(default_factory=list)
    incidental: list[tuple[str, str, str]] = field(default_factory=list)


def _fold(text: str | None) -> str:
    """Simplified characters, half-width letters, lower case."""
    return unicodedata.normalize("NFKC", normalize(text)).lower()


def names_a_business(term: str) -> bool:
    """A word for a kind of business (小吃店, 作坊, 菜场), not for goods or acts."""
    return term.endswith(BUSINESS_SUFFIX)


class Classifier:
    """Scores each industry by the vocabulary words a case uses, weighed by whose they are."""

    def __init__(
        self, terms, name_factor: float = 2.0, min_score: float = 1.0, strong_score: float = 3.0, industries=None
    ):
        """``industries``: the codes a submitter's hint may name (default: industries.csv's)."""
        self.name_factor = name_factor
        self.min_score = min_score
        self.strong_score = strong_score
        table: dict[str, list[tuple[str, float]]] = {}
        for row in terms:
            term, industry, weight = (row["term"], row["industry"], row["weight"]) if isinstance(row, dict) else row[:3]
            key = _fold(term.strip())
            if key:
                table.setdefault(key, []).append((industry, float(weight)))
        if industries is None:
            industries = read_industry_names()
        self.industries = frozenset(industries)
        self._automaton = ahocorasick.Automaton()
        for key, entries in table.items():
            self._automaton.add_word(key, (key, tuple(entries)))
        self._automaton.make_automaton()

    def classify(self, text: str | None, business_name: str | None = None, hint: str | None = None) -> Classification:
        """The industry with most weight, its confidence in 0..1, and the words behind it."""
        best: dict[tuple[str, str], float] = {}
        strong: dict[str, float] = {}  # industry -> its heaviest word that is not incidental
        named: set[str] = set()  # industries of the words that name the subject
        incidental: dict[tuple[str, str], str] = {}
        for source, in_name in ((business_name, True), (text, False)):
            for term, industry, weight, role in self._terms(_fold(source)):
                key = (term, industry)
                # the business's own name is the subject: name_factor says how much more it counts
                w = weight * self.name_factor if in_name else weight * FACTOR[role]
                if role in INCIDENTAL:
                    if key not in best:
                        incidental[key] = role
                else:
                    incidental.pop(key, None)
                if in_name or role == "subject":
                    named.add(industry)
                if role not in INCIDENTAL:
                    strong[industry] = max(strong.get(industry, 0.0), w)
                best[key] = max(best.get(key, 0.0), w)
        if hint in self.industries:
            best[("投诉人所选行业", hint)] = 2.0
        scores: dict[str, float] = {}
        for (_, industry), w in best.items():
            scores[industry] = scores.get(industry, 0.0) + w
        evidence = sorted(((t, i, round(w, 2)) for (t, i), w in best.items() if w > 0), key=lambda e: -e[2])
        mentioned = [(t, i, r) for (t, i), r in incidental.items()]
        if not scores or max(scores.values()) < self.min_score:
            return Classification(None, 0.0, evidence, scores, incidental=mentioned)
        # on equal weight, the trade of the business named as the subject leads (小店卖的地沟油)
        ranked = sorted(scores, key=lambda k: (-scores[k], k not in named))
        top = ranked[0]
        share = scores[top] / sum(scores.values())
        confidence = share * min(1.0, scores[top] / self.strong_score)
        rivals = [r for r in ranked[1:] if scores[r] >= MINOR * scores[top]]
        ambiguous = []
        # 'other' is no rival trade: a chain's tea shop is simply not one of the ten
        if (
            rivals
            and "other" not in (top, rivals[0])
            and scores[rivals[0]] >= AMBIGUOUS_SHARE * scores[top]
            and min(strong.get(top, 0.0), strong.get(rivals[0], 0.0)) >= STRONG_WORD
        ):
            ambiguous = [top, rivals[0]]
        return Classification(top, round(confidence, 3), evidence, scores, ambiguous, rivals, mentioned)

    def _terms(self, text: str):
        """(term, industry, weight, role) for each word found, longest words first."""
        for (start, end), key, entries in longest_matches(self._automaton, text):
            role = None
            for industry, weight in entries:
                if weight > 0:
                    role = role or self._role(text, start, end, key, weight)
                    yield key, industry, weight, role

    @staticmethod
    def _role(text: str, start: int, end: int, term: str, weight: float) -> str:
        """Whose word this is: the subject's, plain, or an incidental business's (INCIDENTAL)."""
        before = text[max(0, start - 14) : start]
        after = text[end : end + 14]
        if LANDMARK_AFTER.match(after):
            return "landmark"
        if NEIGHBOUR_BEFORE.search(before):
            return "neighbour"
        if names_a_business(term) and OTHERS_BEFORE.search(before):
            return "others"
        if (
            CUSTOMER_BEFORE.search(before)
            or CUSTOMER_AFTER.match(after)
            or (BUYER_BEFORE.search(before) and BUYER_AFTER.match(after))
        ):
            return "customer"
        if (
            (MADE_BY_BEFORE.search(before) and MADE_BY_AFTER.match(after))
            or (SUPPLIER_BEFORE.search(before) and SUPPLIER_AFTER.match(after))
            or (RESTOCK_BEFORE.search(before) and RESTOCK_AFTER.match(after))
        ):
            return "supplier"
        if COMPARE_BEFORE.search(before) and COMPARE_AFTER.match(after):
            return "comparison"
        if names_a_business(term) and (
            SUBJECT_BEFORE.search(before)
            or OWNER_AFTER.match(after)
            or (AT_BEFORE.search(before) and AT_AFTER.match(after))
        ):
            return "subject"
        if weight >= STRONG_WORD and not names_a_business(term) and SELLS_BEFORE.search(before):
            return "subject"
        return "plain"
