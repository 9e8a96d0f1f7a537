"""Which language a resident writes in (lingua, offline: its models ship inside the wheel).

Only languages residents of Dutch municipalities commonly write in are considered, which keeps the
detector small and fast. Short or ambiguous messages count as Dutch (or the client's hint): a
one-word question like "paspoort" must not switch the conversation to another language.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# Low-accuracy (trigram) mode over ten languages: ~0.3 s to load, ~35 MB, ~0.1 ms per question.
# High-accuracy mode over the same set took ~5.5 s and ~340 MB for little gain on questions.
LANGUAGES = ("nl", "en", "de", "fr", "es", "pl", "tr", "ar", "uk", "so")
DEFAULT = "nl"
MIN_CHARS = 12
MIN_CONFIDENCE = 0.5
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    wanted = []
    for code in LANGUAGES:
        try:
            wanted.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            continue
    return (
        LanguageDetectorBuilder.from_languages(*wanted)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def detect(text: str, hint: str | None = None) -> str:
    """ISO 639-1 code of the text's language; the hint (or Dutch) when unsure."""
    fallback = hint if hint in LANGUAGES else DEFAULT
    stripped = " ".join(text.split())
    if len(stripped) < MIN_CHARS or len(stripped.split()) < 2:
        return fallback
    try:
        with _lock:
            detector = _detector()
        values = detector.compute_language_confidence_values(stripped)
    except Exception:  # an unavailable detector must not block the conversation
        return fallback
    if not values:
        return fallback
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if best.value < MIN_CONFIDENCE:
        return fallback
    return code


def warm_up() -> None:
    detect("Dit is een zin om het model te laden.")
