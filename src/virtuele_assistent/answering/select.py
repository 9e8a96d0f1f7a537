"""Step 3, select: the few sentences, list items and table rows of the best passages that answer.

Each unit is scored on four kinds of evidence: embedding similarity to the question (the bundled
model, vectors cached per unit text), weighted overlap with the question's topic terms (stemmed,
with compound and typo tolerance), whether it carries the kind of fact asked for (an amount for
"wat kost", a period for "hoe lang", ...), and the rank of its passage. Tables keep their header.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from virtuele_assistent.answering import text as T
from virtuele_assistent.answering.text import Terms, Unit, term_matches, units_of
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.retrieval import Passage

MAX_UNITS = 5
MAX_CHARS = 600
SMALL_TABLE_ROWS = 4

_CUES = {
    "cost": T.has_amount,
    "duration": T.has_duration,
    "time": lambda s: T.has_time(s) or T.has_date(s),
    "place": T.has_place,
    "phone": T.has_phone,
    "procedure": T.has_procedure,
}
# A sentence that leans on the one before it ("Dan ...", "Pas daarna ...") is shown with it.
_LEANS_BACK = (
    "dan ",
    "daarna",
    "pas daarna",
    "dat ",
    "dit ",
    "die ",
    "daarvoor",
    "daarom",
    "hierna",
    "then ",
)


class UnitEmbeddings:
    """Embeddings of units and questions, kept in a bounded in-memory cache (same text, same vector)."""

    def __init__(self, embedder: Embedder, max_items: int = 20000) -> None:
        self.embedder = embedder
        self.max_items = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
        vector = self.embedder.embed_query(text)
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > 2000:
                self._queries.popitem(last=False)
        return vector

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self.embedder.embed_passages(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))


@dataclass
class ScoredUnit:
    unit: Unit
    passage: Passage
    score: float
    cosine: float
    lexical: float
    cue: bool


@dataclass
class Selection:
    units: list[ScoredUnit]  # in reading order
    candidates: list[ScoredUnit] = field(default_factory=list)  # every unit, best first
    question_terms: tuple[str, ...] = ()
    term_weights: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> ScoredUnit | None:
        return self.candidates[0] if self.candidates else None

    @property
    def passages(self) -> list[Passage]:
        seen: dict[str, Passage] = {}
        for scored in self.units:
            seen.setdefault(scored.passage.chunk_id, scored.passage)
        return list(seen.values())


def embedding_text(unit: Unit) -> str:
    last_heading = unit.context.split(" > ")[-1] if unit.context else ""
    return f"{last_heading}: {unit.text}" if last_heading else unit.text


class Selector:
    def __init__(self, embeddings: UnitEmbeddings, terms: Terms) -> None:
        self.embeddings = embeddings
        self.terms = terms

    def candidates(self, passages: list[Passage]) -> list[tuple[Unit, Passage]]:
        found: list[tuple[Unit, Passage]] = []
        seen: set[str] = set()
        for index, passage in enumerate(passages):
            for unit in units_of(passage.text, index, passage.heading_path):
                key = T.normalise_for_match(unit.text)
                if key in seen or len(unit.text) < 3:
                    continue  # overlapping chunks repeat sentences
                seen.add(key)
                unit.terms = self.terms.of(unit.text) | self.terms.of(unit.context)
                found.append((unit, passage))
        return found

    def select(self, understanding: Understanding, passages: list[Passage]) -> Selection:
        pairs = self.candidates(passages)
        own = self.terms.of(" ".join(understanding.own_names))
        question_terms = tuple(t for t in self.terms.content(understanding.standalone) if t not in own)
        if not pairs:
            return Selection([], [], question_terms)
        query = self.embeddings.query(understanding.standalone)
        vectors = self.embeddings.passages([embedding_text(u) for u, _ in pairs])
        cosines = vectors @ query
        weights = _term_weights(question_terms, [u for u, _ in pairs])
        total_weight = sum(weights.values()) or 1.0
        scored: list[ScoredUnit] = []
        for (unit, passage), cosine in zip(pairs, cosines, strict=True):
            own = self.terms.of(unit.text)
            lexical = (
                sum(
                    w * max(term_matches(t, own), 0.6 * term_matches(t, unit.terms))
                    for t, w in weights.items()
                )
                / total_weight
            )
            cue = any(_CUES[k](unit.text) for k in understanding.kinds) if understanding.kinds else False
            score = (
                0.45 * _scale(float(cosine))
                + 0.4 * lexical
                + (0.3 if cue else 0.0)
                + 0.06 / (1 + unit.passage_index)
                - (0.05 if len(unit.text) < 25 and unit.kind != "row" else 0.0)
            )
            scored.append(ScoredUnit(unit, passage, score, float(cosine), lexical, cue))
        ranked = sorted(scored, key=lambda s: s.score, reverse=True)
        if understanding.kinds and not ranked[0].cue:
            # A close runner-up that carries the kind of fact asked for answers better.
            cued = next((s for s in ranked if s.cue and s.score >= ranked[0].score - 0.2), None)
            if cued is not None:
                ranked.remove(cued)
                ranked.insert(0, cued)
        chosen = _choose(ranked, scored, understanding)
        return Selection(chosen, ranked, question_terms, weights)


def _scale(cosine: float) -> float:
    """e5 cosines of related Dutch texts fall in about 0.75-0.93; spread that range over 0-1."""
    return min(1.0, max(0.0, (cosine - 0.76) / 0.16))


def _term_weights(question_terms: tuple[str, ...], units: list[Unit]) -> dict[str, float]:
    """Rarer terms among the candidate units say more about what is asked (an IDF over the units)."""
    n = len(units)
    weights = {}
    for term in question_terms:
        df = sum(1 for u in units if term_matches(term, u.terms) >= 0.7)
        weights[term] = math.log(1 + n / (1 + df))
    return weights


def _choose(
    ranked: list[ScoredUnit], in_order: list[ScoredUnit], understanding: Understanding
) -> list[ScoredUnit]:
    best = ranked[0]
    chosen: list[ScoredUnit] = [best]
    if best.unit.kind == "row":
        table = [
            s
            for s in in_order
            if s.passage.chunk_id == best.passage.chunk_id
            and s.unit.kind == "row"
            and s.unit.header == best.unit.header
        ]
        if len(table) <= SMALL_TABLE_ROWS:
            chosen = table
        else:
            chosen += [s for s in table if s is not best and s.score >= best.score - 0.08][:2]
    # Other strong units of the same page (a second condition, the other half of a period).
    for candidate in ranked[1:]:
        if len(chosen) >= MAX_UNITS or sum(len(s.unit.text) for s in chosen) > MAX_CHARS:
            break
        if candidate in chosen:
            continue
        close = candidate.score >= best.score - 0.12
        informative = not understanding.kinds or candidate.cue
        if close and informative and candidate.passage.url == best.passage.url:
            chosen.append(candidate)
    chosen = _with_neighbours(chosen, in_order)
    total = 0
    kept: list[ScoredUnit] = []
    for scored in chosen:
        total += len(scored.unit.text)
        if kept and total > MAX_CHARS + 200:
            break
        kept.append(scored)
    order = {id(s): i for i, s in enumerate(in_order)}
    return sorted(kept, key=lambda s: order[id(s)])


def _with_neighbours(chosen: list[ScoredUnit], in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """Keep pairs whole: "Heeft u ...?" with its "Dan ..." answer, "U neemt mee:" with its list."""
    result = list(chosen)
    for scored in chosen:
        index = next(i for i, s in enumerate(in_order) if s is scored)
        chunk = scored.passage.chunk_id

        def same(i: int, chunk: str = chunk) -> bool:
            return 0 <= i < len(in_order) and in_order[i].passage.chunk_id == chunk

        text = scored.unit.text
        if text.lower().startswith(_LEANS_BACK) and same(index - 1):
            _add_before(result, scored, in_order[index - 1])
        if text.rstrip().endswith("?") and same(index + 1):
            _add_after(result, scored, in_order[index + 1])
        if text.rstrip().endswith(":"):
            following = index + 1
            while (
                same(following)
                and in_order[following].unit.kind in ("item", "row")
                and following - index <= 6
            ):
                _add_after(result, result[-1] if result[-1] is not scored else scored, in_order[following])
                following += 1
    return result


def _add_before(result: list[ScoredUnit], anchor: ScoredUnit, unit: ScoredUnit) -> None:
    if unit not in result:
        result.insert(result.index(anchor), unit)


def _add_after(result: list[ScoredUnit], anchor: ScoredUnit, unit: ScoredUnit) -> None:
    if unit not in result:
        result.insert(result.index(anchor) + 1, unit)
