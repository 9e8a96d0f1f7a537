"""Language detection (lingua, offline: its models ship inside the wheel), one detector per process.

Documents use it when a file does not declare its language; retrieval and conversations use it for
questions. Only languages residents of Dutch municipalities commonly read and write are considered,
and the low-accuracy (trigram) mode is used: ~0.3 s to load and ~35 MB, against ~5.5 s and ~340 MB
for high-accuracy mode, with little difference on texts of more than a few words.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

LANGUAGES = ("nl", "en", "de", "fr", "es", "pl", "tr", "ar", "uk", "so")
_LOCK = threading.Lock()


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


def language_confidences(text: str) -> list[tuple[str, float]]:
    """(ISO 639-1 code, confidence) pairs, most likely first."""
    with _LOCK:
        values = _detector().compute_language_confidence_values(text)
    return [(value.language.iso_code_639_1.name.lower(), value.value) for value in values]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code ('nl', 'en', ...) of the text, or None when it is too short to tell."""
    sample = " ".join(text.split()[:400])
    if len(sample.split()) < 5:
        return None
    with _LOCK:
        language = _detector().detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language is not None else None
