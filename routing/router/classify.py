"""Which of the ten small industries a case is about, from a weighted vocabulary.

The vocabulary is data (intake/reference/industry_terms.csv): rows of term, industry,
weight. Words in the business's name count ``name_factor`` times as much as words in
the story. A word that only names a landmark (菜场门口), a neighbour (旁边就是小卖部)
or a customer (批发给周边小吃店) counts for little.
A weight of 0 marks a neutral phrase that only shields the shorter words inside it
(医药费 is not a pharmacy).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import ahocorasick

from routing.router.gazetteer import longest_matches, normalize

INDUSTRIES = {
    "food_processing": "食品加工小作坊", "grocery": "小食杂店", "restaurant": "小餐饮店",
    "pharmacy": "小药店", "farm_inputs": "小农资店", "vegetable_market": "小菜场",
    "audio_video": "小音像店", "beauty_salon": "小美容美发店", "passenger_transport": "小客运",
    "lpg_supply": "小液化气供应点", "other": "十小以外的行业",
}

LANDMARK_AFTER = re.compile(r"^(的)?(边上|旁边|附近|对面|门口|隔壁|周边|周围|边)")
NEIGHBOUR_BEFORE = re.compile(r"(旁边就是|旁边是|隔壁就是|隔壁是|对面就是|对面是|边上就是|边上是)$")
CUSTOMER_BEFORE = re.compile(r"(卖给|批发给|供应给|供货给|送到|拉到|销往|卖到|供给)[^，。！？；]{0,10}$")
CUSTOMER_AFTER = re.compile(r"^[^，。！？；]{0,3}(供气|供货|送货|配送|进货)")
MINOR = 0.3  # what a landmark, neighbour or customer word still counts


@dataclass
class Classification:
    """The industry (None if the case never says), 0..1 confidence, (term, industry, weight) evidence."""
    industry: str | None
    confidence: float
    evidence: list[tuple[str, str, float]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def _fold(text: str | None) -> str:
    """Simplified characters, half-width letters, lower case."""
    return unicodedata.normalize("NFKC", normalize(text)).lower()


class Classifier:
    """Scores each industry by the vocabulary words a case uses."""

    def __init__(self, terms, name_factor: float = 2.0, min_score: float = 1.0,
                 strong_score: float = 3.0):
        self.name_factor = name_factor
        self.min_score = min_score
        self.strong_score = strong_score
        table: dict[str, list[tuple[str, float]]] = {}
        for row in terms:
            term, industry, weight = (row["term"], row["industry"], row["weight"]) \
                if isinstance(row, dict) else row[:3]
            key = _fold(term.strip())
            if key:
                table.setdefault(key, []).append((industry, float(weight)))
        self._automaton = ahocorasick.Automaton()
        for key, entries in table.items():
            self._automaton.add_word(key, (key, tuple(entries)))
        self._automaton.make_automaton()

    def classify(self, text: str | None, business_name: str | None = None,
                 hint: str | None = None) -> Classification:
        """The industry with most weight, its confidence in 0..1, and the words behind it."""
        best: dict[tuple[str, str], float] = {}
        for source, factor in ((business_name, self.name_factor), (text, 1.0)):
            for term, industry, weight in self._terms(_fold(source)):
                key = (term, industry)
                best[key] = max(best.get(key, 0.0), weight * factor)
        if hint in INDUSTRIES:
            best[("投诉人所选行业", hint)] = 2.0
        scores: dict[str, float] = {}
        for (_, industry), w in best.items():
            scores[industry] = scores.get(industry, 0.0) + w
        evidence = sorted(((t, i, round(w, 2)) for (t, i), w in best.items() if w > 0),
                          key=lambda e: -e[2])
        if not scores or max(scores.values()) < self.min_score:
            return Classification(None, 0.0, evidence, scores)
        top = max(scores, key=scores.get)
        share = scores[top] / sum(scores.values())
        confidence = share * min(1.0, scores[top] / self.strong_score)
        return Classification(top, round(confidence, 3), evidence, scores)

    def _terms(self, text: str):
        """(term, industry, weight) for each word found, longest words first, discounted by context."""
        for (start, end), key, entries in longest_matches(self._automaton, text):
            factor = MINOR if self._incidental(text, start, end) else 1.0
            for industry, weight in entries:
                if weight > 0:
                    yield key, industry, weight * factor

    @staticmethod
    def _incidental(text: str, start: int, end: int) -> bool:
        """A landmark, a neighbour or a customer, not the business complained of."""
        before = text[max(0, start - 14):start]
        after = text[end:end + 8]
        return bool(LANDMARK_AFTER.match(after) or CUSTOMER_AFTER.match(after)
                    or NEIGHBOUR_BEFORE.search(before) or CUSTOMER_BEFORE.search(before))
