"""Is the question about the resident's own file or case? The assistant cannot see anyone's file.

"Is mijn aanvraag al goedgekeurd?", "Wanneer krijg ik mijn eerste uitkering?", "Waarom is mijn
vergunning geweigerd?": page text cannot answer these, however close it is in meaning; the resident
needs the municipality's personal environment, the desk or a person. "Hoe lang duurt het voordat mijn
verhuizing verwerkt is?" asks for the general rule and is answered as usual.

What the question says (``PERSONAL_FEATURES``: a case of the resident's own, its state asked for, a
decision on it questioned, a date or address of its own, something the resident already did, a
procedure asked for instead) is weighed by a logistic model fitted with each municipality left out
(``data/personal_model.json``, ``va eval fit-personal``, docs/adr/0013). The features are Dutch (and
English) grammar and the vocabulary of municipal cases, the same on any municipality's site.
"""

from __future__ import annotations

import re
from functools import lru_cache

from virtuele_assistent.fitted import FittedModel
from virtuele_assistent.index.analyzer import fold

_OWN = r"(?:mijn|m'n|onze|ons|my|our)"
# What a municipality keeps a file on for a resident: an application, a permit, a benefit, a tax bill,
# a report, a registration, a document being made, an appointment.
_CASE = (
    r"(?:\w*aanvraag|aanvragen|\w*vergunning|melding|bezwaar|\w*uitkering|bijstand|aanslag|\w*aanslag|"
    r"dossier|zaak|betaling|afspraak|aangifte|kwijtschelding|\w*toeslag|paspoort|identiteitskaart|id-kaart|"
    r"rijbewijs|\w*pas|inschrijving|verhuizing|emigratie|huwelijk\w*|ceremonie|container|traplift|"
    r"voorziening|indicatie|rekening|termijnen|tegoed|"
    r"application|permit|benefit|passport|renewal|change of address|registration|appointment|case)"
)
OWN_CASE = re.compile(rf"\b{_OWN}\s+(?:\w+\s+){{0,3}}?{_CASE}\b")
# The state of something under way: done, received, decided, still waiting.
STATE = re.compile(
    r"\b(status|stand van zaken|hoe ver\b|al (?:(?:is|zijn|wordt|werd) )?(klaar|binnen|verwerkt|goedgekeurd|"
    r"toegekend|verleend|"
    r"beoordeeld|ontvangen|afgemeld|ingeschreven|gekoppeld|bevestigd|doorgestuurd|opgepakt|verstuurd|"
    r"in behandeling|behandeld)|nog (niks|niets|steeds niets) gehoord|goed (gegaan|ontvangen|aangekomen)|"
    r"in behandeling genomen|ingepland|nog geldig|wachtlijst|\bnog open\b|"
    r"been (approved|processed|received|sent)|did you receive|\byet\b)"
)
# A decision on the resident's own case questioned: refused, stopped, charged twice.
DECISION = re.compile(
    r"\b(afgewezen|geweigerd|stopgezet|ingetrokken|twee keer|dubbel|afgeschreven|niet geleegd|"
    r"rejected|refused)\b"
)
# A yes/no question about the state of the resident's own things: "Is mijn ...", "Hebben jullie ...".
STATE_QUESTION = re.compile(
    rf"(^|[.!?]\s+)(is|zijn|heeft|hebben|staat|sta|ben|klopt het dat)\b[^.?!]*\b({_OWN}|ik)\b"
    r"|\b(has|have|did you|is)\b[^.?!]*\b(my|our)\b"
)
# When the resident gets, or why the resident got, something of their own.
WHEN_WHY_OWN = re.compile(
    rf"\b(wanneer|waarom|hoe laat)\b[^.?!]*\b(krijg ik|wordt|komt|is|loopt|moet ik dit jaar)\b[^.?!]*"
    rf"\b({_OWN}|mij|me)\b"
)
# A date, a street and number, "vorige week": the resident's own moment or address.
SPECIFIC = re.compile(
    r"\b(\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    r"december)|in (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    r"december)|vorige (week|maand)|gisteren|vanochtend|(\d+|twee|drie|vier|zes) (dagen|weken|maanden) "
    r"geleden|last week|[a-z]+(straat|laan|weg|plein|kade|singel|gracht) \d+|\d{4} ?[a-z]{2})\b"
)
# Something the resident already did: applied, filed, handed in, reported.
DONE = re.compile(
    r"\b(ik|we|wij) (heb|hebben)\b[^.?!]*\b(aangevraagd|ingediend|ingeleverd|gemeld|opgestuurd|doorgegeven|"
    r"gestuurd|betaald|aangemeld)\b|\bloopt al\b|\b(i|we) (applied|sent|moved)\b"
)
# A figure kept about the resident ("hoeveel heb ik dit jaar al ...", "hoeveel tegoed staat er").
OWN_FIGURE = re.compile(
    r"\bhoeveel\b[^.?!]*\b(heb ik|staat er|sta ik)\b|\bhoeveel\b[^.?!]*\bvoor (mijn|ons) (woning|huis) aan\b"
)
# How something is done in general: the site answers this, whoever asks.
PROCEDURE = re.compile(
    r"\b(hoe (\w+ (ik|je|jij|u|we|wij)\b|lang duurt)|wat (kost|gebeurt)|wat (kan|kun|moet) (ik|je|u|we)\b"
    r"(?! (dit jaar|nog))|kan ik\b[^.?!]*\b(aanvragen|krijgen|doorgeven)|mag ik|moet ik\b(?! dit jaar)|"
    r"hoe snel|tot wanneer|vanaf wanneer|welke|how (do|can))"
)

PERSONAL_FEATURES = (
    "own_case",  # names a case of the resident's own: 'mijn aanvraag', 'onze vergunning'
    "state",  # asks about the state of something under way: 'al goedgekeurd', 'status'
    "decision",  # questions a decision on it: 'afgewezen', 'twee keer afgeschreven'
    "state_question",  # a yes/no question about the resident's own things: 'Is mijn ... ?'
    "when_why_own",  # when the resident gets, or why the resident got, something of their own
    "specific",  # a date, an address, 'vorige week'
    "done",  # something the resident already did: 'ik heb ... aangevraagd'
    "own_figure",  # a figure kept about the resident: 'hoeveel heb ik dit jaar al ...'
    "procedure",  # how something is done in general: 'hoe vraag ik', 'wat kost'
)
_PATTERNS = {
    "own_case": OWN_CASE,
    "state": STATE,
    "decision": DECISION,
    "state_question": STATE_QUESTION,
    "when_why_own": WHEN_WHY_OWN,
    "specific": SPECIFIC,
    "done": DONE,
    "own_figure": OWN_FIGURE,
    "procedure": PROCEDURE,
}


def personal_features(question: str) -> dict[str, float]:
    text = " ".join(fold(question).split())
    return {name: float(bool(_PATTERNS[name].search(text))) for name in PERSONAL_FEATURES}


@lru_cache(maxsize=1)
def personal_model() -> FittedModel:
    """The check shipped with the package (``va eval fit-personal`` fits it; docs/adr/0013)."""
    return FittedModel.packaged("virtuele_assistent.answering", "personal_model.json", PERSONAL_FEATURES)


def personal_probability(question: str, model: FittedModel | None = None) -> float:
    return (model or personal_model()).probability(personal_features(question))


def is_personal_case(question: str, model: FittedModel | None = None) -> bool:
    model = model or personal_model()
    return personal_probability(question, model) >= model.threshold
