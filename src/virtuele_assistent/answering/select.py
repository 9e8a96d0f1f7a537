"""Step 3, select: the few sentences, list items and table rows of the best passages that answer.

Every unit gets features that mean the same on any site (``UNIT_FEATURES``: embedding similarity to
the question, the question's key terms it shares, whether it carries the kind of fact asked for, the
rank of its passage, ...); the fitted unit model (``answering/data/unit_model.json``, docs/adr/0008)
turns them into the probability that the unit carries a fact of the answer. The best unit and the
units of its page above the model's threshold are shown, each with what it needs to be read.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import numpy as np

from virtuele_assistent.answering import text as T
from virtuele_assistent.answering.ages import fits
from virtuele_assistent.answering.text import Terms, Unit, units_of
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.fitted import FittedModel
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
WEAK_CUES = frozenset({"procedure"})
MAX_LIST_ITEMS = 8
SHORT_SENTENCE = 40
NEXT_SENTENCE_AFTER = 160  # a best match shorter than this is shown with the sentence after it
WHOLE_PARAGRAPH_SENTENCES = 3
WHOLE_PARAGRAPH_CHARS = 320
MAX_LEADS = 3  # how far back a chain of sentences that lean on each other is followed


@lru_cache(maxsize=1)
def unit_model() -> FittedModel:
    """The unit scorer shipped with the package (``va eval fit-selection`` fits it; docs/adr/0008)."""
    return FittedModel.packaged("virtuele_assistent.answering", "unit_model.json", UNIT_FEATURES)


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
    score: float  # the fitted model's probability that the unit carries a fact of the answer
    cosine: float
    lexical: float
    cue: bool
    features: dict[str, float] = field(default_factory=dict)  # UNIT_FEATURES, for the fitted scorer


# What the fitted unit scorer weighs (``Selector.select`` computes them): the same on any site.
UNIT_FEATURES = (
    "cosine",  # embedding similarity of unit (with its heading) and question
    "cosine_gap",  # how far below the closest unit in meaning
    "lexical",  # weighted share of the question's key terms in the unit
    "lexical_gap",  # how far below the unit that shares most of them
    "heading",  # weighted share of the question's key terms in the unit's heading path
    "cosine_rank",  # 1 / (1 + its rank by similarity)
    "lexical_rank",  # 1 / (1 + its rank by shared key terms)
    "cue",  # carries the kind of fact asked for (an amount for 'wat kost')
    "cue_weak",  # ... and that kind is one most text carries ('aanvragen', 'online')
    "cue_missing",  # a kind of fact is asked for and the unit carries none
    "number",  # it holds a number: an amount, a date, a period, a phone number
    "after_closest",  # it follows the unit closest in meaning, in the same passage
    "closest_in_chunk",  # it is the unit closest in meaning of its passage
    "chunk_rank",  # 1 / (1 + retrieval rank of its chunk)
    "position",  # 1 / (1 + position in its chunk)
    "row",
    "item",
    "length",  # log of its length in characters
    "label_like",  # a few words without a full stop: a link text or a label
    "asks",  # it is itself a question ('Gaat u verhuizen?')
    "leans",  # it leans on the sentence before it ('Dan ...', 'Dit ...')
    "age_fit",  # fits, or contradicts, the age the resident gave
)


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
    """Scores every unit of the retrieved passages with the fitted unit model (the probability that it
    carries a fact of the answer) and chooses the best with what it needs to be read."""

    def __init__(self, embeddings: UnitEmbeddings, terms: Terms, model: FittedModel | None = None) -> None:
        self.embeddings = embeddings
        self.terms = terms
        self.model = model or unit_model()

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
            context = self.terms.of(unit.context)
            heading = sum(w * self.terms.matches(t, context) for t, w in weights.items()) / total_weight
            age_fit = _age_fit(understanding.age, unit)
            features = {
                "cosine": float(cosine),
                "lexical": lexical,
                "heading": heading,
                "cue": float(cue),
                "cue_weak": float(kind_of_cue in WEAK_CUES),
                "number": float(any(c.isdigit() for c in unit.text)),
                "cue_missing": float(bool(understanding.kinds) and not cue),
                "chunk_rank": 1 / (1 + unit.passage_index),
                "position": 1 / (1 + unit.position),
                "row": float(unit.kind == "row"),
                "item": float(unit.kind == "item"),
                "length": math.log1p(len(unit.text)),
                "label_like": float(_label_like(unit)),
                "asks": float(unit.text.rstrip().endswith("?")),
                "leans": float(bool(unit.lead)),
                "age_fit": age_fit,
            }
            scored.append(ScoredUnit(unit, passage, 0.0, float(cosine), lexical, cue, features))
        _relative_features(scored)
        for unit_score in scored:
            unit_score.score = self.model.probability(unit_score.features)
        ranked = sorted(scored, key=lambda s: s.score, reverse=True)
        chosen = _choose(ranked, scored, understanding, self.model.threshold)
        return Selection(chosen, ranked, question_terms, weights, words)


def _relative_features(scored: list[ScoredUnit]) -> None:
    """The features that compare a unit with the other candidates (``scored`` in reading order)."""
    top_cosine = max(s.cosine for s in scored)
    top_lexical = max(s.lexical for s in scored)
    by_cosine = {id(s): rank for rank, s in enumerate(sorted(scored, key=lambda s: -s.cosine))}
    by_lexical = {id(s): rank for rank, s in enumerate(sorted(scored, key=lambda s: -s.lexical))}
    closest_of_chunk: dict[str, ScoredUnit] = {}
    for s in scored:
        known = closest_of_chunk.get(s.passage.chunk_id)
        if known is None or s.cosine > known.cosine:
            closest_of_chunk[s.passage.chunk_id] = s
    closest = max(scored, key=lambda s: s.cosine)
    for i, s in enumerate(scored):
        s.features["cosine_gap"] = s.cosine - top_cosine
        s.features["lexical_gap"] = s.lexical - top_lexical
        s.features["cosine_rank"] = 1 / (1 + by_cosine[id(s)])
        s.features["lexical_rank"] = 1 / (1 + by_lexical[id(s)])
        s.features["closest_in_chunk"] = float(closest_of_chunk[s.passage.chunk_id] is s)
        before = scored[i - 1] if i > 0 else None
        s.features["after_closest"] = float(
            before is closest and before is not None and before.passage.chunk_id == s.passage.chunk_id
        )


def _age_fit(age: int | None, unit: Unit) -> float:
    """1 when the unit's rule is for the resident's age ('Bent u tussen de 18 en 27 jaar?' for 'ik ben
    22'), -1 when it is for another age, 0 when it names none."""
    if age is None:
        return 0.0
    fit = fits(age, unit.text)
    if fit is None and unit.lead:  # "Bent u 75 jaar of ouder? Dan is uw rijbewijs 5 jaar geldig."
        fit = fits(age, unit.lead)
    return 0.0 if fit is None else (1.0 if fit else -1.0)


def _cue(kind: str, unit: Unit) -> bool:
    """Does the unit carry the kind of fact asked for? Lists answer 'welke papieren ...'."""
    if kind == "list":
        return unit.kind == "item"
    return _CUES[kind](unit.text)


def _label_like(unit: Unit) -> bool:
    """A line of a few words without a full stop is a link text or a label, not an answer."""
    text = unit.text
    return unit.kind == "sentence" and len(text.split()) <= 5 and not text.endswith((".", "!", "?", ":"))


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
    ranked: list[ScoredUnit], in_order: list[ScoredUnit], understanding: Understanding, threshold: float
) -> list[ScoredUnit]:
    """The best unit and the others of its page the model expects to carry a fact (probability at
    least ``threshold``), strongest first within the budget; then each with what it needs to be read
    (its list, its small table, the sentences it leans on, a short paragraph), as long as the answer
    fits. Units of other pages are left out: they cost more in wrong sources than they add in facts
    (docs/adr/0008)."""
    best = ranked[0]
    picked = [best]
    for candidate in ranked[1:]:
        if len(picked) >= MAX_UNITS or sum(len(s.unit.text) for s in picked) > MAX_CHARS:
            break
        if candidate.score >= threshold and candidate.passage.url == best.passage.url:
            picked.append(candidate)
    if understanding.kinds and not any(s.cue for s in picked):
        # The fact asked for (an amount, a period) from the best match's own section.
        section = (best.passage.url, best.passage.heading_path)
        cued = next((s for s in ranked if s.cue and (s.passage.url, s.passage.heading_path) == section), None)
        if cued is not None:
            picked.insert(1, cued)
    kept: list[ScoredUnit] = []
    for scored in picked:
        if scored in kept:
            continue
        needed = [*reversed(_leads(scored, in_order)), scored]
        whole = [
            *needed,
            *(s for s in _readable(scored, in_order, understanding, scored is best) if s not in needed),
        ]
        for group in (whole, needed):
            added = [s for s in group if s not in kept]
            if not kept or _chars(kept) + _chars(added) <= MAX_CHARS + 200:
                kept += added
                break
    kept = _whole_tables(kept, in_order)
    order = {id(s): i for i, s in enumerate(in_order)}
    return sorted(kept, key=lambda s: order[id(s)])


