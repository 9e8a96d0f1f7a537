"""Step 5, verify: every fact in a composed answer must come from the source it cites.

A sentence survives when each number in it (amounts, dates, times, phone numbers, sizes) occurs in its
cited sources, each capitalised name in it (places, organisations) occurs there too, and its content is
supported by a cited source: enough of its key terms occur there, or, failing that, its embedding is
close to one of the source's units. A value from a table must be said of its own row and column: a
small model copying "maandag, oneven weken" from the restafval column into a sentence about gft uses
only words of its source and would pass every other check. Sentences that fail are removed; citations
are checked against the real source list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from virtuele_assistent.answering.text import (
    Terms,
    bounds_of_numbers,
    digits_of,
    numbers_in,
    term_matches,
    units_of,
)
from virtuele_assistent.index.analyzer import fold
from virtuele_assistent.sentences import sentences_of, split_sentences

CITATION = re.compile(r"\s*\[(\d+)\]")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zà-ÿ]+(?:[- ][A-Z][a-zà-ÿ]+)*)")
MIN_TERM_SUPPORT = 0.6
MIN_EMBEDDING_SUPPORT = 0.87

# Words that may start with a capital anywhere without being a named fact.
_COMMON_CAPITALISED = frozenset(
    """
    U Uw Je Jij Jouw Ik De Het Een Dat Dit Die Als Wilt Kunt Neem Meer Ja Nee Ook Bel Let Op DigiD
    Gemeente Dutch Answers
    """.split()  # noqa: SIM905
)


@dataclass
class SentenceCheck:
    sentence: str
    citations: list[int]
    ok: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class Verification:
    text: str  # the answer with failing sentences removed
    checks: list[SentenceCheck]
    used_sources: list[int]

    @property
    def dropped(self) -> list[SentenceCheck]:
        return [c for c in self.checks if not c.ok]

    @property
    def kept(self) -> list[SentenceCheck]:
        return [c for c in self.checks if c.ok]


class Verifier:
    def __init__(self, terms: Terms, embed: Callable[[list[str]], np.ndarray] | None = None) -> None:
        self.terms = terms
        self.embed = embed

    def verify(
        self, answer: str, sources: dict[int, str], allowed_names: set[str] | None = None, question: str = ""
    ) -> Verification:
        """``sources`` maps citation number -> the text that number stands for; ``question``, when
        given, is what the answer must be about (a table row or column it names)."""
        allowed = {n.lower() for n in (allowed_names or set())}
        checks = []
        for sentence in sentences_of(answer):
            cited = [int(n) for n in CITATION.findall(sentence)]
            bare = CITATION.sub("", sentence).strip()
            valid = [n for n in cited if n in sources]
            evidence_ids = valid or list(sources)  # an uncited sentence must be supported by some source
            evidence = "\n".join(sources[n] for n in evidence_ids)
            problems = self._problems(bare, evidence, allowed, question)
            if cited and not valid:
                problems.append("citation to an unknown source")
            if not problems:
                sentence = amounts_as_in_source(sentence, evidence)
            checks.append(SentenceCheck(sentence, valid, not problems, problems))
        kept = [c for c in checks if c.ok]
        used = sorted({n for c in kept for n in c.citations})
        text = " ".join(_render(c) for c in kept).strip()
        return Verification(text, checks, used)

    def _problems(self, sentence: str, evidence: str, allowed: set[str], question: str = "") -> list[str]:
        problems = []
        missing_numbers = numbers_in(sentence) - numbers_in(evidence)
        if missing_numbers:
            problems.append("number not in source: " + ", ".join(sorted(missing_numbers)))
        else:
            problems.extend(_changed_bounds(sentence, evidence))
        evidence_lower = evidence.lower()
        for name in _NAME.findall(sentence):
            if name in _COMMON_CAPITALISED or name.lower() in allowed:
                continue
            if name.lower() not in evidence_lower:
                problems.append(f"name not in source: {name}")
        if not problems:
            problems.extend(self._table_mixups(sentence, evidence, question))
        if not problems and not self._supported(sentence, evidence):
            problems.append("not supported by a source")
        return problems

    def _supported(self, sentence: str, evidence: str) -> bool:
        key_terms = self.terms.content(sentence)
        if len(key_terms) <= 1:
            return True  # "Dat kan." carries no claim of its own
        available = self.terms.of(evidence)
        share = sum(term_matches(t, available) for t in key_terms) / len(key_terms)
        if share >= MIN_TERM_SUPPORT:
            return True
        if self.embed is None:
            return False
        units = [u for u in split_sentences(evidence.replace("\n", " ")) if u.strip()]
        if not units:
            return False
        vectors = self.embed([sentence, *units])
        return float(np.max(vectors[1:] @ vectors[0])) >= MIN_EMBEDDING_SUPPORT

    def _table_mixups(self, sentence: str, evidence: str, question: str = "") -> list[str]:
        """A table value the sentence gives, where no row and column the sentence names holds it (all
        rows, or all columns, when it names none); or where none of the values it gives is in a row or
        column the question asks about ("Maandag: 13.00 - 17.00 uur" for a question about zaterdag)."""
        said_terms = frozenset(self.terms.content(sentence))
        asked_terms = frozenset(self.terms.content(question)) if question else frozenset()
        said_words = _words(sentence)
        said_numbers = numbers_in(sentence)
        problems = []
        for header, rows in _tables(evidence):
            columns = range(1, len(header))
            said = {
                (r, c)
                for r, row in enumerate(rows)
                for c in columns
                if c < len(row) and _says(row[c], said_words, said_numbers)
            }
            if not said:
                continue
            named_rows, named_columns = self._cells_named(header, rows, said_terms)
            row, column = min(said)  # the cell to name in the problem
            if not any(r in named_rows and c in named_columns for r, c in said):
                problems.append(f"table value of another row or column: {rows[row][0]} / {header[column]}")
                continue
            asked_rows, asked_columns = self._cells_named(header, rows, asked_terms)
            if not any(r in asked_rows and c in asked_columns for r, c in said):
                problems.append(
                    f"table value the question does not ask about: {rows[row][0]} / {header[column]}"
                )
        return problems

    def _cells_named(
        self, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], said_terms: frozenset[str]
    ) -> tuple[set[int], set[int]]:
        """The rows and value columns a text names; all of them where it names none."""
        named_rows = self._named([row[0] for row in rows], said_terms) or set(range(len(rows)))
        named_columns = {c + 1 for c in self._named(list(header[1:]), said_terms)}
        return named_rows, named_columns or set(range(1, len(header)))

    def _named(self, labels: list[str], said_terms: frozenset[str]) -> set[int]:
        """The labels a text names by a word no other label has ('gft', not 'zone'). Whole words only:
        the 'afval' in 'afvalstoffenheffing' does not name the row 'Extra container restafval'."""
        terms = [frozenset(self.terms.content(label)) for label in labels]
        named = set()
        for index, own in enumerate(terms):
            others = frozenset().union(*(t for i, t in enumerate(terms) if i != index))
            if (own - others) & said_terms:
                named.add(index)
        return named


@lru_cache(maxsize=256)  # every sentence of an answer is checked against the same sources
def _tables(evidence: str) -> tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...]:
    """The Markdown tables in a source's text: header cells and rows of cells (tables with the same
    header taken together)."""
    tables: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for unit in units_of(evidence, 0):
        if unit.kind == "row" and len(unit.header_cells) > 1 and unit.cells:
            rows = tables.setdefault(unit.header_cells, [])
            if unit.cells not in rows:
                rows.append(unit.cells)
    return tuple((header, tuple(rows)) for header, rows in tables.items())


_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _says(value: str, words: list[str], numbers: set[str]) -> bool:
    """Whether a sentence gives a table cell's value: all its numbers, or all its words in a row.
    Cells too short to tell ('ja', '-') are never counted."""
    value_numbers = numbers_in(value)
    if value_numbers:
        return value_numbers <= numbers
    wanted = _words(value)
    if sum(len(w) for w in wanted) < 4:
        return False
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


_AMOUNT_FORMS = re.compile(r"€\s?\d[\d.,]*\d(?:,-)?|€\s?\d|\d[\d.,]*\s?(?:€|euro\b)", re.I)


def amounts_as_in_source(sentence: str, evidence: str) -> str:
    """Write each amount the way its source does ('312,60 euro' -> '€ 312,60'): a model may reformat
    an amount it copied correctly, and residents should see the municipality's own notation."""
    written: dict[str, str] = {}
    for match in _AMOUNT_FORMS.finditer(evidence):
        form = match.group().strip()
        if form.startswith("€"):
            written.setdefault(digits_of(form), form)

    def replace(match: re.Match[str]) -> str:
        return written.get(digits_of(match.group()), match.group())

    return _AMOUNT_FORMS.sub(replace, sentence)


def _changed_bounds(sentence: str, evidence: str) -> list[str]:
    """A number the sources give with a bound every time ("maximaal 60 liter") must keep one of those
    bounds in the answer: "60 liter" or "minimaal 60 liter" states another fact."""
    in_sources = bounds_of_numbers(evidence)
    problems = []
    for number, occurrences in bounds_of_numbers(sentence).items():
        found = in_sources.get(number, [])
        if not found or not all(found):
            continue
        expected = set().union(*found)
        if any(not (expected & words) for words in occurrences):
            problems.append(f"bound changed: {number} ({'/'.join(sorted(expected))})")
    return problems


def _render(check: SentenceCheck) -> str:
    return check.sentence.strip()
