"""Which language a resident writes in (lingua, offline: its models ship inside the wheel).

The detector is the one of extract.language. Short or ambiguous messages count as Dutch (or the
client's hint): a one-word question like "paspoort" must not switch the conversation to another
language.
"""

from __future__ import annotations

from virtuele_assistent.answering.compose import dutch_only_note
from virtuele_assistent.answering.verify import CITATION
from virtuele_assistent.extract.language import LANGUAGES, language_confidences
from virtuele_assistent.tenants.schemas import TenantProfile

DEFAULT = "nl"
MIN_CHARS = 12
MIN_CONFIDENCE = 0.5


def detect(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of the text's language; the hint (or Dutch) when unsure."""
    fallback = hint if hint in LANGUAGES else DEFAULT
    stripped = " ".join(text.split())
    if len(stripped) < MIN_CHARS or len(stripped.split()) < 2:
        return fallback
    try:
        values = language_confidences(stripped)
    except Exception:  # an unavailable detector must not block the conversation
        return fallback
    if not values:
        return fallback
    code, confidence = values[0]
    return code if confidence >= MIN_CONFIDENCE else fallback


def warm_up() -> None:
    detect("Dit is een zin om het model te laden.")


def answer_languages(tenant: TenantProfile, text: str, resident: str) -> tuple[str | None, str]:
    """The note an answer starts with when it is in Dutch for a resident who wrote ``resident`` ("I can
    only answer in Dutch. ..."), if it does, and the language of the answer's own sentences: a page's
    Dutch sentences, or a model's in the resident's language. A client marks each part with its own
    language (WCAG 3.1.2)."""
    note = dutch_only_note(resident, tenant)
    if note is None or not text.startswith(note):
        return None, detect(CITATION.sub("", text))
    return note, detect(CITATION.sub("", text[len(note) :]))
