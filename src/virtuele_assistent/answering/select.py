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
from typing import Protocol

import numpy as np

from virtuele_assistent.answering import text as T
from virtuele_assistent.answering.ages import fits
from virtuele_assistent.answering.text import Terms, Unit, units_of
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.retrieval import Passage

MAX_UNITS = 5
MAX_CHARS = 600
SMALL_TABLE_ROWS = 4
WHOLE_TABLE_ROWS = 8  # of a table this small, two rows or more are shown with the rest of it

_CUES = {
    "cost": T.has_amount,
    "duration": T.has_duration,
    "time": lambda s: T.has_time(s) or T.has_date(s),
    "place": T.has_place,
    "phone": T.has_phone,
    "procedure": T.has_procedure,
    "need": T.has_need,
}
# Words like "aanvragen" or "online" occur in most procedural text: weak evidence of an answer.
_CUE_WEIGHT = {"procedure": 0.2}
MAX_LIST_ITEMS = 8
SHORT_SENTENCE = 40
AGE_FITS = 0.2
NEXT_SENTENCE_AFTER = 160  # a best match shorter than this is shown with the sentence after it
CLOSER_IN_MEANING = 0.005  # a unit this much closer in meaning than the best match is shown too
MIN_LEXICAL_LEAD = 0.35  # ... and one that shares clearly more of the question's words
LEXICAL_LEAD = 0.2
LEXICAL_LEAD_SCORE_GAP = 0.3
WHOLE_PARAGRAPH_SENTENCES = 3
WHOLE_PARAGRAPH_CHARS = 320
MAX_LEADS = 3  # how far back a chain of sentences that lean on each other is followed


class UnitVectorStore(Protocol):
    """Where unit embeddings outlive the process (``unit_vectors.StoredUnitVectors``)."""

    def load(self, texts: list[str]) -> dict[str, np.ndarray]: ...

    def save(self, vectors: dict[str, np.ndarray], chunk_ids: dict[str, str]) -> None: ...


class UnitEmbeddings:
    """Embeddings of units and questions, kept in a bounded in-memory cache (same text, same vector);
    the units of pages also in ``store``, when given, so that a restart does not embed them again."""

    def __init__(
        self, embedder: Embedder, max_items: int = 20000, store: UnitVectorStore | None = None
    ) -> None:
        self.embedder = embedder
        self.max_items = max_items
        self.store = store
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

    def units(self, texts: list[str], chunk_ids: list[str]) -> np.ndarray:
        """Vectors of page units (with the chunk each was taken from): from memory, else from the
        store, else embedded (and stored with their chunk)."""
        return self._vectors(texts, self.store, dict(zip(texts, chunk_ids, strict=True)))

    def passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of any other text (a model's sentence may repeat the resident's words): kept in
        memory only."""
        return self._vectors(texts, None, {})

    def _vectors(
        self, texts: list[str], store: UnitVectorStore | None, chunk_ids: dict[str, str]
    ) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            found = store.load(missing) if store is not None else {}
            embed = [t for t in missing if t not in found]
            embedded = dict(zip(embed, self.embedder.embed_passages(embed), strict=True)) if embed else {}
            if store is not None and embedded:
                store.save(embedded, chunk_ids)
            with self._lock:
                self._cache.update(found)
                self._cache.update(embedded)
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
    words: dict[str, str] = field(default_factory=dict)  # the question's word for each term

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
    """The unit with what it is about: its section's heading and the sentence it leans on."""
    last_heading = unit.section
    text = f"{unit.lead} {unit.text}" if unit.lead else unit.text
    return f"{last_heading}: {text}" if last_heading else text


