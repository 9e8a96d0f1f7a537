"""Keyword analysis: text -> terms -> BM25 sparse vector (Qdrant applies the IDF).

``DutchAnalyzer`` is the product's analyzer: lowercasing, accent folding, Dutch stopwords, Snowball
stemming with long-vowel normalisation, and compound splitting (a compound is indexed as itself and
as its parts, so 'afvalstoffenheffing' also matches 'afval' and 'heffing'). ``PlainAnalyzer`` is the
off-the-shelf baseline (lowercased word tokens, nothing else), kept for side-by-side evaluation.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import snowballstemmer

from virtuele_assistent.index.compounds import CompoundSplitter, default_splitter, fold
from virtuele_assistent.index.glossary import Glossary, default_glossary

# Standard Dutch stopword list (Snowball), plus a few question words that carry no topic.
STOPWORDS = frozenset(
    [
        "aan",
        "al",
        "alles",
        "als",
        "altijd",
        "andere",
        "ben",
        "bij",
        "daar",
        "dan",
        "dat",
        "de",
        "der",
        "deze",
        "die",
        "dit",
        "doch",
        "doen",
        "door",
        "dus",
        "een",
        "eens",
        "en",
        "er",
        "ge",
        "geen",
        "geweest",
        "haar",
        "had",
        "heb",
        "hebben",
        "heeft",
        "hem",
        "het",
        "hier",
        "hij",
        "hoe",
        "hun",
        "iemand",
        "iets",
        "ik",
        "in",
        "is",
        "ja",
        "je",
        "kan",
        "kon",
        "kunnen",
        "maar",
        "me",
        "meer",
        "men",
        "met",
        "mij",
        "mijn",
        "moet",
        "na",
        "naar",
        "niet",
        "niets",
        "nog",
        "nu",
        "of",
        "om",
        "omdat",
        "onder",
        "ons",
        "ook",
        "op",
        "over",
        "reeds",
        "te",
        "tegen",
        "toch",
        "toen",
        "tot",
        "u",
        "uit",
        "uw",
        "van",
        "veel",
        "voor",
        "want",
        "waren",
        "was",
        "wat",
        "werd",
        "wezen",
        "wie",
        "wil",
        "worden",
        "wordt",
        "zal",
        "ze",
        "zelf",
        "zich",
        "zij",
        "zijn",
        "zo",
        "zonder",
        "zou",
        # question and modal words: they say how something is asked, not what about
        "hoeveel",
        "waar",
        "waarom",
        "wanneer",
        "welk",
        "welke",
        "kun",
        "kunt",
        "mag",
        "mogen",
        "moeten",
    ]
)

_TOKEN = re.compile(r"[a-z0-9]+")
_PLAIN_TOKEN = re.compile(r"\w+")
_DOUBLE_VOWEL = re.compile(r"([aeou])\1(?=[^aeiouy]+$)")
K1 = 1.2
B = 0.75
AVG_DOC_TERMS = 120.0
PART_WEIGHT = 0.5  # weight of a compound's parts relative to the whole word
TRANSLATION_WEIGHT = 0.5  # weight of glossary translations in a keyword query
# Where something is ("Waar is het stadhuis?") is answered by an address ("Bezoekadres: Stadhuisplein
# 1"), and the page says "adres", not "waar": the keyword query asks for it too, at the same low weight.
# Not "Waar meld ik dat?": that asks for a way, not a place.
_ASKS_WHERE = re.compile(r"\bwaar (is|zijn|zit|zitten|ligt|liggen|vind ik)\b", re.I)

__all__ = ["STOPWORDS", "Analyzer", "DutchAnalyzer", "PlainAnalyzer", "SparseVector", "fold"]


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


class Analyzer(Protocol):
    name: str

    def terms(self, text: str) -> list[str]: ...

    def document_vector(self, text: str) -> SparseVector: ...

    def query_vector(self, text: str) -> SparseVector: ...


class _Bm25:
    """BM25 term weights (saturated tf with length normalisation); Qdrant's IDF modifier adds the IDF."""

    def weighted_terms(self, text: str) -> dict[str, float]:
        raise NotImplementedError

    def document_vector(self, text: str) -> SparseVector:
        counts = self.weighted_terms(text)
        length = sum(counts.values()) or 1.0
        norm = K1 * (1 - B + B * length / AVG_DOC_TERMS)
        return _to_sparse({term: tf * (K1 + 1) / (tf + norm) for term, tf in counts.items()})

    def query_vector(self, text: str) -> SparseVector:
        counts = self.weighted_terms(text)
        return _to_sparse({term: min(weight, 1.0) for term, weight in counts.items()})