def _announcing(first_row: ScoredUnit, in_order: list[ScoredUnit]) -> list[ScoredUnit]:
    """The sentence right before a table that announces it ("Voor sommige soorten betaalt u wel:")."""
    index = _index(first_row, in_order) - 1
    before = in_order[index] if index >= 0 else None
    if (
        before is not None
        and before.passage.chunk_id == first_row.passage.chunk_id
        and before.unit.kind == "sentence"
        and before.unit.text.endswith(":")
    ):
        return [before]
    return []


def _chars(units: list[ScoredUnit]) -> int:
    return sum(len(s.unit.text) for s in units)


def _readable(
    scored: ScoredUnit, in_order: list[ScoredUnit], understanding: Understanding, is_best: bool
) -> list[ScoredUnit]:
    """What a unit needs around it to be read alone: a row the sentence that announces its table and,
    of a small table, the other rows; a list item its list and the sentence that introduces it; a
    short sentence the one after it (for the best match, the list it announces when a list is asked
    for); and the pairs and short paragraph it belongs to."""
    group = [scored]
    if scored.unit.kind == "row":
        table = _table_of(scored, in_order)
        group = [*_announcing(table[0], in_order), *(table if len(table) <= SMALL_TABLE_ROWS else [scored])]
    elif scored.unit.list_id >= 0:
        group = _whole_list(scored, in_order)
    elif is_best and "list" in understanding.kinds and (following := _list_after(scored, in_order)):
        group = [scored, *_whole_list(following, in_order)]
    elif scored.unit.kind == "sentence" and (is_best or len(scored.unit.text) < SHORT_SENTENCE):
        group += _next_sentence(scored, in_order)
    return _with_paragraphs(_with_neighbours(group, in_order), in_order)


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