class Selector:
    def __init__(self, embeddings: UnitEmbeddings, terms: Terms) -> None:
        self.embeddings = embeddings
        self.terms = terms

    def candidates(self, passages: list[Passage]) -> list[tuple[Unit, Passage]]:
        found: list[tuple[Unit, Passage]] = []
        seen: set[str] = set()
        for index, passage in enumerate(passages):
            for unit in units_of(passage.text, index, passage.heading_path):
                # Overlapping chunks repeat sentences; under another heading the same words say
                # something else ("U hebt geen kapvergunning nodig wanneer:" for thin and thick trees).
                key = f"{passage.heading_path}\n{T.normalise_for_match(unit.text)}"
                if key in seen or len(unit.text) < 3:
                    continue
                seen.add(key)
                unit.terms = self.terms.of(unit.text) | self.terms.of(unit.context) | self.terms.of(unit.lead)
                found.append((unit, passage))
        return found

    def select(self, understanding: Understanding, passages: list[Passage]) -> Selection:
        pairs = self.candidates(passages)
        own = self.terms.of(" ".join(understanding.own_names))
        words = self.terms.surfaces(understanding.standalone)
        question_terms = tuple(t for t in words if t not in own)
        if not pairs:
            return Selection([], [], question_terms, words=words)
        query = self.embeddings.query(understanding.standalone)
        vectors = self.embeddings.units([embedding_text(u) for u, _ in pairs], [p.chunk_id for _, p in pairs])
        cosines = vectors @ query
        weights = _term_weights(question_terms, [u for u, _ in pairs], self.terms, words)
        total_weight = sum(weights.values()) or 1.0
        scored: list[ScoredUnit] = []
        for (unit, passage), cosine in zip(pairs, cosines, strict=True):
            own = self.terms.of(unit.text)
            if unit.kind == "row":  # a row says what it is about in its table's caption and heading
                own = own | self.terms.of(unit.context)
            lexical = (
                sum(
                    w * max(self.terms.matches(t, own), 0.6 * self.terms.matches(t, unit.terms))
                    for t, w in weights.items()
                )
                / total_weight
            )
            kind_of_cue = next((k for k in understanding.kinds if _cue(k, unit)), None)
            cue = kind_of_cue is not None
            score = (
                0.45 * _scale(float(cosine))
                + 0.4 * lexical
                + (_CUE_WEIGHT.get(kind_of_cue, 0.3) if kind_of_cue is not None else 0.0)
                + 0.06 / (1 + unit.passage_index)
                - (0.05 if len(unit.text) < 25 and unit.kind != "row" else 0.0)
                - (0.15 if _label_like(unit) else 0.0)
                + _age_fit(understanding.age, unit)
            )
            scored.append(ScoredUnit(unit, passage, score, float(cosine), lexical, cue))
        ranked = sorted(scored, key=lambda s: s.score, reverse=True)
        if understanding.kinds and not ranked[0].cue:
            # A close runner-up that carries the kind of fact asked for answers better.
            top = ranked[0]
            cued = next(
                (
                    s
                    for s in ranked
                    if s.cue and s.score >= top.score - 0.2 and s.lexical >= top.lexical - 0.15
                ),
                None,
            )
            if cued is not None:
                ranked.remove(cued)
                ranked.insert(0, cued)
        chosen = _choose(ranked, scored, understanding)
        return Selection(chosen, ranked, question_terms, weights, words)


def _age_fit(age: int | None, unit: Unit) -> float:
    """The rule for the resident's age ('Bent u tussen de 18 en 27 jaar?' for 'ik ben 22') answers."""
    if age is None:
        return 0.0
    fit = fits(age, unit.text)
    if fit is None and unit.lead:  # "Bent u 75 jaar of ouder? Dan is uw rijbewijs 5 jaar geldig."
        fit = fits(age, unit.lead)
    return 0.0 if fit is None else (AGE_FITS if fit else -AGE_FITS / 2)


def _cue(kind: str, unit: Unit) -> bool:
    """Does the unit carry the kind of fact asked for? Lists answer 'welke papieren ...'."""
    if kind == "list":
        return unit.kind == "item"
    return _CUES[kind](unit.text)


def _label_like(unit: Unit) -> bool:
    """A line of a few words without a full stop is a link text or a label, not an answer."""
    text = unit.text
    return unit.kind == "sentence" and len(text.split()) <= 5 and not text.endswith((".", "!", "?", ":"))


