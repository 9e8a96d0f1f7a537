"""Is the question answered by this tenant's content? Several kinds of evidence, not one score.

A retrieval score alone separates answerable from out-of-scope questions poorly: a question about
another municipality's parking permit is close to this municipality's parking page. So the decision
combines: a named other municipality, how much of the question's topic (its weighted key terms) the
selected text covers, whether the selected text carries the kind of fact asked for (an amount for a
price question), and the embedding similarity of the best unit; an LLM judgement can be added.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from virtuele_assistent.answering.select import ScoredUnit, Selection
from virtuele_assistent.answering.text import Terms, term_matches
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.index.analyzer import fold

MIN_COVERAGE = 0.5
# Who a question is about ('mijn moeder', 'voor mijn dochter') is the resident's situation, not the
# product whose price is asked.
_PEOPLE = frozenset(
    {
        "moeder",
        "vader",
        "ouder",
        "ouders",
        "dochter",
        "zoon",
        "kind",
        "kinderen",
        "baby",
        "broer",
        "zus",
        "opa",
        "oma",
        "partner",
        "man",
        "vrouw",
        "echtgenoot",
        "echtgenote",
        "buurman",
        "buurvrouw",
        "buren",
        "collega",
        "vriend",
        "vriendin",
        "familie",
        "gezin",
    }
)
TELLING_SHARE = 0.5  # terms weighing at least this share of the heaviest one say what is asked about
_KIND_WORDS = ("betaal", "betalen", "betaalt", "kost", "kosten", "geld", "euro", "bedrag", "tarief")
MIN_COSINE = 0.80
MIN_SELECTION_SCORE = 0.33  # the best unit matches the question weakly in meaning and in words
# Municipal products and duties are named by compounds with these heads ('herplantplicht',
# 'hondenbelasting', 'bewonersvergunning'): content that never names the one asked about does not
# describe it, however close the rest of the question is.
_PRODUCT_HEADS = (
    "plicht",
    "belasting",
    "heffing",
    "vergunning",
    "toeslag",
    "subsidie",
    "uitkering",
    "regeling",
    "kaart",
    "pas",
    "bewijs",
)
# The same heads in the plural: a question may name the product either way ('rijbewijzen').
_PRODUCT_HEADS_PLURAL = (
    "plichten",
    "belastingen",
    "heffingen",
    "vergunningen",
    "toeslagen",
    "subsidies",
    "uitkeringen",
    "regelingen",
    "kaarten",
    "passen",
    "bewijzen",
)
MIN_COSINE_OTHER_LANGUAGE = 0.83
MIN_TRANSLATED_COVERAGE = 0.7  # of a Dutch question's terms, found translated in a page in English
MIN_COSINE_TRANSLATED = 0.77


@dataclass
class ScopeDecision:
    in_scope: bool
    reason: str  # "ok" | "other_municipality" | "no_content" | "topic_not_covered" | "fact_missing" | ...
    coverage: float = 0.0
    uncovered: list[str] = field(default_factory=list)
    best_cosine: float = 0.0


def coverage_of(
    selection: Selection, terms: Terms, names: frozenset[str] = frozenset()
) -> tuple[float, list[str]]:
    """Weighted share of the question's key terms found in the selected units and their passages.

    ``names`` are the stems of proper names in the question that are not Dutch municipalities
    ('India', 'Australië'): they describe the resident's situation, so they weigh little.
    """
    if not selection.question_terms:
        return 1.0, []
    available: set[str] = set()
    for scored in selection.units:
        available |= scored.unit.terms
    pages = {s.passage.url for s in selection.units}
    same_pages = [c.passage for c in selection.candidates if c.passage.url in pages]
    for passage in same_pages:
        available |= terms.of(passage.heading_path) | terms.of(passage.title)
    selected_text: set[str] = set().union(*(terms.of(p.text) for p in same_pages)) if same_pages else set()
    total = covered = 0.0
    missing = []
    kind_stems = {terms.stem(w) for w in _KIND_WORDS}
    for term in selection.question_terms:
        if term in kind_stems:
            continue  # 'betalen' says a price is asked, not what it is the price of
        specificity = terms.specificity(term, selection.words.get(term))
        weight = 0.25 * specificity if term in names else specificity
        match = max(
            terms.matches(term, frozenset(available)), 0.8 * terms.matches(term, frozenset(selected_text))
        )
        total += weight
        covered += weight * match
        if match < 0.5:
            missing.append(term)
    return (covered / total if total else 1.0), missing


def match_strength(scored: ScoredUnit) -> float:
    """How well a unit matches the question in meaning and in words, with the kind of fact asked for:
    the scope decision's evidence that the content speaks to the question at all. Which units answer
    is the fitted unit scorer's work (``select``); this weighs only whether anything does."""
    f = scored.features
    short = f["length"] < math.log1p(25) and scored.unit.kind != "row"
    return (
        0.45 * min(1.0, max(0.0, (scored.cosine - 0.76) / 0.16))  # e5 cosines of related text: 0.76-0.92
        + 0.4 * scored.lexical
        + 0.3 * f["cue"]
        - 0.1 * f["cue_weak"]
        + 0.06 * f["chunk_rank"]
        - (0.05 if short else 0.0)
        - 0.15 * f["label_like"]
        + 0.2 * max(f["age_fit"], -0.5)
    )


