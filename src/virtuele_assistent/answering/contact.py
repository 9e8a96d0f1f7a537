"""Questions about the municipality itself: how to call, mail or visit it and when it is open.

"Wat is het telefoonnummer van de gemeente?" or "Wanneer is het stadhuis open?" asks for the
municipality's own contact details, which the tenant keeps in its settings (``ContactRoutes``).
They are answered from there, with the page that publishes the same details as the source. A
question that names anything besides the municipality and a way to reach it ("openingstijden loket
parkeren", "telefoonnummer van de politie") is a topic question and goes through retrieval as usual.

The words below describe reaching an organisation in Dutch and English: what a question may contain
besides the municipality's own name and still be about the municipality itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.understand import Understanding
from virtuele_assistent.retrieval import Passage
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile

# A channel a question asks for, and the words that ask for it.
_CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "phone": (
        "telefoonnummer", "telefoon", "nummer", "bellen", "bel", "opbellen", "telefonisch", "phone",
        "telephone", "number", "call",
    ),
    "address": (
        "adres", "bezoekadres", "postadres", "adresgegevens", "address", "located", "location",
    ),
    "hours": (
        "openingstijden", "openingstijd", "openingsuren", "open", "geopend", "hours", "opening",
        "opened",
    ),
    "email": ("mail", "mailen", "email", "mailadres", "emailadres", "e-mail", "e-mailadres"),
    "any": (
        "contact", "contacteren", "contactgegevens", "contactformulier", "bereiken", "bereikbaar",
        "bereik", "reach", "contacting", "details",
    ),
}  # fmt: skip
_WORD_CHANNEL = {w.replace("-", ""): channel for channel, ws in _CHANNEL_WORDS.items() for w in ws}
# The municipality as an organisation or a building, and verbs of going or getting in touch: words
# a question about the municipality itself may hold besides a channel.
_ORGANISATION_WORDS = (
    "gemeente", "gemeentehuis", "stadhuis", "stadskantoor", "raadhuis", "publiekshal", "balie",
    "municipality", "council", "city", "town", "hall", "townhall", "cityhall",
    "opnemen", "neem", "nemen", "zit", "zitten", "vind", "vinden", "langskomen", "langsgaan", "kom",
    "komen", "spreken", "jullie", "get", "touch", "find", "visit",
)  # fmt: skip
# A question of one of these kinds about the municipality alone asks for this channel:
# "Waar is het stadhuis?" the address, "Wanneer is het gemeentehuis open?" the hours.
_KIND_CHANNEL = {"phone": "phone", "place": "address", "time": "hours"}
CHANNELS = ("phone", "email", "form", "address", "hours")

_DAYS = {
    "nl": {
        "ma": "maandag",
        "di": "dinsdag",
        "wo": "woensdag",
        "do": "donderdag",
        "vr": "vrijdag",
        "za": "zaterdag",
        "zo": "zondag",
    },
    "en": {
        "ma": "Monday",
        "di": "Tuesday",
        "wo": "Wednesday",
        "do": "Thursday",
        "vr": "Friday",
        "za": "Saturday",
        "zo": "Sunday",
    },
}


@dataclass(frozen=True)
class ContactReply:
    """The answer from the tenant's contact details, the channels it gives and its language."""

    text: str
    channels: tuple[str, ...]
    language: str


@lru_cache(maxsize=4)
def _vocabulary(terms: Terms) -> tuple[dict[str, str], frozenset[str]]:
    channel_of = {
        terms.stem(w.replace("-", "")): channel for channel, ws in _CHANNEL_WORDS.items() for w in ws
    }
    return channel_of, frozenset(terms.stem(w) for w in _ORGANISATION_WORDS)


def asked_channels(understanding: Understanding, terms: Terms) -> tuple[str, ...]:
    """The contact channels a question about the municipality itself asks for; () for any other
    question. "any" means: how can I reach you at all."""
    if understanding.other_municipality or understanding.wants_human:
        return ()
    channel_of, organisation = _vocabulary(terms)
    own = {terms.stem(word) for name in understanding.own_names for word in name.split()}
    lowered = understanding.standalone.lower()
    # "e-mailadres" as one word and as its parts
    words = {
        *re.findall(r"\w+", lowered),
        *(w.replace("-", "") for w in re.findall(r"\w+(?:-\w+)+", lowered)),
    }
    # A short word counts only as itself: "op" shares its stem with "open".
    channels = {
        _WORD_CHANNEL.get(w) or channel_of[terms.stem(w)]
        for w in words
        if w in _WORD_CHANNEL or (len(w) > 3 and terms.stem(w) in channel_of)
    }
    about_municipality = False
    for stem in terms.surfaces(understanding.standalone):
        if stem in channel_of or stem in own:
            continue
        if stem not in organisation:
            return ()  # the question has a topic of its own
        about_municipality = True
    if not channels and about_municipality:
        channels = {_KIND_CHANNEL[kind] for kind in understanding.kinds if kind in _KIND_CHANNEL}
    named = tuple(c for c in CHANNELS if c in channels)  # "telefonisch bereikbaar": the phone
    return named or (("any",) if "any" in channels else ())


def _available(contact: ContactRoutes) -> dict[str, bool]:
    hours = contact.opening_hours.model_dump()
    return {
        "phone": bool(contact.phone),
        "email": bool(contact.email),
        "form": bool(contact.contact_form_url),
        "address": bool(contact.address),
        "hours": any(hours.values()),
    }