def _scale(cosine: float) -> float:
    """e5 cosines of related Dutch texts fall in about 0.75-0.93; spread that range over 0-1."""
    return min(1.0, max(0.0, (cosine - 0.76) / 0.16))


def _term_weights(
    question_terms: tuple[str, ...], units: list[Unit], terms: Terms, words: dict[str, str]
) -> dict[str, float]:
    """Rarer terms among the candidate units say more about what is asked (an IDF over the units),
    and so do rarer words of the language: 'herplantplicht' names the topic, 'gebeurt' or 'later'
    only shape the question."""
    n = len(units)
    weights = {}
    for term in question_terms:
        df = sum(1 for u in units if terms.matches(term, u.terms) >= 0.7)
        weights[term] = math.log(1 + n / (1 + df)) * terms.specificity(term, words.get(term))
    return weights


def _choose(
    ranked: list[ScoredUnit], in_order: list[ScoredUnit], understanding: Understanding
) -> list[ScoredUnit]:
    best = ranked[0]
    chosen: list[ScoredUnit] = [best]
    if best.unit.kind == "row":
        table = _table_of(best, in_order)
        if len(table) <= SMALL_TABLE_ROWS:
            chosen = table
        else:
            chosen += [s for s in table if s is not best and s.score >= best.score - 0.08][:2]
    elif best.unit.list_id >= 0:
        chosen = _whole_list(best, in_order)
    elif "list" in understanding.kinds:
        following = _list_after(best, in_order)
        if following:
            chosen = [best, *_whole_list(following, in_order)]
    elif best.unit.kind == "sentence":
        chosen += _next_sentence(best, in_order)
    for runner_up in _runners_up(best, ranked):
        if runner_up not in chosen:
            chosen.append(runner_up)
            if runner_up.unit.kind == "sentence" and len(runner_up.unit.text) < SHORT_SENTENCE:
                chosen += [s for s in _next_sentence(runner_up, in_order) if s not in chosen]
    if understanding.kinds and not any(s.cue for s in chosen):
        # The fact asked for (an amount, a period) from the best match's own section.
        section = (best.passage.url, best.passage.heading_path)
        cued = next((s for s in ranked if s.cue and (s.passage.url, s.passage.heading_path) == section), None)
        if cued is not None:
            chosen.append(cued)
    # Other strong units of the same page (a second condition, the other half of a period).
    for candidate in ranked[1:]:
        if len(chosen) >= MAX_UNITS or sum(len(s.unit.text) for s in chosen) > MAX_CHARS:
            break
        if candidate in chosen:
            continue
        close = candidate.score >= best.score - 0.15
        informative = not understanding.kinds or candidate.cue
        if close and informative and candidate.passage.url == best.passage.url:
            chosen.append(candidate)
    # A very short sentence ("Doe een melding.") rarely stands alone: the one after it says more.
    for scored in list(chosen):
        if scored is not best and scored.unit.kind == "sentence" and len(scored.unit.text) < SHORT_SENTENCE:
            for following in _next_sentence(scored, in_order):
                if following not in chosen:
                    chosen.insert(chosen.index(scored) + 1, following)
    chosen = _with_neighbours(chosen, in_order)
    chosen = _with_paragraphs(chosen, in_order)
    # The best match, what it leans on and the runners-up are kept first when the answer must be cut.
    runners = _runners_up(best, ranked)
    leads = _leads(best, in_order)
    first = [s for s in chosen if s is best or s in runners or s in leads]
    total = 0
    kept: list[ScoredUnit] = []
    for scored in [*first, *(s for s in chosen if s not in first)]:
        total += len(scored.unit.text)
        if kept and total > MAX_CHARS + 200:
            break
        kept.append(scored)
    # A sentence is not shown without the ones it leans on ("Dan meldt u uw vertrek" without "Gaat u
    # langer dan 8 maanden in het buitenland wonen?" would be said to everyone).
    kept = [s for s in kept if s is best or all(lead in kept for lead in _leads(s, in_order))]
    kept = _whole_tables(kept, in_order)
    order = {id(s): i for i, s in enumerate(in_order)}
    return sorted(kept, key=lambda s: order[id(s)])


