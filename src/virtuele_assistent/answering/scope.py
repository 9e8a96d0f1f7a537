"""Is the question answered by this tenant's content? Several kinds of evidence, weighed by a fitted model.

A retrieval score alone separates answerable from out-of-scope questions poorly: a question about
another municipality's parking permit is close to this municipality's parking page. A question that
names another municipality is declined first, and one without content. For a Dutch question answered
from Dutch pages, the evidence (``SCOPE_FEATURES``: how much of the question's key terms the selected
text covers, weighted and plain, whether the heaviest one is matched, the closest unit in meaning and
in words, the fitted unit scorer's best probability, a product the content never names, an amount or
date asked for and none about the topic) is weighed by a logistic model fitted with each municipality
left out (``data/scope_model.json``, ``va eval fit-scope``, docs/adr/0012). A question in another
language, or answered from a page in another language, is decided on similarity, as Dutch key terms
do not occur in it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from virtuele_assistent.answering.select import Selection
from virtuele_assistent.answering.text import Terms, term_matches
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.index.analyzer import fold
from virtuele_assistent.retrieval.followup import rarity as _rarity

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
    probability: float | None = None  # the fitted check's probability that the content answers


def coverage_of(
    selection: Selection,
    terms: Terms,
    names: frozenset[str] = frozenset(),
    weighted: bool = True,
    pages: str = "selected",
) -> tuple[float, list[str]]:
    """Share of the question's key terms found in the selected units and their pages (``pages=
    "retrieved"``: in any retrieved passage), each weighing by its specificity unless not ``weighted``.

    ``names`` are the stems of proper names in the question that are not Dutch municipalities
    ('India', 'Australië'): they describe the resident's situation, so they weigh little.
    """
    if not selection.question_terms:
        return 1.0, []
    available, selected_text = _available(selection, terms, pages)
    total = covered = 0.0
    missing = []
    kind_stems = _kind_stems(terms)
    for term in selection.question_terms:
        if term in kind_stems:
            continue  # 'betalen' says a price is asked, not what it is the price of
        specificity = terms.specificity(term, selection.words.get(term)) if weighted else 1.0
        weight = 0.25 * specificity if term in names else specificity
        match = max(terms.matches(term, available), 0.8 * terms.matches(term, selected_text))
        total += weight
        covered += weight * match
        if match < 0.5:
            missing.append(term)
    return (covered / total if total else 1.0), missing


def _available(selection: Selection, terms: Terms, pages: str) -> tuple[frozenset[str], frozenset[str]]:
    """The terms of the selected units with their pages' headings and titles, and those of their
    pages' text (or of every retrieved passage)."""
    available: set[str] = set()
    for scored in selection.units:
        available |= scored.unit.terms
    urls = {s.passage.url for s in selection.units}
    passages = {
        c.passage.chunk_id: c.passage
        for c in selection.candidates
        if pages == "retrieved" or c.passage.url in urls
    }.values()
    text: set[str] = set()
    for passage in passages:
        available |= terms.of(passage.heading_path) | terms.of(passage.title)
        text |= terms.of(passage.text)
    return frozenset(available), frozenset(text)


def _topic_covered(topic: str, selection: Selection, terms: Terms) -> float:
    available, text = _available(selection, terms, "selected")
    return max(terms.matches(topic, available), 0.8 * terms.matches(topic, text))


def _kind_stems(terms: Terms) -> frozenset[str]:
    return frozenset(terms.stem(w) for w in _KIND_WORDS)


# What the fitted scope check weighs (``scope_features``): the same on any site, none names a topic.
SCOPE_FEATURES = (
    "coverage",  # weighted share of the question's key terms in the selected text and its pages
    "coverage_plain",  # the same, every key term weighing alike
    "coverage_retrieved",  # weighted share found anywhere in the retrieved passages
    "topic_covered",  # how well the heaviest key term (what is asked about) is matched
    "uncovered_rarity",  # how rare in everyday language the rarest key term not found is (0-6)
    "key_terms",  # log of the number of key terms: situations take words the site never uses
    "best_cosine",  # the closest unit's embedding similarity
    "best_lexical",  # the largest weighted share of key terms in one unit
    "unit_probability",  # the fitted unit scorer's probability for its best unit
    "product_unnamed",  # a product or duty the question names that the content does not
    "fact_missing",  # an amount or a date is asked and none about the topic is selected
)
# A declined question's reason: the kind of evidence that weighed most against answering it.
_REASONS = {
    "coverage": "topic_not_covered",
    "coverage_plain": "topic_not_covered",
    "coverage_retrieved": "topic_not_covered",
    "topic_covered": "topic_not_covered",
    "uncovered_rarity": "topic_not_covered",
    "key_terms": "topic_not_covered",
    "product_unnamed": "topic_not_covered",
    "best_cosine": "low_similarity",
    "best_lexical": "weak_match",
    "unit_probability": "weak_match",
    "fact_missing": "fact_missing",
}


