"""A small Dutch <-> English glossary of municipal words for keyword search across languages.

Bilingual municipal sites often have an English page for newcomers; BM25 cannot match a Dutch
question to it. ``Glossary.translations`` gives, for the words of a question, their translations
in the other language, which the analyzer adds to the keyword query at a lower weight.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from virtuele_assistent.index.compounds import fold

DATA_FILE = Path(__file__).parent / "data" / "glossary_nl_en.tsv"


class Glossary:
    def __init__(self, pairs: list[tuple[str, list[str]]]) -> None:
        self._map: dict[str, set[str]] = {}
        for dutch, english in pairs:
            for en in english:
                self._map.setdefault(fold(dutch), set()).add(en)
                if " " not in en:  # single English words translate back to Dutch
                    self._map.setdefault(fold(en), set()).add(dutch)

    @classmethod
    def from_file(cls, path: Path = DATA_FILE) -> Glossary:
        pairs: list[tuple[str, list[str]]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and "\t" in line:
                dutch, english = line.split("\t", 1)
                pairs.append((dutch.strip(), [e.strip() for e in english.split("|") if e.strip()]))
        return cls(pairs)

    def translations(self, words: list[str]) -> list[str]:
        """Translations (in the other language) of the given folded words, without duplicates."""
        out: list[str] = []
        for word in words:
            for translation in sorted(self._map.get(word, ())):
                if translation not in out:
                    out.append(translation)
        return out


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    return Glossary.from_file()
