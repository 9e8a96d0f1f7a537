"""Dutch readability: the Flesch-Douma reading ease of an answer (higher is easier; B1 is about 60+)."""

from __future__ import annotations

import re

from virtuele_assistent.sentences import sentences_of

_VOWEL_GROUP = re.compile(r"[aeiouyáéíóúäëïöüàèìòù]+", re.I)
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9€]+")
_CITATION = re.compile(r"\[\d+\]")


def syllables(word: str) -> int:
    """Vowel groups count as syllables: 'paspoort' 2, 'aanvragen' 3 (Dutch diphthongs are one group)."""
    if word.isdigit() or word == "€":
        return 1
    return max(1, len(_VOWEL_GROUP.findall(word)))


def flesch_douma(text: str) -> float | None:
    """206.84 - 0.93 * (words per sentence) - 77 * (syllables per word); None for empty text."""
    text = _CITATION.sub("", text)
    sentences = [s for s in sentences_of(text) if _WORD.search(s)]
    words = _WORD.findall(text)
    if not words or not sentences:
        return None
    per_sentence = len(words) / len(sentences)
    per_word = sum(syllables(w) for w in words) / len(words)
    return round(206.84 - 0.93 * per_sentence - 77.0 * per_word, 1)
