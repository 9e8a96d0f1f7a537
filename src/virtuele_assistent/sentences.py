"""Where a sentence ends: one splitter for page text (chunks, answer units), composed answers
(verification) and readability.

A sentence ends at ".", "!" or "?" (or a citation "[1]" after one) followed by a space and a
capital, a digit, "€", a quote or a bracket; a common Dutch abbreviation ("bijv.", "o.a.", "t/m")
does not end one. The chat's safety screen of streamed text (``conversations.guardrails``) cuts at
every full stop without looking ahead, because the next character may not have arrived yet.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?\]])\s+(?=[A-Z0-9ÀÁÂÄÉÈÊËÍÏÓÖÚÜ€\"'(])")
_ABBREVIATIONS = ("bijv.", "o.a.", "d.w.z.", "m.b.t.", "t/m", "ca.", "nr.", "incl.", "excl.", "bv.", "z.o.z.")
_LIST_ITEM = re.compile(r"^([-*+]|\d+[.)])\s+")


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped, empty ones left out."""
    protected = paragraph
    for abbreviation in _ABBREVIATIONS:
        protected = protected.replace(abbreviation, abbreviation.replace(".", "\x00"))
    parts = _SENTENCE_END.split(protected)
    return [p.replace("\x00", ".").strip() for p in parts if p.strip()]


def sentences_of(text: str) -> list[str]:
    """The sentences of a text of several lines: each list item whole, every other line split."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if _LIST_ITEM.match(line):
            pieces.append(line)
        elif line:
            pieces.extend(split_sentences(line))
    return pieces