def channels_to_answer(asked: tuple[str, ...], contact: ContactRoutes) -> tuple[str, ...]:
    """What the answer gives: every channel asked for, when the tenant has all of them; for "any",
    every way in it has. () when a channel asked for is missing: the site's own pages may say it."""
    available = _available(contact)
    if asked == ("any",):
        return tuple(c for c in CHANNELS if available[c])
    return asked if asked and all(available[c] for c in asked) else ()


def _municipality(tenant: TenantProfile, language: str) -> str:
    name = tenant.name.strip()
    place = re.sub(r"^(gemeente|municipality of)\s+", "", name, flags=re.I)
    if place == name:
        return name
    return f"the municipality of {place}" if language == "en" else f"de gemeente {place}"


def _hours_lines(contact: ContactRoutes, language: str) -> list[str]:
    days = _DAYS["en" if language == "en" else "nl"]
    hours = contact.opening_hours.model_dump()
    closed = "closed" if language == "en" else "gesloten"
    return [
        f"- {days[day]}: {closed if value.strip().lower() in ('gesloten', 'closed') else value}"
        for day, value in hours.items()
        if value
    ]


def contact_text(tenant: TenantProfile, channels: tuple[str, ...], language: str = "nl") -> str:
    """The answer in the tenant's form of address; English when the resident writes English and the
    tenant answers in it, else Dutch."""
    contact = tenant.contact
    en = language == "en"
    name = _municipality(tenant, language)
    you = "You" if en else tenant.addressed("U", "Je")
    lines: list[str] = []
    if "phone" in channels:
        lines.append(
            f"{you} can call {name} on {contact.phone}."
            if en
            else f"{you} kunt {name} bellen op {contact.phone}."
        )
    if "email" in channels:
        lines.append(
            f"{you} can email {contact.email}." if en else f"{you} kunt mailen naar {contact.email}."
        )
    if "form" in channels:
        lines.append(
            f"{you} can also use the contact form: {contact.contact_form_url}"
            if en
            else f"{you} kunt ook het contactformulier gebruiken: {contact.contact_form_url}"
        )
    if "address" in channels:
        address = str(contact.address).rstrip(".")
        lines.append(f"The address of {name} is {address}." if en else f"Het adres van {name} is {address}.")
    text = " ".join(lines)
    if "hours" in channels:
        title = f"Opening hours of {name}:" if en else f"Openingstijden van {name}:"
        text = "\n".join(filter(None, [text, title, *_hours_lines(contact, language)]))
    return text[0].upper() + text[1:]


def published(passage: Passage, contact: ContactRoutes) -> set[str]:
    """The tenant's contact details a passage gives (channels, as in ``CHANNELS``)."""
    found = set()
    text = passage.text.lower()
    if contact.phone:
        joined = re.sub(r"(?<=\d)[ -]+(?=\d)", "", passage.text)  # "14 0555" -> "140555"
        digits = re.sub(r"\D", "", contact.phone)
        if digits and re.search(rf"(?<!\d){digits}(?!\d)", joined):
            found.add("phone")
    if contact.email and contact.email.lower() in text:
        found.add("email")
    if contact.contact_form_url and str(contact.contact_form_url).lower().rstrip("/") in text:
        found.add("form")
    street = (contact.address or "").split(",")[0].strip().lower()
    if street and street in text:
        found.add("address")
    hours = " ".join(v for v in contact.opening_hours.model_dump().values() if v)
    if len(_times(hours) & _times(passage.text)) >= 2:
        found.add("hours")
    return found


def contact_page(
    passages: list[Passage], contact: ContactRoutes, channels: tuple[str, ...]
) -> Passage | None:
    """The page to cite: of the pages that give a detail the answer gives, the one that gives most of
    the tenant's details (its contact page rather than a page that mentions the number once); the
    first found among equals. A passage of that page that gives an answered detail stands for it."""
    by_page: dict[str, tuple[set[str], Passage | None]] = {}
    for passage in passages:
        details = published(passage, contact)
        page_details, shown = by_page.get(passage.url, (set(), None))
        if shown is None and details & set(channels):
            shown = passage
        by_page[passage.url] = (page_details | details, shown)
    candidates = [(len(details), -i, shown) for i, (details, shown) in enumerate(by_page.values()) if shown]
    return max(candidates, key=lambda c: c[:2])[2] if candidates else None


def _times(text: str) -> set[str]:
    """Clock times, written alike: '09.00', '9:00' -> '9:00'."""
    return {f"{int(h)}:{m}" for h, m in re.findall(r"\b(\d{1,2})[:.](\d{2})\b", text)}


def source_query(contact: ContactRoutes) -> str:
    """A search for the page that publishes the tenant's details: the details themselves."""
    parts = ["contact", contact.phone, contact.email, contact.address]
    if any(contact.opening_hours.model_dump().values()):
        parts.append("openingstijden")
    return " ".join(p for p in parts if p)


def contact_reply(tenant: TenantProfile, understanding: Understanding, terms: Terms) -> ContactReply | None:
    """The answer to a question about the municipality itself from its contact details, or None
    when the question is about something else or the tenant has not filled in what is asked. In
    English when asked in English and the tenant answers in it; else in Dutch."""
    channels = channels_to_answer(asked_channels(understanding, terms), tenant.contact)
    if not channels:
        return None
    asked = understanding.language
    language = "en" if asked == "en" and tenant.settings.answers_in(asked) else "nl"
    return ContactReply(contact_text(tenant, channels, language), channels, language)
