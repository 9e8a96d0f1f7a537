"""Step 1, understand: what is asked, in which language, about which municipality, after which turns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from virtuele_assistent.answering.ages import age_in
from virtuele_assistent.answering.personal import is_personal_case
from virtuele_assistent.retrieval.followup import previous_questions, standalone_question
from virtuele_assistent.tenants.schemas import TenantProfile

# What kind of fact answers the question; selection prefers units that carry it.
_TYPES: list[tuple[str, re.Pattern[str]]] = [
    (
        "cost",
        re.compile(
            r"\b(kost|kosten|kostte|prijs|prijzen|tarief|tarieven|bedrag|gratis|"
            r"hoeveel\b(?! (dagen|weken|maanden|kwartalen|jaren|jaar|keer)\b).*\bbetaal\w*|"
            r"hoeveel \w*(geld|euro|bijstand|uitkering|belasting|heffing|krijg)\w*|"
            r"how much|cost|costs|price|fee)\b",
            re.I,
        ),
    ),
    (
        "duration",
        re.compile(
            r"\b(hoe ?lang|hoe snel|binnen hoeveel|hoeveel (dagen|weken|maanden|kwartalen|jaren|tijd)|"
            r"termijn|tot wanneer|hoe ver van tevoren|how long|how soon)\b",
            re.I,
        ),
    ),
    (
        "time",
        re.compile(
            r"\b(wanneer|hoe laat|welke dag|welke dagen|openingstijden|open|geopend|when|what time|"
            r"opening hours)\b",
            re.I,
        ),
    ),
    (
        "procedure",
        re.compile(
            r"\b(hoe (vraag|meld|regel|kan|kun|doe|geef)|wat moet ik doen|wat kan ik doen|waar (meld|vraag)|"
            r"aanvragen|how do i|how can i|apply)\b",
            re.I,
        ),
    ),
    (
        "list",
        re.compile(
            r"\b(welke (papieren|documenten|bijlagen|stukken|bewijsstukken|gegevens|voorwaarden|stappen|"
            r"regels|eisen)|wat (moet|heb) (ik|je|u) (\w+ )?(meenemen|meesturen|nodig)|meenemen|meesturen|"
            r"voorwaarden|what do i need|which documents)\b",
            re.I,
        ),
    ),
    (
        # "Heb ik een kapvergunning nodig?", "Moet ik mijn hond aanmelden?": whether something is required.
        "need",
        re.compile(
            r"(^|[.!?]\s+)(heb|moet|hebben|moeten)\s+(ik|we|wij|je|jij|u)\b[^?.]*"
            r"\b(nodig|verplicht|hebben|aanvragen|aanmelden)\b|\b(is|zijn)\b[^?.]*\b(nodig|verplicht)\s*\?",
            re.I,
        ),
    ),
    ("place", re.compile(r"\b(waar|bij welke|welk loket|where|which office)\b", re.I)),
    ("phone", re.compile(r"\b(telefoonnummer|bellen|bel ik|phone|call)\b", re.I)),
]

_HUMAN = re.compile(
    r"\b(medewerker|met een mens|echt persoon|iemand spreken|iemand bellen|doorverbinden|klantcontact|"
    r"human|real person|agent)\b",
    re.I,
)
_ENGLISH = re.compile(
    r"\b(the|what|how|does|do|is|are|can|my|for|of|where|when|which|much|long|need|to|a|an|i)\b", re.I
)
_DUTCH = re.compile(r"\b(de|het|een|wat|hoe|ik|mijn|is|van|voor|kan|moet|wanneer|waar|en|je|u|niet)\b", re.I)


@dataclass
class Understanding:
    question: str  # as the resident wrote it
    standalone: str  # with the topic of earlier turns added for follow-ups
    language: str  # "nl", "en", ...
    kinds: list[str] = field(default_factory=list)  # cost | duration | time | need | place | ...
    other_municipality: str | None = None
    wants_human: bool = False
    follow_up: bool = False
    own_names: set[str] = field(default_factory=set)  # the tenant's own name(s): not a topic
    age: int | None = None  # the age the question states ("ik ben 22")
    personal_case: bool = False  # about the resident's own file ("Is mijn aanvraag al goedgekeurd?")


@lru_cache(maxsize=1)
def municipality_names() -> tuple[str, ...]:
    text = resources.files("virtuele_assistent.answering").joinpath("data/gemeenten.txt").read_text("utf-8")
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return tuple(sorted(names, key=len, reverse=True))


# Municipality names that are also ordinary words ("best", "buren"): count them only after a preposition.
_AMBIGUOUS = frozenset(
    {"Best", "Buren", "Goes", "Bergen", "Duiven", "Laren", "Beek", "Stein", "Sluis", "Urk"}
)


def own_names(tenant: TenantProfile) -> set[str]:
    name = re.sub(r"^(gemeente|municipality of)\s+", "", tenant.name.strip(), flags=re.I)
    names = {name.lower(), tenant.slug.replace("-", " ").lower()}
    for extra in tenant.settings.place_names:
        names.add(str(extra).lower())
    return names


def other_municipality(question: str, tenant: TenantProfile) -> str | None:
    """A municipality the question names that is not this tenant, unless it also names this tenant."""
    own = own_names(tenant)
    lowered = question.lower()
    if any(re.search(rf"\b{re.escape(n)}\b", lowered) for n in own):
        return None
    for name in municipality_names():
        if name.lower() in own:
            continue
        pattern = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
        if name in _AMBIGUOUS:
            pattern = rf"\b(?:in|te|naar|uit|van|gemeente)\s+{re.escape(name)}\b"
        if re.search(pattern, question):
            return name
    match = re.search(r"\bgemeente\s+((?:'s-)?[A-Z][\w'-]+)", question)
    if match and match.group(1).lower() not in own:
        return match.group(1)
    return None


def guess_language(question: str) -> str:
    english = len(_ENGLISH.findall(question))
    dutch = len(_DUTCH.findall(question))
    return "en" if english > dutch and english >= 2 else "nl"


def question_kinds(text: str) -> list[str]:
    return [name for name, pattern in _TYPES if pattern.search(text)]


def understand(
    tenant: TenantProfile,
    question: str,
    history: Sequence[tuple[str, str]] = (),
    language: str | None = None,
    standalone: str | None = None,
) -> Understanding:
    rewritten = standalone or standalone_question(question, history)
    kinds = question_kinds(question)
    if not kinds and rewritten != question:
        for earlier in reversed(previous_questions(history)):
            kinds = question_kinds(earlier)
            if kinds:
                break
    return Understanding(
        question=question,
        standalone=rewritten,
        language=(language or guess_language(question)).lower().split("-")[0],
        kinds=kinds,
        other_municipality=other_municipality(question, tenant),
        wants_human=bool(_HUMAN.search(question)),
        follow_up=rewritten != question,
        own_names=own_names(tenant) | {"gemeente"},
        age=age_in(question),
        personal_case=is_personal_case(question),
    )
