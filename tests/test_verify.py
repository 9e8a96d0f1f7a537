"""Step 5, verify, on its own: every sentence of a composed answer must come from the source it cites."""

from __future__ import annotations

import numpy as np

from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.verify import Verifier, amounts_as_in_source

VERIFIER = Verifier(Terms())
PASPOORT = (
    "Een paspoort voor volwassenen kost € 84,50. U vraagt het aan bij het stadhuis in Voorbeeldstad. "
    "Neem een recente pasfoto mee. De aanvraag duurt maximaal 5 werkdagen."
)
GRIJZE_CONTAINER = "De grijze container mag maximaal 60 liter restafval bevatten."
AFVALKALENDER = (
    "Ophaaldagen per wijk:\n"
    "| Wijk | Restafval | Gft |\n"
    "| --- | --- | --- |\n"
    "| Noord | maandag, oneven weken | dinsdag, even weken |\n"
    "| Zuid | woensdag, even weken | donderdag, oneven weken |"
)


def test_a_sentence_its_source_supports_is_kept_with_its_citation() -> None:
    result = VERIFIER.verify("Een paspoort voor volwassenen kost € 84,50 [1].", {1: PASPOORT})
    assert result.text == "Een paspoort voor volwassenen kost € 84,50 [1]."
    assert result.used_sources == [1] and not result.dropped


def test_a_number_not_in_the_source_is_removed_with_its_sentence() -> None:
    answer = "Een paspoort kost € 84,50 [1]. Het is 10 jaar geldig [1]."
    result = VERIFIER.verify(answer, {1: PASPOORT})
    assert result.text == "Een paspoort kost € 84,50 [1]."
    assert result.dropped[0].problems == ["number not in source: 10"]


def test_a_name_not_in_the_source_is_removed() -> None:
    result = VERIFIER.verify("U vraagt het paspoort aan bij het stadhuis in Amsterdam [1].", {1: PASPOORT})
    assert result.text == "" and result.dropped[0].problems == ["name not in source: Amsterdam"]
    allowed = VERIFIER.verify(
        "U vraagt het paspoort aan bij het stadhuis in Amsterdam [1].", {1: PASPOORT}, {"Amsterdam"}
    )
    assert allowed.kept, "a name the caller allows (the municipality's own) needs no source"


def test_a_citation_to_a_source_that_does_not_exist_is_removed() -> None:
    result = VERIFIER.verify("Neem een recente pasfoto mee [3].", {1: PASPOORT})
    assert result.text == "" and "citation to an unknown source" in result.dropped[0].problems
    assert result.used_sources == []


def test_an_uncited_sentence_must_be_supported_by_some_source() -> None:
    kept = VERIFIER.verify("Neem een recente pasfoto mee.", {1: GRIJZE_CONTAINER, 2: PASPOORT})
    assert kept.kept and kept.used_sources == []
    dropped = VERIFIER.verify("Honden moeten in het park aan de lijn.", {1: PASPOORT})
    assert dropped.dropped[0].problems == ["not supported by a source"]


def test_a_bound_the_source_always_gives_must_stay() -> None:
    changed = VERIFIER.verify(
        "De grijze container mag 60 liter restafval bevatten [1].", {1: GRIJZE_CONTAINER}
    )
    assert changed.dropped and changed.dropped[0].problems[0].startswith("bound changed: 60")
    kept = VERIFIER.verify("De grijze container mag maximaal 60 liter bevatten [1].", {1: GRIJZE_CONTAINER})
    assert kept.kept


def test_a_table_value_must_be_said_of_its_own_row_and_column() -> None:
    right = VERIFIER.verify("In Noord wordt gft op dinsdag, even weken opgehaald [1].", {1: AFVALKALENDER})
    assert right.kept
    mixed = VERIFIER.verify("In Noord wordt gft op maandag, oneven weken opgehaald [1].", {1: AFVALKALENDER})
    assert mixed.dropped[0].problems == ["table value of another row or column: Noord / Restafval"]


def test_a_table_value_the_question_does_not_ask_about_is_removed() -> None:
    answer = "In Zuid wordt restafval op woensdag, even weken opgehaald [1]."
    asked = VERIFIER.verify(answer, {1: AFVALKALENDER}, question="Wanneer wordt restafval in Zuid opgehaald?")
    assert asked.kept
    other = VERIFIER.verify(answer, {1: AFVALKALENDER}, question="Wanneer wordt gft in Zuid opgehaald?")
    assert other.dropped[0].problems == ["table value the question does not ask about: Zuid / Restafval"]


def test_list_items_are_checked_one_by_one_and_kept_whole() -> None:
    answer = "Neem mee:\n- een recente pasfoto [1]\n- uw rijbewijs van 1998 [1]"
    result = VERIFIER.verify(answer, {1: PASPOORT})
    assert [c.sentence for c in result.checks] == [
        "Neem mee:",
        "- een recente pasfoto [1]",
        "- uw rijbewijs van 1998 [1]",
    ]
    assert result.dropped[-1].problems == ["number not in source: 1998"]


def test_a_sentence_with_too_few_shared_words_is_kept_when_its_meaning_is_close() -> None:
    sentence = "Volwassenen betalen € 84,50 voor dit reisdocument [1]."

    def embed(texts: list[str]) -> np.ndarray:
        # the sentence and the source's first sentence point the same way, the others do not
        vectors = np.zeros((len(texts), 2))
        for i, text in enumerate(texts):
            vectors[i] = [1.0, 0.0] if "84,50" in text else [0.0, 1.0]
        return vectors

    assert VERIFIER.verify(sentence, {1: PASPOORT}).dropped, "without embeddings: too few shared words"
    assert Verifier(Terms(), embed).verify(sentence, {1: PASPOORT}).kept


def test_an_amount_is_written_as_its_source_writes_it() -> None:
    assert amounts_as_in_source("Het kost 84,50 euro.", PASPOORT) == "Het kost € 84,50."
    assert amounts_as_in_source("Het kost 12,00 euro.", PASPOORT) == "Het kost 12,00 euro."
