"""Language of a text when the file does not declare it (PDF/DOCX often do not)."""

from __future__ import annotations

import threading
from functools import lru_cache

_LOCK = threading.Lock()

# Languages residents of Dutch municipalities commonly read and write; a short list keeps the
# detector small and fast.
_LANGUAGES = ("DUTCH", "ENGLISH", "GERMAN", "FRENCH", "TURKISH", "ARABIC", "POLISH", "UKRAINIAN", "SPANISH")


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in _LANGUAGES)).build()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code ('nl', 'en', ...) of the text, or None when it is too short to tell."""
    sample = " ".join(text.split()[:400])
    if len(sample.split()) < 5:
        return None
    with _LOCK:
        language = _detector().detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language is not None else None