def _runners_up(best: ScoredUnit, ranked: list[ScoredUnit]) -> list[ScoredUnit]:
    """Units that answer as well as the best match by another measure: the one closest in meaning
    on the same page (the best may have won on a cue word such as 'online'), and one that shares
    clearly more of the question's words while scoring nearly as well."""
    found: list[ScoredUnit] = []
    same_page = [s for s in ranked if s.passage.url == best.passage.url and s is not best]
    closest = max(same_page, key=lambda s: s.cosine, default=None)
    if closest is not None and closest.cosine >= best.cosine + CLOSER_IN_MEANING:
        found.append(closest)
    wordier = max(
        (
            s
            for s in ranked[1:]
            if s.lexical >= max(MIN_LEXICAL_LEAD, best.lexical + LEXICAL_LEAD)
            and s.score >= best.score - LEXICAL_LEAD_SCORE_GAP
        ),
        key=lambda s: s.lexical,
        default=None,
    )
    if wordier is not None and wordier not in found:
        found.append(wordier)
    return found


def _same_list(a: ScoredUnit, b: ScoredUnit) -> bool:
    return a.passage.chunk_id == b.passage.chunk_id and a.unit.list_id == b.unit.list_id >= 0


def _whole_list(member: ScoredUnit, in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """A list is answered whole, with the sentence that introduces it ("U neemt mee:"); of a long
    list, the items closest to the question."""
    members = [s for s in in_order if _same_list(s, member)]
    lead = [s for s in members if s.unit.kind != "item"]
    items = [s for s in members if s.unit.kind == "item"]
    if len(items) > MAX_LIST_ITEMS:
        best_items = {id(s) for s in sorted(items, key=lambda s: s.score, reverse=True)[:MAX_LIST_ITEMS]}
        items = [s for s in items if id(s) in best_items]
    result = [*lead, *items]
    if member not in result:
        result.insert(0, member)
    return result


def _list_after(scored: ScoredUnit, in_order: list[ScoredUnit], within: int = 4) -> ScoredUnit | None:
    """The first list item shortly after a unit in its passage ("... meesturen. Bijvoorbeeld: - ...")."""
    index = _index(scored, in_order)
    for following in in_order[index + 1 : index + 1 + within + MAX_LIST_ITEMS]:
        if following.passage.chunk_id != scored.passage.chunk_id:
            return None
        if following.unit.kind == "item":
            return following
        if following.unit.position - scored.unit.position > within:
            return None
    return None


def _next_sentence(scored: ScoredUnit, in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """The sentence after the best match often carries the fact it leads up to ("Er is een ander
    proces. U belt 14 010 ..."); not when it opens a new question or is a label."""
    index = _index(scored, in_order)
    if index + 1 >= len(in_order) or len(scored.unit.text) > NEXT_SENTENCE_AFTER:
        return []
    following = in_order[index + 1]
    if (
        following.passage.chunk_id != scored.passage.chunk_id
        or following.unit.kind != "sentence"
        or following.unit.text.endswith("?")
        or _label_like(following.unit)
    ):
        return []
    return [following]


def _index(scored: ScoredUnit, in_order: list[ScoredUnit]) -> int:
    return next(i for i, s in enumerate(in_order) if s is scored)


def _with_neighbours(chosen: list[ScoredUnit], in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """Keep pairs whole: "Heeft u ...?" with its "Dan ..." answer, a sentence with the ones that refer
    back to it ("Dit kan tot ..."), "U neemt mee:" with its list."""
    result = list(chosen)
    for scored in chosen:
        index = _index(scored, in_order)
        chunk = scored.passage.chunk_id

        def same(i: int, chunk: str = chunk) -> bool:
            return 0 <= i < len(in_order) and in_order[i].passage.chunk_id == chunk

        text = scored.unit.text
        before = scored
        for lead in _leads(scored, in_order):
            _add_before(result, before, lead)
            before = lead
        anchor = scored
        following = index + 1
        # What follows and refers back to it; after a question in the text, its answer.
        while same(following) and following - index <= 2:
            unit = in_order[following].unit
            refers_back = unit.kind == "sentence" and unit.lead == in_order[following - 1].unit.text
            answers = following == index + 1 and text.rstrip().endswith("?")
            if not (refers_back or answers):
                break
            _add_after(result, anchor, in_order[following])
            anchor = in_order[following]
            following += 1
        if text.rstrip().endswith(":") and scored.unit.list_id >= 0:
            for member in _whole_list(scored, in_order):
                if member is not scored:
                    _add_after(result, anchor, member)
                    anchor = member
    return result


def _whole_tables(chosen: list[ScoredUnit], in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """Two or more rows of a small table, or a row with the sentence that announces the table, come
    with the rest of it: when no single row answers ("Hoe laat is het stadhuis open?"), three days of
    six would read as the whole week."""
    result = list(chosen)
    shown: dict[tuple[str, str], list[ScoredUnit]] = {}
    for scored in chosen:
        if scored.unit.kind == "row":
            shown.setdefault((scored.passage.chunk_id, scored.unit.header), []).append(scored)
    for rows in shown.values():
        table = _table_of(rows[0], in_order)
        before = _index(table[0], in_order) - 1
        introduced = (  # "Voor sommige soorten betaalt u wel:" announces the whole table
            before >= 0
            and in_order[before].passage.chunk_id == table[0].passage.chunk_id
            and in_order[before].unit.text.endswith(":")
            and in_order[before] in chosen
        )
        if (len(rows) >= 2 or introduced) and len(table) <= WHOLE_TABLE_ROWS:
            result += [s for s in table if s not in result]
    return result


def _table_of(row: ScoredUnit, in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """The rows of the row's table (same passage, same header), in reading order."""
    key = (row.passage.chunk_id, row.unit.header)
    return [s for s in in_order if s.unit.kind == "row" and (s.passage.chunk_id, s.unit.header) == key]


def _leads(scored: ScoredUnit, in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """The sentences a sentence leans on, nearest first: "Doe dit uiterlijk 5 dagen voordat u
    vertrekt." leans on "Dit kan vanaf 4 weken voor uw vertrek.", which leans on "Dan meldt u uw
    vertrek", which leans on the condition "Gaat u langer dan 8 maanden in het buitenland wonen?"."""
    chain: list[ScoredUnit] = []
    index = _index(scored, in_order)
    while len(chain) < MAX_LEADS and index > 0:
        unit, previous = in_order[index].unit, in_order[index - 1]
        if not (
            unit.kind == "sentence"
            and unit.lead
            and previous.unit.text == unit.lead
            and previous.passage.chunk_id == scored.passage.chunk_id
        ):
            break
        chain.append(previous)
        index -= 1
    return chain


def _with_paragraphs(chosen: list[ScoredUnit], in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """A short paragraph is kept whole: its writer put the condition, the fact and the exception
    together ("U belt 14 010 ... U heeft altijd contact met een ambtenaar. Daardoor kunt u de aangifte
    niet online doen.")."""
    result = list(chosen)
    for scored in chosen:
        if scored.unit.kind != "sentence" or scored.unit.paragraph < 0:
            continue
        paragraph = [
            s
            for s in in_order
            if s.passage.chunk_id == scored.passage.chunk_id and s.unit.paragraph == scored.unit.paragraph
        ]
        short = sum(len(s.unit.text) for s in paragraph) <= WHOLE_PARAGRAPH_CHARS
        if len(paragraph) > WHOLE_PARAGRAPH_SENTENCES or not short or all(s in result for s in paragraph):
            continue
        at = min(result.index(s) for s in paragraph if s in result)
        result = [s for s in result if s not in paragraph]
        result[at:at] = paragraph
    return result


def _add_before(result: list[ScoredUnit], anchor: ScoredUnit, unit: ScoredUnit) -> None:
    if unit not in result:
        result.insert(result.index(anchor), unit)


def _add_after(result: list[ScoredUnit], anchor: ScoredUnit, unit: ScoredUnit) -> None:
    if unit not in result:
        result.insert(result.index(anchor) + 1, unit)
