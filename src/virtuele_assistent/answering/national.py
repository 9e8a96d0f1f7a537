"""National matters: a question about something the national government handles (huurtoeslag,
kinderbijslag, a WW benefit, a number plate) that the municipality's content does not answer is
declined with the national body as the route, not only the municipality's desk.

The bodies and the words residents use for their matters are a list kept with the package
(``data/national_bodies.txt``): the same for every municipality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from virtuele_assistent.index.analyzer import fold


@dataclass(frozen=True)
class NationalBody:
    name: str  # "de Sociale Verzekeringsbank (SVB)"
    url: str
    words: tuple[str, ...]


@lru_cache(maxsize=1)
def national_bodies() -> tuple[NationalBody, ...]:
    data = resources.files("virtuele_assistent.answering").joinpath("data/national_bodies.txt")
    text = data.read_text("utf-8")
    bodies = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words, name, url = (part.strip() for part in line.split("|"))
        bodies.append(NationalBody(name, url, tuple(fold(w.strip()) for w in words.split(",") if w.strip())))
    return tuple(bodies)


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], NationalBody], ...]:
    return tuple(
        (re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])"), body)
        for body in national_bodies()
        for word in sorted(body.words, key=len, reverse=True)
    )


@dataclass(frozen=True)
class NationalMatter:
    word: str  # as the list has it: "huurtoeslag"
    body: NationalBody


def national_matter(question: str) -> NationalMatter | None:
    """The national matter the question names, with the body that handles it; None if it names none."""
    text = " ".join(fold(question).split())
    for pattern, body in _patterns():
        match = pattern.search(text)
        if match:
            return NationalMatter(match.group(), body)
    return None