@lru_cache(maxsize=1)
def scope_model() -> FittedModel:
    """The scope check shipped with the package (``va eval fit-scope`` fits it; docs/adr/0012)."""
    return FittedModel.packaged("virtuele_assistent.answering", "scope_model.json", SCOPE_FEATURES)


@dataclass
class ScopeEvidence:
    """What the scope check is based on, for a Dutch question answered from Dutch pages."""

    features: dict[str, float]
    coverage: float
    uncovered: list[str]
    unnamed: list[str]


def evidence(understanding: Understanding, selection: Selection, terms: Terms) -> ScopeEvidence:
    names = _proper_names(understanding.question, terms)
    coverage, missing = coverage_of(selection, terms, names)
    plain, _ = coverage_of(selection, terms, names, weighted=False)
    retrieved, _ = coverage_of(selection, terms, names, pages="retrieved")
    unnamed = _unnamed_products(selection, terms)
    topic = max(selection.term_weights, key=selection.term_weights.__getitem__, default=None)
    rarities = [_rarity(selection.words.get(t, t)) for t in missing]
    key_terms = [t for t in selection.question_terms if t not in _kind_stems(terms)]
    features = {
        "coverage": coverage,
        "coverage_plain": plain,
        "coverage_retrieved": retrieved,
        "topic_covered": _topic_covered(topic, selection, terms) if topic else 1.0,
        "uncovered_rarity": max(rarities, default=0.0),
        "key_terms": math.log1p(len(key_terms)),
        "best_cosine": max((s.cosine for s in selection.candidates), default=0.0),
        "best_lexical": max((s.lexical for s in selection.candidates), default=0.0),
        "unit_probability": selection.best.score if selection.best else 0.0,
        "product_unnamed": float(bool(unnamed)),
        "fact_missing": float(_fact_missing(understanding, selection, terms)),
    }
    return ScopeEvidence(features, coverage, missing, unnamed)


def _fact_missing(understanding: Understanding, selection: Selection, terms: Terms) -> bool:
    if "cost" in understanding.kinds and not _fact_about_topic(understanding, selection, terms):
        return True
    # Only dates and periods of something else ("the fault is fixed within 24 hours" for "when is
    # bulky waste collected"); a "wanneer" question answered by a condition has none.
    return bool(
        {"time", "duration"} & set(understanding.kinds)
        and any(s.cue for s in selection.units)
        and not _fact_about_topic(understanding, selection, terms, telling_only=False)
    )


def decide(
    understanding: Understanding, selection: Selection, terms: Terms, model: FittedModel | None = None
) -> ScopeDecision:
    if understanding.other_municipality:
        return ScopeDecision(False, "other_municipality")
    if selection.best is None or not selection.units:
        return ScopeDecision(False, "no_content")
    best_cosine = max(s.cosine for s in selection.candidates)
    # the language of the page the answer is taken from
    other_language_page = selection.best.passage.language not in (None, understanding.language)
    if understanding.language != "nl" or other_language_page:
        # Dutch key terms do not occur in a question in another language: rely on similarity, or on
        # the glossary translations of the question's terms in the page ('kliko' -> 'wheelie bin').
        coverage, missing = coverage_of(selection, terms, _proper_names(understanding.question, terms))
        decision = ScopeDecision(True, "ok", coverage, missing, best_cosine)
        translated = understanding.language == "nl" and coverage >= MIN_TRANSLATED_COVERAGE
        if best_cosine < (MIN_COSINE_TRANSLATED if translated else MIN_COSINE_OTHER_LANGUAGE):
            decision.in_scope, decision.reason = False, "low_similarity"
        return decision
    found = evidence(understanding, selection, terms)
    model = model or scope_model()
    probability = model.probability(found.features)
    decision = ScopeDecision(True, "ok", found.coverage, found.uncovered, best_cosine, probability)
    if probability < model.threshold:
        against = min(model.contributions(found.features).items(), key=lambda fc: fc[1])[0]
        decision.in_scope, decision.reason = False, _REASONS[against]
        if found.unnamed and decision.reason == "topic_not_covered":
            decision.uncovered = found.unnamed
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
        if terms.matches(topic, frozenset(answered)) < 0.5:  # as one word or by all its parts
            unnamed.append(topic)
    return unnamed


def _proper_names(question: str, terms: Terms) -> frozenset[str]:
    """Stems of capitalised words that do not start a sentence: names of people, countries, places."""
    names = re.findall(r"(?<![.!?]\s)(?<!^)(?<=\s)([A-Z][a-zà-ÿ]{2,})", question.strip())
    return frozenset(terms.stem(fold(n)) for n in names)
