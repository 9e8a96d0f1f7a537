"""Follow-up questions -> standalone questions, before retrieval.

"En voor een tweede auto?" after "Wat kost een parkeervergunning voor bewoners?" cannot be
searched on its own. ``standalone_question`` puts the key terms of the conversation's earlier
questions in front of a question that looks like a follow-up:
"parkeervergunning bewoners: En voor een tweede auto?". It is a heuristic without a language
model, so it works in the embedded profile; an answering pipeline with an LLM may do better.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from virtuele_assistent.index.analyzer import STOPWORDS, fold

# Words that open a question continuing the previous one.
_CONTINUATIONS = frozenset(
    ["en", "ook", "maar", "dan", "of", "and", "also", "but", "what", "how", "about", "so"]
)
# Words that point back at something said before.
_ANAPHORA = frozenset(
    [
        "dan",
        "ook",
        "dat",
        "dit",
        "die",
        "daar",
        "daarvoor",
        "daarvan",
        "daarmee",
        "daarna",
        "ervoor",
        "erbij",
        "ervan",
        "hem",
        "haar",
        "ze",
        "zij",
        "hetzelfde",
        "dezelfde",
        "zo'n",
        "that",
        "this",
        "it",
        "its",
        "there",
        "they",
        "them",
        "those",
        "same",
    ]
)
_QUESTION_WORDS = frozenset(
    [
        "wat",
        "hoe",
        "hoeveel",
        "waar",
        "waarom",
        "wanneer",
        "welk",
        "welke",
        "wie",
        "kan",
        "kun",
        "kunt",
        "mag",
        "moet",
        "moeten",
        "wil",
        "what",
        "how",
        "much",
        "many",
        "where",
        "why",
        "when",
        "which",
        "who",
        "can",
        "could",
        "may",
        "must",
        "should",
        "do",
        "does",
        "is",
        "are",
        "the",
        "a",
        "an",
        "of",
        "to",
        "for",
        "in",
        "on",
        "my",
        "i",
        "you",
        "your",
        "we",
        "our",
        "me",
    ]
)
_WORD = re.compile(r"[\w'-]+")
SHORT_QUESTION_WORDS = 3  # a question with this few content words leans on what came before


def key_terms(question: str) -> list[str]:
    """The content words of a question, in order, without duplicates: what it is about."""
    terms: list[str] = []
    for word in _WORD.findall(question):
        folded = fold(word).strip("'-")
        if len(folded) < 3 or folded in STOPWORDS or folded in _QUESTION_WORDS or folded.isdigit():
            continue
        if folded not in (fold(t) for t in terms):
            terms.append(word.strip("'-"))
    return terms


def is_follow_up(question: str) -> bool:
    words = [fold(w) for w in _WORD.findall(question)]
    if not words:
        return False
    if words[0] in _CONTINUATIONS:
        return True
    if any(w in _ANAPHORA for w in words):
        return True
    return len(key_terms(question)) <= SHORT_QUESTION_WORDS - 1


def standalone_question(question: str, history: Sequence[str | tuple[str, str]] = ()) -> str:
    """Rewrite ``question`` to stand on its own, given the earlier turns of the conversation.

    ``history`` holds the earlier turns, oldest first, either as the resident's questions or as
    (role, text) pairs (only 'user' turns are used). Earlier follow-ups are resolved first, so a
    chain of follow-ups keeps the topic of the question that started it.
    """
    questions = [
        turn if isinstance(turn, str) else turn[1]
        for turn in history
        if isinstance(turn, str) or turn[0] == "user"
    ]
    context = ""
    for earlier in questions:
        context = _rewrite(earlier, context)
    return _rewrite(question, context)


def _rewrite(question: str, context: str) -> str:
    if not context or not is_follow_up(question):
        return question
    own = {fold(t) for t in key_terms(question)}
    carried = [t for t in key_terms(context) if fold(t) not in own]
    return f"{' '.join(carried)}: {question}" if carried else question
