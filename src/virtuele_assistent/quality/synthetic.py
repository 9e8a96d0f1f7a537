"""Generated Dutch municipal text: plausible pages (news, notices, services) for scale tests.

Used as distractors in ``va eval retrieval --distractors N`` and by ``benchmarks/retrieval_speed.py``.
Seeded, so every run produces the same pages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

STREETS = [
    "Kerkstraat",
    "Molenweg",
    "Dorpsstraat",
    "Stationsweg",
    "Schoolstraat",
    "Julianalaan",
    "Beatrixstraat",
    "Nieuwstraat",
    "Marktplein",
    "Havenkade",
    "Lindelaan",
    "Eikenlaan",
    "Parallelweg",
    "Industrieweg",
    "Zuidwal",
    "Noordsingel",
    "Vijverlaan",
    "Kastanjelaan",
    "Wilhelminastraat",
    "Oranjestraat",
    "Burgemeester de Vriesweg",
    "Sportlaan",
    "Tuinstraat",
]
DISTRICTS = [
    "Centrum",
    "Noord",
    "Oost",
    "Zuid",
    "West",
    "Vinkhuizen",
    "De",
    "Hoven",
    "Molenwijk",
    "Stadspark",
    "Waterkant",
    "Oude",
    "Dorp",
]
TOPICS = [
    ("Wegwerkzaamheden {street}", "verkeer"),
    ("Nieuwe speelplaats in {district}", "openbare ruimte"),
    ("Snoeiwerkzaamheden aan bomen in {district}", "groen"),
    ("Vergadering van de gemeenteraad op {date}", "bestuur"),
    ("Subsidie voor {club}", "subsidie"),
    ("Bestemmingsplan {district} ter inzage", "ruimtelijke ordening"),
    ("Verkeersbesluit {street}", "verkeer"),
    ("Renovatie van {building}", "vastgoed"),
    ("Inspraakavond over {project}", "participatie"),
    ("Aangevraagde omgevingsvergunning {street} {number}", "bekendmaking"),
    ("Afvalinzameling rond de feestdagen in {district}", "afval"),
    ("Parkeren tijdens {event}", "parkeren"),
    ("Vacature {job}", "werken bij"),
    ("Energieloket: advies over {energy}", "duurzaamheid"),
    ("Markt op {weekday} verplaatst naar {street}", "evenementen"),
    ("Onderhoud riolering {street}", "riolering"),
    ("Nieuwe bewegwijzering in {district}", "verkeer"),
    ("Jaarverslag {year} van de ombudscommissie", "bestuur"),
]
CLUBS = [
    "voetbalvereniging De Zwaluwen",
    "muziekvereniging Harmonie",
    "buurthuis De Schakel",
    "zwemclub De Dolfijn",
    "ijsclub Nooitgedacht",
    "speeltuinvereniging Kindervreugd",
]
BUILDINGS = [
    "het zwembad",
    "de bibliotheek",
    "sporthal De Arena",
    "het oude raadhuis",
    "basisschool De Regenboog",
    "het wijkcentrum",
]
PROJECTS = [
    "de herinrichting van het Marktplein",
    "een nieuwe fietsbrug",
    "het windpark aan de Zuidwal",
    "woningbouw aan de Havenkade",
    "een nieuw gezondheidscentrum",
]
EVENTS = [
    "de zomerkermis",
    "het bevrijdingsfestival",
    "de wielerronde",
    "Koningsdag",
    "de kerstmarkt",
    "de intocht van Sinterklaas",
]
JOBS = [
    "beleidsmedewerker wonen",
    "handhaver openbare ruimte",
    "medewerker burgerzaken",
    "projectleider verkeer",
    "adviseur duurzaamheid",
    "medewerker belastingen",
]
ENERGY = [
    "zonnepanelen",
    "isolatie van uw woning",
    "een warmtepomp",
    "energie besparen",
    "de aansluiting op het warmtenet",
]
WEEKDAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"]
MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
SENTENCES = [
    "De gemeente voert van {date} tot en met {date2} werkzaamheden uit in de {street}.",
    "Tijdens de werkzaamheden is de {street} afgesloten voor doorgaand verkeer; "
    "fietsers en voetgangers kunnen er wel langs.",
    "Bewoners van {district} ontvangen een brief met meer informatie over de planning.",
    "Heeft u vragen? Bel dan met het projectteam via 14 0{tel} of stuur een e-mail.",
    "De kosten van het project bedragen € {amount},00 en worden betaald uit het budget voor {topic}.",
    "Het college van burgemeester en wethouders heeft op {date} besloten om hiermee door te gaan.",
    "De stukken liggen zes weken ter inzage in het stadskantoor en zijn ook online te bekijken.",
    "Tijdens de inloopavond op {weekday} {date} kunt u vanaf 19.30 uur uw vragen stellen aan de wethouder.",
    "De werkzaamheden worden uitgevoerd door een aannemer in opdracht van de gemeente.",
    "Wij houden rekening met de broedperiode van vogels en met de bereikbaarheid van winkels.",
    "Omwonenden kunnen tot {date2} een zienswijze indienen bij de gemeenteraad.",
    "Er geldt tijdelijk een parkeerverbod aan beide zijden van de {street}.",
    "De bushalte aan de {street} wordt tijdelijk verplaatst; volg de borden ter plaatse.",
    "De gemeente wil samen met inwoners van {district} bepalen hoe de buurt er in de toekomst uitziet.",
    "Na afloop ruimt de organisatie de straat op en worden de containers geleegd.",
    "Het besluit is gepubliceerd in het gemeenteblad van {date}.",
    "Sollicitaties ontvangen wij graag uiterlijk {date2} via het sollicitatieformulier.",
    "Voor deze regeling is in {year} in totaal € {amount}.000 beschikbaar; op is op.",
    "Verenigingen met minder dan {number} leden kunnen een bijdrage aanvragen voor activiteiten in de wijk.",
    "Het onderhoud is nodig omdat de bestrating is verzakt en de riolering verouderd is.",
    "Meer informatie over {topic} vindt u op de pagina's van het team {topic}.",
    "De wethouder opent {building} op {weekday} {date} om 14.00 uur; iedereen is welkom.",
]
HEADINGS = [
    "Wat gaat er gebeuren?",
    "Planning",
    "Bereikbaarheid",
    "Kosten",
    "Meedenken",
    "Meer informatie",
    "Achtergrond",
    "Contact",
]


@dataclass
class SyntheticPage:
    slug: str
    title: str
    markdown: str


def _fill(rng: random.Random, template: str, topic: str) -> str:
    day, day2 = rng.randint(1, 28), rng.randint(1, 28)
    return template.format(
        street=rng.choice(STREETS),
        district=rng.choice(DISTRICTS),
        date=f"{day} {rng.choice(MONTHS)}",
        date2=f"{day2} {rng.choice(MONTHS)}",
        club=rng.choice(CLUBS),
        building=rng.choice(BUILDINGS),
        project=rng.choice(PROJECTS),
        event=rng.choice(EVENTS),
        job=rng.choice(JOBS),
        energy=rng.choice(ENERGY),
        weekday=rng.choice(WEEKDAYS),
        year=rng.randint(2015, 2025),
        number=rng.randint(2, 250),
        amount=f"{rng.randint(1, 950)}.{rng.randint(100, 999)}",
        tel=rng.randint(100, 999),
        topic=topic,
    )


def pages(count: int, sections: int = 5, seed: int = 7) -> Iterator[SyntheticPage]:
    """``count`` pages of ``sections`` short sections each (one chunk per section)."""
    rng = random.Random(seed)
    for number in range(count):
        template, topic = rng.choice(TOPICS)
        title = _fill(rng, template, topic)
        parts = [f"# {title}", _paragraph(rng, topic, 3)]
        for heading in rng.sample(HEADINGS, sections - 1):
            parts += [f"## {heading}", _paragraph(rng, topic, rng.randint(3, 4))]
        yield SyntheticPage(f"bericht-{number:05d}", title, "\n\n".join(parts) + "\n")


def chunk_texts(count: int, seed: int = 11) -> Iterator[str]:
    """``count`` standalone chunk texts (heading path + paragraph), for the speed benchmark."""
    rng = random.Random(seed)
    for _ in range(count):
        template, topic = rng.choice(TOPICS)
        yield f"{_fill(rng, template, topic)} > {rng.choice(HEADINGS)}\n{_paragraph(rng, topic, 4)}"


def _paragraph(rng: random.Random, topic: str, sentences: int) -> str:
    return " ".join(_fill(rng, s, topic) for s in rng.sample(SENTENCES, sentences))