def decide(understanding: Understanding, selection: Selection, terms: Terms) -> ScopeDecision:
    if understanding.other_municipality:
        return ScopeDecision(False, "other_municipality")
    if selection.best is None or not selection.units:
        return ScopeDecision(False, "no_content")
    best = max(selection.candidates, key=match_strength)
    coverage, missing = coverage_of(selection, terms, _proper_names(understanding.question, terms))
    decision = ScopeDecision(True, "ok", coverage, missing, best.cosine)
    unnamed = _unnamed_products(selection, terms)
    if unnamed and understanding.language == "nl":
        decision.in_scope, decision.reason, decision.uncovered = False, "topic_not_covered", unnamed
        return decision
    # the language of the page the answer is taken from
    other_language_page = selection.best.passage.language not in (None, understanding.language)
    if understanding.language != "nl" or other_language_page:
        # Dutch key terms do not occur in a question in another language: rely on similarity, or on
        # the glossary translations of the question's terms in the page ('kliko' -> 'wheelie bin').
        translated = understanding.language == "nl" and coverage >= MIN_TRANSLATED_COVERAGE
        if best.cosine < (MIN_COSINE_TRANSLATED if translated else MIN_COSINE_OTHER_LANGUAGE):
            decision.in_scope, decision.reason = False, "low_similarity"
        return decision
    if best.cosine < MIN_COSINE:
        decision.in_scope, decision.reason = False, "low_similarity"
    elif match_strength(best) < MIN_SELECTION_SCORE:
        decision.in_scope, decision.reason = False, "weak_match"
    elif coverage < MIN_COVERAGE:
        decision.in_scope, decision.reason = False, "topic_not_covered"
    elif "cost" in understanding.kinds and not _fact_about_topic(understanding, selection, terms):
        decision.in_scope, decision.reason = False, "fact_missing"
    elif (
        {"time", "duration"} & set(understanding.kinds)
        and any(s.cue for s in selection.units)
        and not _fact_about_topic(understanding, selection, terms, telling_only=False)
    ):
        # Only dates and periods of something else ("the fault is fixed within 24 hours" for "when is
        # bulky waste collected"); a "wanneer" question answered by a condition has none.
        decision.in_scope, decision.reason = False, "fact_missing"
    return decision


def _fact_about_topic(
    understanding: Understanding, selection: Selection, terms: Terms, telling_only: bool = True
) -> bool:
    """An amount answers only when it is the one of the thing asked about: a price in another
    product's table does not say what this one costs. A selected unit that carries the kind of fact
    asked for must name one of the question's most telling terms (in the unit, its table header, its
    section or its page title); the resident's own words are weighed apart from those a follow-up
    takes from earlier turns."""
    cued = [s for s in selection.units if s.cue]
    if not cued or not selection.term_weights:
        return bool(cued)
    own = set(terms.content(understanding.question))
    people = frozenset(terms.stem(w) for w in _PEOPLE)
    weights = {t: w for t, w in selection.term_weights.items() if term_matches(t, people) < 0.7}
    if telling_only:
        telling = _telling(weights) | _telling({t: w for t, w in weights.items() if t in own})
    else:
        telling = set(weights)
    for scored in cued:
        named = (
            scored.unit.terms
            | terms.of(scored.unit.header)
            | terms.of(scored.passage.title)
            | terms.of(scored.passage.heading_path)
        )
        if any(terms.matches(t, named) >= 0.5 for t in telling):
            return True
    return False


def _telling(weights: dict[str, float]) -> set[str]:
    top = max(weights.values(), default=0.0)
    return {t for t, w in weights.items() if w >= TELLING_SHARE * top}


def _unnamed_products(selection: Selection, terms: Terms) -> list[str]:
    """Products or duties the question names ('herplantplicht') that no retrieved passage names, or,
    when the product is what the question is most about, that the selected text does not name: a
    page that mentions a driving licence in a list of documents does not say how to apply for one."""
    asked = [
        t
        for t in selection.question_terms
        if (word := selection.words.get(t, t)).endswith((*_PRODUCT_HEADS, *_PRODUCT_HEADS_PLURAL))
        and not word.startswith(_PRODUCT_HEADS)
    ]
    if not asked:
        return []
    passages = {c.passage.chunk_id: c.passage for c in selection.candidates}.values()
    named: set[str] = set()
    for passage in passages:
        named |= terms.of(passage.text) | terms.of(passage.heading_path) | terms.of(passage.title)
    unnamed = [t for t in asked if terms.matches(t, frozenset(named)) < 0.5]
    topic = max(selection.term_weights, key=selection.term_weights.__getitem__, default=None)
    if topic in asked and topic not in unnamed:
        answered: set[str] = set()
        for scored in selection.units:
            passage = scored.passage
            answered |= scored.unit.terms | terms.of(passage.heading_path) | terms.of(passage.title)
        if not _names(topic, selection.words.get(topic, topic), frozenset(answered), terms):
            unnamed.append(topic)
    return unnamed


def _names(term: str, word: str, available: frozenset[str], terms: Terms) -> bool:
    """Is the term named, as one word or by all its parts ('Evenement, vergunning aanvragen' names
    'evenementenvergunning')?"""
    if terms.matches(term, available) >= 0.5:
        return True
    parts = terms.of(word) - {term}
    return len(parts) >= 2 and all(terms.matches(p, available) >= 0.7 for p in parts)


def _proper_names(question: str, terms: Terms) -> frozenset[str]:
    """Stems of capitalised words that do not start a sentence: names of people, countries, places."""
    names = re.findall(r"(?<![.!?]\s)(?<!^)(?<=\s)([A-Z][a-zà-ÿ]{2,})", question.strip())
    return frozenset(terms.stem(fold(n)) for n in names)
