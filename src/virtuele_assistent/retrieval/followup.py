"""Turn a follow-up ("En voor een kind?") into a question that stands on its own.

Whether a question continues the conversation is read from the question itself and the previous one
(``FOLLOW_UP_FEATURES``: a connective or a pronoun that points back, how many words of its own it
has and how rare they are, what it shares with the previous question), weighed by a model fitted on
the evaluation set with each municipality left out (``data/followup_model.json``, docs/adr/0008). A
follow-up borrows the topic of the resident's previous question; "Wat kost een paspoort?" after a
question about bulky waste names its own topic and is left as it is. The answer pipeline may ask an
LLM to rewrite a follow-up instead when one is configured; this is its fallback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

from wordfreq import zipf_frequency

from virtuele_assistent.fitted import FittedModel
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


FOLLOW_UP_FEATURES = (
    "connective",  # opens with 'en', 'maar', 'wat als', 'and', ...
    "anaphora",  # points back: 'dat', 'daarvoor', 'die', 'it', ...
    "own_words",  # how many words of its own (no question words, no stopwords), at most 6
    "rare_words",  # how many of them are rare in the language: names of things ('paspoort')
    "rarest",  # how rare its rarest word is (6 minus its Zipf frequency, 0 to 6)
    "length",  # log of its number of words
    "shared",  # share of its own words that the previous question also has
)


@lru_cache(maxsize=1)
def followup_model() -> FittedModel:
    return FittedModel.packaged("virtuele_assistent.retrieval", "followup_model.json", FOLLOW_UP_FEATURES)


def rarity(word: str) -> float:
    """6 minus the word's Zipf frequency in Dutch or English, whichever knows it better (0 to 6)."""
    return min(6.0, max(0.0, 6.0 - max(zipf_frequency(word, "nl"), zipf_frequency(word, "en"))))


def follow_up_features(question: str, previous: str) -> dict[str, float]:
    text = question.strip()
    words = content_words(text)
    before = {w[:5] for w in content_words(previous)}
    rarities = [rarity(w) for w in words]
    return {
        "connective": float(bool(_CONNECTIVE.match(text))),
        "anaphora": float(bool(_ANAPHORA.search(text))),
        "own_words": float(min(len(words), 6)),
        "rare_words": float(sum(1 for r in rarities if r >= 1.5)),
        "rarest": max(rarities, default=0.0),
        "length": math.log1p(len(text.split())),
        "shared": sum(1 for w in words if w[:5] in before) / len(words) if words else 0.0,
    }


def is_follow_up(question: str, previous: str, model: FittedModel | None = None) -> bool:
    """Does ``question`` continue the conversation whose last question was ``previous``? A question
    without a word of its own ("Wat kost dat?", "En dan?") has no topic but the conversation's; for
    the others the fitted model decides."""
    features = follow_up_features(question, previous)
    if features["own_words"] == 0:
        return True
    model = model or followup_model()
    return model.probability(features) >= model.threshold


def previous_questions(history: Sequence[tuple[str, str]]) -> list[str]:
    return [text for role, text in history if role in RESIDENT_ROLES and text.strip()]


def standalone_question(
    question: str, history: Sequence[tuple[str, str]], model: FittedModel | None = None
) -> str:
    """The question with the topic of the conversation added when it is a follow-up."""
    earlier = previous_questions(history)
    if not earlier or not is_follow_up(question, earlier[-1], model):
        return question
    # The topic may itself come from a follow-up: resolve the earlier turns first.
    topic = earlier[0]
    for turn in earlier[1:]:
        topic = standalone_question(turn, [("resident", topic)], model)
    topic_words = [w for w in content_words(topic) if w not in content_words(question)]
    if not topic_words:
        return question
    return f"{question.strip()} ({' '.join(topic_words)})"