class DutchAnalyzer(_Bm25):
    name = "dutch"

    def __init__(
        self,
        splitter: CompoundSplitter | None = None,
        part_weight: float = PART_WEIGHT,
        glossary: Glossary | None | bool = True,
    ) -> None:
        self._stemmer = snowballstemmer.stemmer("dutch")
        self._splitter = splitter if splitter is not None else default_splitter()
        self.part_weight = part_weight
        self.glossary = default_glossary() if glossary is True else (glossary or None)
        self._stems: dict[str, str] = {}

    def stem(self, token: str) -> str:
        stem = self._stems.get(token)
        if stem is None:
            # 'parkeer' (in parkeervergunning) and 'parkeren' -> 'parker'; 'straat' -> 'strat'
            stem = _DOUBLE_VOWEL.sub(r"\1", self._stemmer.stemWord(token))
            if len(self._stems) < 500_000:
                self._stems[token] = stem
        return stem

    def tokens(self, text: str) -> list[str]:
        return [t for t in _TOKEN.findall(fold(text)) if t not in STOPWORDS]

    def terms(self, text: str) -> list[str]:
        """Stems of the words, each compound followed by the stems of its parts."""
        out: list[str] = []
        for token in self.tokens(text):
            out.append(self.stem(token))
            out.extend(self.stem(p) for p in self._splitter.split(token) if p not in STOPWORDS)
        return out

    def weighted_terms(self, text: str) -> dict[str, float]:
        weights: dict[str, float] = {}
        for token in self.tokens(text):
            stem = self.stem(token)
            weights[stem] = weights.get(stem, 0.0) + 1.0
            for part in self._splitter.split(token):
                if part in STOPWORDS:
                    continue
                part_stem = self.stem(part)
                if part_stem != stem:
                    weights[part_stem] = weights.get(part_stem, 0.0) + self.part_weight
        return weights

    def query_vector(self, text: str) -> SparseVector:
        """Query terms, plus (at a lower weight) glossary translations to match pages in the other
        language of a bilingual site."""
        weights = {term: min(weight, 1.0) for term, weight in self.weighted_terms(text).items()}
        if self.glossary is not None:
            for translation in self.glossary.translations(self.tokens(text)):
                for term, weight in self.weighted_terms(translation).items():
                    weights.setdefault(term, TRANSLATION_WEIGHT * min(weight, 1.0))
        if _ASKS_WHERE.search(text):
            weights.setdefault(self.stem("adres"), TRANSLATION_WEIGHT)
        return _to_sparse(weights)


class PlainAnalyzer(_Bm25):
    """The baseline an engineer gets by default: lowercased word tokens, no Dutch analysis."""

    name = "plain"

    def terms(self, text: str) -> list[str]:
        return _PLAIN_TOKEN.findall(text.lower())

    def weighted_terms(self, text: str) -> dict[str, float]:
        return {term: float(count) for term, count in Counter(self.terms(text)).items()}


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def _to_sparse(weights: dict[str, float]) -> SparseVector:
    merged: dict[int, float] = {}
    for term, weight in weights.items():
        index = term_id(term)
        merged[index] = merged.get(index, 0.0) + weight
    indices = sorted(merged)
    return SparseVector(indices=indices, values=[merged[i] for i in indices])
