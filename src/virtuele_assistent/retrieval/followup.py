"""Turn a follow-up ("En voor een kind?") into a question that stands on its own.

Heuristic, no model: a short question, or one that opens with a connective or leans on a pronoun
("dat", "daarvoor"), borrows the topic of the resident's previous question. The answer pipeline may
ask an LLM to rewrite instead when one is configured; this is its fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from virtuele_assistent.index.analyzer import STOPWORDS, fold

RESIDENT_ROLES = ("resident", "user")

_CONNECTIVE = re.compile(
    r"^(en|maar|ook|of|dus|en als|wat als|hoe zit het met|geldt dat ook|and|but|what about|how about|"
    r"also)\b",
    re.I,
)
_ANAPHORA = re.compile(
    r"\b(dat|dit|die|daar|daarvoor|daarvan|daarmee|ervoor|erover|hij|zij|ze|het ook|it|that|this|those|"
    r"them|there)\b",
    re.I,
)
_CONTENT = re.compile(r"[a-z0-9]+")
_FILLER = frozenset(
    """
    wat hoe waar wanneer welke wie kost kosten kan kun kunt mag moet ik we je u mijn ons onze lang
    hoeveel krijg krijgen aanvragen doen the what how much when where can i my
    """.split()  # noqa: SIM905
)


def content_words(text: str) -> list[str]:
    return [w for w in _CONTENT.findall(fold(text)) if w not in STOPWORDS and w not in _FILLER and len(w) > 1]


def is_follow_up(question: str) -> bool:
    text = question.strip()
    words = content_words(text)
    if _CONNECTIVE.match(text):
        return True
    if len(words) <= 1 and len(text.split()) <= 6:
        return True
    return bool(_ANAPHORA.search(text)) and len(words) <= 3


def previous_questions(history: Sequence[tuple[str, str]]) -> list[str]:
    return [text for role, text in history if role in RESIDENT_ROLES and text.strip()]


def standalone_question(question: str, history: Sequence[tuple[str, str]]) -> str:
    """The question with the topic of the conversation added when it is a follow-up."""
    earlier = previous_questions(history)
    if not earlier or not is_follow_up(question):
        return question
    # The topic may itself come from a follow-up: resolve the earlier turns first.
    topic = earlier[0]
    for turn in earlier[1:]:
        topic = standalone_question(turn, [("resident", topic)])
    topic_words = [w for w in content_words(topic) if w not in content_words(question)]
    if not topic_words:
        return question
    return f"{question.strip()} ({' '.join(topic_words)})"
