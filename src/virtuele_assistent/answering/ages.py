"""Ages: the resident's age in a question and the age conditions of municipal rules.

Dutch municipal content sets many rules by age ("Bent u tussen de 18 en 27 jaar?", "jonger dan 65
jaar", "75 jaar of ouder", "tot het kind 16 jaar oud is"). A question that states an age ("ik ben 22",
"mijn zoon van 15", "ze is 82") is best answered by the rule whose condition fits it.
"""

from __future__ import annotations

import re

OLDEST = 130
_QUESTION_AGE = [
    re.compile(
        r"\b(?:ik ben|ben ik|hij is|zij is|ze is|is hij|is zij)\s+(\d{1,3})\b(?!\s*(?:kg|cm|m|%|euro))", re.I
    ),
    re.compile(r"\bword\w*\s+(?:\w+\s+){0,2}(\d{1,3})\b(?!\s*(?:kg|cm|m|%|euro))", re.I),
    re.compile(r"\b(?:zoon|dochter|dochtr|kind|kinderen|vader|moeder)\s+van\s+(\d{1,3})\b", re.I),
    re.compile(r"\b(\d{1,3})\s+jaar\s+oud\b", re.I),
    re.compile(r"\b(?:i am|i'm)\s+(\d{1,3})\b", re.I),
]
_RANGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\btussen\s+(?:de\s+)?(\d{1,3})\s+en\s+(\d{1,3})\s+jaar", re.I), "between"),
    (re.compile(r"\b(?:jonger dan|onder de)\s+(\d{1,3})\s+jaar", re.I), "below"),
    (re.compile(r"\btot\s+(?:het kind\s+|uw\s+)?(\d{1,3})e?\s+(?:jaar|verjaardag)", re.I), "below"),
    (re.compile(r"\b(\d{1,3})\s+jaar\s+(?:of|en)\s+ouder", re.I), "from"),
    (re.compile(r"\b(?:vanaf|ouder dan)\s+(\d{1,3})\s+jaar", re.I), "from"),
]


def age_in(question: str) -> int | None:
    """The age a question states, if any: 'ik ben 22' -> 22, 'mijn zoon van 15' -> 15."""
    for pattern in _QUESTION_AGE:
        match = pattern.search(question)
        if match and 0 < int(match.group(1)) < OLDEST:
            return int(match.group(1))
    return None


def age_range(text: str) -> tuple[int, int] | None:
    """The ages a rule applies to, inclusive, or None when the text sets no age condition."""
    for pattern, kind in _RANGES:
        match = pattern.search(text)
        if not match:
            continue
        first = int(match.group(1))
        if kind == "between":
            return first, int(match.group(2))
        if kind == "below":
            return 0, first - 1
        return (first + 1 if "ouder dan" in match.group(0).lower() else first), OLDEST
    return None


def fits(age: int, text: str) -> bool | None:
    """True when the text's age condition includes the age, False when it excludes it, None without one."""
    found = age_range(text)
    if found is None:
        return None
    return found[0] <= age <= found[1]
