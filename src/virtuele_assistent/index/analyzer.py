"""Dutch keyword analysis: text -> terms -> BM25 sparse vector (Qdrant applies the IDF)."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass

import snowballstemmer

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
    ]
)

_TOKEN = re.compile(r"[a-z0-9]+")
K1 = 1.2
B = 0.75
AVG_DOC_TERMS = 120.0


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


def fold(text: str) -> str:
    """Lowercase and strip accents: 'Één' -> 'een', 'café' -> 'cafe'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class DutchAnalyzer:
    def __init__(self) -> None:
        self._stemmer = snowballstemmer.stemmer("dutch")

    def terms(self, text: str) -> list[str]:
        tokens = [t for t in _TOKEN.findall(fold(text)) if t not in STOPWORDS]
        return self._stemmer.stemWords(tokens)

    def document_vector(self, text: str) -> SparseVector:
        """BM25 term weights (saturated tf with length normalisation); IDF comes from Qdrant."""
        counts = Counter(self.terms(text))
        length = sum(counts.values()) or 1
        norm = K1 * (1 - B + B * length / AVG_DOC_TERMS)
        return _to_sparse({term: tf * (K1 + 1) / (tf + norm) for term, tf in counts.items()})

    def query_vector(self, text: str) -> SparseVector:
        return _to_sparse({term: 1.0 for term in set(self.terms(text))})


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def _to_sparse(weights: dict[str, float]) -> SparseVector:
    merged: dict[int, float] = {}
    for term, weight in weights.items():
        index = term_id(term)
        merged[index] = merged.get(index, 0.0) + weight
    indices = sorted(merged)
    return SparseVector(indices=indices, values=[merged[i] for i in indices])
