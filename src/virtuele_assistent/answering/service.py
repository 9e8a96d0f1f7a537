"""Answer a resident's question from the tenant's own content, with sources, or decline honestly.

The pipeline: understand -> retrieve -> select -> scope -> compose -> verify -> respond. Each step is
a module of its own; this one only runs them in order, times them and falls back to the extractive
answer whenever a language model fails, is too slow, or writes something its sources do not support.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from virtuele_assistent.answering.compose import (
    Source,
    extractive_text,
    facts_left_out,
    llm_messages,
    number_sources,
    personal_case_text,
    with_dutch_only_note,
)
from virtuele_assistent.answering.contact import contact_page, contact_reply, source_query
from virtuele_assistent.answering.llm import (
    ChatModel,
    LLMBusy,
    LLMCrashed,
    LLMError,
    LLMTimeout,
    OpenAIChatModel,
    complete,
)
from virtuele_assistent.answering.national import national_matter
from virtuele_assistent.answering.prompts import PromptEngine, contact_routes
from virtuele_assistent.answering.readability import flesch_douma
from virtuele_assistent.answering.scope import ScopeDecision, decide
from virtuele_assistent.answering.select import Selection, Selector, UnitEmbeddings
from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.understand import Understanding, understand
from virtuele_assistent.answering.unit_vectors import StoredUnitVectors
from virtuele_assistent.answering.verify import CITATION, Verifier
from virtuele_assistent.fixed.service import FixedAnswerMatcher
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.retrieval import Passage, Retriever
from virtuele_assistent.retrieval.followup import is_follow_up, previous_questions
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.db import Database
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.tenants.settings import ANSWER_BACKENDS
from virtuele_assistent.validation import plain_text, safe_markdown

log = structlog.get_logger(__name__)

RETRIEVE_LIMIT = 6
BACKENDS = ANSWER_BACKENDS
# A sentence is done at a full stop after its citation ("... weken [1]."), or when text follows that is
# not its citation ("... weken. [1" is not done yet); the first form needs no wait for the next token.
_SENTENCE_DONE = re.compile(r"^(.*?(?:\[\d+\][.!?]|[.!?](?:\s*\[\d+\])*(?=\s+[^\s\[])))\s*", re.S)
NO_ANSWER = "GEEN ANTWOORD"
# The prompt asks for at most 3 sentences; a model that goes on is stopped after this many.
MAX_MODEL_SENTENCES = 4
_ANSWER_LABEL = re.compile(r"^\s*ANTWOORD\s*:\s*", re.I)
# The resident's own words: a small model may start by repeating the question ("Ik word volgend jaar
# 76.", "En voor een kind?"). The assistant asks nothing back and never speaks as the resident.
_RESIDENTS_WORDS = re.compile(r"\?\s*(\[\d+\]\s*)*[.!]?\s*$|\b(ik|mijn|mij|me)\b", re.I)
# A Dutch sentence that addresses the resident otherwise than the tenant chose ("je" for a tenant that
# says "u"): a small model takes the form from the question. The source's words are shown instead.
_OTHER_ADDRESS = {
    "u": re.compile(r"\b(je|jij|jou|jouw)\b", re.I),
    "je": re.compile(r"\b(u|uw)\b", re.I),
}
# A heading copied as a sentence ("Bezoekersparkeren [1].") tells the resident nothing: a sentence of
# one word is shown only when it gives a number or answers yes or no.
_ONE_WORD_ANSWERS = frozenset({"ja", "nee", "yes", "no"})
# A Dutch answer that opens with "Dan ..." gives the consequence of a condition the resident was not
# shown: the model copied "Dan kunt u bezwaar maken." without the "Bent u het niet eens ...?" before it.
_OPENS_WITH_CONSEQUENCE = re.compile(r"^\s*dan\b", re.I)
# The embedded 1.5B model often says it finds no answer when its sources hold one (docs/adr/0006-*):
# its refusal then falls back to the extractive answer instead of counting as evidence to decline.
REFUSALS_NOT_TRUSTED = frozenset({"local"})
# Timings in which a language model writes.
LLM_STAGES = ("llm_generate", "llm_rewrite")


@dataclass
class Reply:
    """What a step of the pipeline answers, before it is timed and logged: the text, the sources it
    cites, and why it is what it is."""

    text: str
    sources: list[Source] = field(default_factory=list)
    declined: bool = False
    backend: str = "extractive"  # what wrote the text
    reason: str = "ok"  # why it declined, "contact", "fixed_answer", or "ok"
    fallback: str | None = None  # why a configured model was not used
    dropped: list[str] = field(default_factory=list)  # sentences of a model that did not pass


@dataclass(frozen=True)
class Selected:
    """Steps 1-3 (understand, retrieve, select): what is asked, the passages retrieved for it and the
    units chosen from them; what the scope decision and composing start from."""

    understanding: Understanding
    passages: list[Passage]
    selection: Selection


@dataclass
class SourceRef:
    index: int
    url: str
    title: str


@dataclass
class Answer:
    text: str
    sources: list[SourceRef]
    declined: bool
    passages: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    backend: str = "extractive"  # what produced the text: extractive | openai | local
    language: str = "nl"
    readability: float | None = None  # Flesch-Douma reading ease
    standalone_question: str | None = None
    reason: str = "ok"  # why it declined, or "ok"
    fallback: str | None = None  # why a configured LLM was not used
    dropped_sentences: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)  # what the scope decision was based on

    @property
    def overhead_ms(self) -> float:
        """The platform's own time: everything but a language model writing (the answer, or the
        standalone form of a follow-up)."""
        writing = sum(self.timings_ms.get(stage, 0.0) for stage in LLM_STAGES)
        return self.timings_ms.get("total", 0.0) - writing


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.evidence: dict[str, Any] = {}
        self._start = time.perf_counter()
        self._last = self._start

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + (now - self._last) * 1000, 2)
        self._last = now

    def total(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 2)


class AnswerService:
    def __init__(
        self,
        retriever: Retriever,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
        models: dict[str, ChatModel] | None = None,
        db: Database | None = None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings or Settings()
        self.terms = Terms(retriever.analyzer)
        embedder = embedder or retriever.embedder
        store = StoredUnitVectors(db, embedder.name, embedder.dim) if db is not None else None
        self.embeddings = UnitEmbeddings(embedder, store=store)
        self.fixed = FixedAnswerMatcher(db, self.embeddings.query) if db is not None else None
        self.selector = Selector(self.embeddings, self.terms)
        self.verifier = Verifier(self.terms, self.embeddings.passages)
        self.prompts = PromptEngine()
        self._models: dict[str, ChatModel] = dict(models or {})
        self._model_errors: dict[str, float] = {}
        self._disabled: dict[str, str] = {}  # backends whose test answer failed: why, until a restart
        self._lock = threading.Lock()
        # astream's blocking steps (retrieval, verification, an in-process model) run here.
        self.executor = ThreadPoolExecutor(self.settings.chat_workers, thread_name_prefix="answer")

    # -- public interface -------------------------------------------------------------------------

    def answer(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        language: str | None = None,
    ) -> Answer:
        """Answer one question; ``history`` is the conversation so far as (role, text) pairs."""
        result = None
        for item in self.stream(tenant, question, history, language):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def stream(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        language: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they become available (only verified sentences), then
        the final Answer."""
        plan = self._plan(tenant, question, history, language)
        if plan.composition is None:
            yield from plan.items
            return
        yield from self._compose_with_model(plan.composition)

    async def astream(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        language: str | None = None,
    ) -> AsyncIterator[str | Answer]:
        """``stream`` for the event loop: retrieval and verification run in worker threads, and a model
        that streams asynchronously (an OpenAI-compatible API) is read on the loop itself, so many
        answers can stream at once without a thread each."""
        loop = asyncio.get_running_loop()
        plan = await loop.run_in_executor(self.executor, self._plan, tenant, question, history, language)
        if plan.composition is None:
            for item in plan.items:
                yield item
            return
        composition = plan.composition
        astream = getattr(composition.model, "astream", None)
        if astream is None:  # a model in this process: its blocking stream, one piece per hop
            pieces = self._compose_with_model(composition)
            while True:
                piece = await loop.run_in_executor(self.executor, _next_or_none, pieces)
                if piece is None:
                    return
                yield piece
        deadline = time.monotonic() + self.settings.llm_timeout_s
        try:
            async with contextlib.aclosing(
                astream(composition.messages, self.settings.llm_max_tokens, deadline)
            ) as stream:
                started = time.perf_counter()
                async for piece in stream:
                    composition.generate_ms += (time.perf_counter() - started) * 1000
                    for sentence in composition.feed(piece):
                        checked = await loop.run_in_executor(self.executor, composition.check, sentence)
                        if checked:
                            yield checked
                    if composition.stopped:
                        break
                    started = time.perf_counter()
        except LLMError as error:
            composition.failed(error)
        for item in await loop.run_in_executor(self.executor, composition.finish):
            yield item

    def _plan(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]],
        language: str | None,
    ) -> _Plan:
        """Everything before the language model: understand, retrieve, select, scope, number sources.
        Either the answer's items (declined, extractive) or what the model is to compose from."""
        timer = _Timer()
        backend = self.backend_for(tenant)
        model, fallback = self._model(backend, tenant.settings.llm_model)
        selected = self.select(tenant, question, history, language, model, timer)
        understanding, passages, selection = selected.understanding, selected.passages, selected.selection
        fixed = self._fixed(tenant, understanding, passages, timer)
        if fixed is not None:
            return fixed
        contact = self._contact(tenant, understanding, passages)
        if contact is not None:
            text, sources, passages = contact
            timer.evidence = {"contact": True}
            timer.lap("compose")
            final = self._finish(
                Reply(text, sources, reason="contact", fallback=fallback), passages, timer, understanding
            )
            return _Plan([text, final])
        scope = decide(understanding, selection, self.terms)
        timer.evidence = {
            "coverage": round(scope.coverage, 3),
            "uncovered": scope.uncovered,
            "best_cosine": round(scope.best_cosine, 4),
            "kinds": understanding.kinds,
        }
        timer.lap("scope")
        if not scope.in_scope and not passages and not self._holds_content(tenant):
            scope = replace(scope, reason="not_indexed")  # nothing to answer from yet: say so
        if understanding.personal_case and scope.reason != "other_municipality":
            return self._personal_case(tenant, selected, scope, timer, fallback)
        if not scope.in_scope:
            text = self.decline(tenant, understanding, scope)
            final = self._finish(
                Reply(text, declined=True, reason=scope.reason, fallback=fallback),
                passages,
                timer,
                understanding,
            )
            return _Plan([text, final])
        sources = number_sources(selection)
        timer.lap("compose")
        if model is not None and not tenant.settings.answers_in(understanding.language):
            # The tenant does not answer in this language: the Dutch sentences, with a note saying so.
            model, fallback = None, "language"
        if model is not None:
            messages = llm_messages(self.prompts, tenant, understanding, sources)
            composition = _Composition(
                self, model, backend, tenant, selected, scope, sources, timer, messages
            )
            return _Plan([], composition)
        text = self._extractive(tenant, understanding, sources)
        timer.lap("compose")
        final = self._finish(Reply(text, sources, fallback=fallback), passages, timer, understanding)
        return _Plan([text, final])

    def _fixed(
        self, tenant: TenantProfile, understanding: Understanding, passages: list[Passage], timer: _Timer
    ) -> _Plan | None:
        """The municipality's own fixed answer to this question, as staff wrote it, when there is one."""
        if self.fixed is None:
            return None
        question = understanding.standalone
        try:
            match = self.fixed.match(tenant.id, question, self.embeddings.query(question))
        except SQLAlchemyError as error:  # the database failing costs the fixed answer, not the answer
            log.warning("answer.fixed_failed", error=str(error)[:200])
            return None
        if match is None:
            return None
        sources = [Source(i, s["url"], s.get("title", ""), []) for i, s in enumerate(match.sources, start=1)]
        timer.evidence = {"fixed_answer": match.fixed_id, "similarity": round(match.similarity, 4)}
        timer.lap("compose")
        reply = Reply(match.answer, sources, backend="fixed", reason="fixed_answer")
        return _Plan([match.answer, self._finish(reply, passages, timer, understanding)])

    def _personal_case(
        self,
        tenant: TenantProfile,
        selected: Selected,
        scope: ScopeDecision,
        timer: _Timer,
        fallback: str | None,
    ) -> _Plan:
        """A question about the resident's own file: not answered as if the page knew it. What the
        site says in general, when it covers the topic, with where the resident's own case is seen."""
        understanding = selected.understanding
        sources = number_sources(selected.selection) if scope.in_scope else []
        general = extractive_text(sources) if sources else None
        text = with_dutch_only_note(personal_case_text(tenant, general), understanding.language, tenant)
        timer.lap("compose")
        reply = Reply(text, sources, declined=True, reason="personal_case", fallback=fallback)
        return _Plan([text, self._finish(reply, selected.passages, timer, understanding)])

    def warm_up(self, tenants: Sequence[TenantProfile]) -> None:
        """Load the model of the first tenant that uses one and evaluate its fixed prompt, so the first
        resident does not wait for it (the local model: seconds). The local model first writes a test
        answer in its process: when that fails (a build for instructions this CPU lacks dies with
        SIGILL), the local backend is switched off and its tenants get extractive answers. Other
        failures only leave the model cold."""
        for tenant in tenants:
            backend = self.backend_for(tenant)
            model, _ = self._model(backend, tenant.settings.llm_model)
            prime = getattr(model, "prime", None)
            if model is None or prime is None:
                continue
            if backend == "local" and not self._passes_check(model):
                return
            try:
                prime([{"role": "system", "content": self.prompts.render(tenant, "system")}])
            except LLMError as error:
                log.warning("answer.warm_up_failed", error=str(error))
            return

    def _passes_check(self, model: ChatModel) -> bool:
        from virtuele_assistent.answering.model_process import ProcessChatModel, check_model

        if not isinstance(model, ProcessChatModel):
            return True
        result = check_model(model)
        if result.ok:
            log.info("answer.model_checked", backend="local", seconds=round(result.seconds, 2))
            return True
        with self._lock:
            self._models.pop("local", None)
            self._disabled["local"] = result.problem
        model.close()
        log.error(
            "answer.model_disabled",
            backend="local",
            problem=result.problem,
            hint="answers are extractive; build the model for this CPU: make local-llm LLAMA_CPU=portable",
        )
        return False

    def model_status(self) -> dict[str, str]:
        """Per language-model backend in use: 'ready', 'restarting' (its process died), 'unavailable'
        (it could not be loaded; tried again within a minute) or 'disabled: why' (its test answer
        failed at start-up)."""
        with self._lock:
            status = {
                key: "restarting" if getattr(model, "pid", 0) is None else "ready"
                for key, model in self._models.items()
            }
            status.update({key: f"disabled: {problem}" for key, problem in self._disabled.items()})
            status.update({key: "unavailable" for key in self._model_errors if key not in status})
        return status

    def _holds_content(self, tenant: TenantProfile) -> bool:
        """Whether anything is indexed that the tenant's answers may come from (its own or shared)."""
        return any(self.retriever.store.count(tenant_id) for tenant_id in tenant.search_tenant_ids)

    def backend_for(self, tenant: TenantProfile) -> str:
        return tenant.settings.answer_backend or self.settings.answer_backend

    def decline(self, tenant: TenantProfile, understanding: Understanding, scope: ScopeDecision) -> str:
        text = self.prompts.render(
            tenant,
            "decline",
            reason=scope.reason,
            other=understanding.other_municipality or "",
            national=_national(understanding.question),
            routes=contact_routes(tenant),
            you=tenant.addressed("u", "je"),
        )
        return with_dutch_only_note(text, understanding.language, tenant)

    # -- steps ------------------------------------------------------------------------------------

    def _contact(
        self, tenant: TenantProfile, understanding: Understanding, passages: list[Passage]
    ) -> tuple[str, list[Source], list[Passage]] | None:
        """A question about the municipality itself, answered from its contact details, with the page
        that publishes them as source (searched for when the question's own results lack it): the
        text, its source and the passages retrieved for it."""
        reply = contact_reply(tenant, understanding, self.terms)
        if reply is None:
            return None
        found = self.retriever.search(
            tenant.search_tenant_ids, source_query(tenant.contact), limit=RETRIEVE_LIMIT
        )
        seen = {p.chunk_id for p in passages}
        retrieved = [*passages, *(p for p in found if p.chunk_id not in seen)]
        source = contact_page(retrieved, tenant.contact, reply.channels)
        text = reply.text
        sources = []
        if source is not None:
            text = f"{text} [1]"
            sources = [Source(1, source.url, source.title or source.url, [])]
        if reply.language != understanding.language:
            text = with_dutch_only_note(text, understanding.language, tenant)
        return text, sources, retrieved

    def _extractive(self, tenant: TenantProfile, understanding: Understanding, sources: list[Source]) -> str:
        return with_dutch_only_note(extractive_text(sources), understanding.language, tenant)

    def select(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        language: str | None = None,
        model: ChatModel | None = None,
        timer: _Timer | None = None,
    ) -> Selected:
        """The steps before the scope decision: understand, retrieve, select."""
        timer = timer or _Timer()
        standalone = self._standalone(tenant, question, history, model, timer)
        understanding = understand(tenant, question, history, language, standalone)
        timer.lap("understand")
        passages = self.retriever.search(
            tenant.search_tenant_ids,
            understanding.standalone,
            limit=RETRIEVE_LIMIT,
            query_vector=self.embeddings.query(understanding.standalone),  # selection reuses it
        )
        timer.lap("retrieve")
        selection = self.selector.select(understanding, passages)
        timer.lap("select")
        return Selected(understanding, passages, selection)

    def _standalone(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]],
        model: ChatModel | None,
        timer: _Timer,
    ) -> str | None:
        """With a model, let it rewrite a follow-up; without one (or when it fails) the heuristic does."""
        earlier = previous_questions(history)
        if model is None or not earlier or not is_follow_up(question, earlier[-1]):
            return None
        prompt = self.prompts.render(tenant, "rewrite", earlier=earlier[-3:], question=question)
        started = time.perf_counter()
        try:
            rewritten = complete(
                model, [{"role": "user", "content": prompt}], 60, self.settings.llm_timeout_s
            )
        except LLMError as error:
            log.warning("answer.rewrite_failed", error=str(error))
            return None
        finally:
            timer.timings["llm_rewrite"] = round((time.perf_counter() - started) * 1000, 2)
        rewritten = rewritten.strip().splitlines()[0].strip() if rewritten.strip() else ""
        return rewritten if 5 <= len(rewritten) <= 300 else None

    def _compose_with_model(self, composition: _Composition) -> Iterator[str | Answer]:
        """The model writes; each finished sentence is verified before it is shown."""
        pieces = composition.model.stream(
            composition.messages,
            self.settings.llm_max_tokens,
            time.monotonic() + self.settings.llm_timeout_s,
        )
        try:
            while True:
                started = time.perf_counter()
                try:
                    piece = next(pieces)
                except StopIteration:
                    break
                finally:
                    composition.generate_ms += (time.perf_counter() - started) * 1000
                for sentence in composition.feed(piece):
                    checked = composition.check(sentence)
                    if checked:
                        yield checked
                if composition.stopped:
                    break
        except LLMError as error:
            composition.failed(error)
        finally:
            close = getattr(pieces, "close", None)
            if close:  # a local model keeps its evaluated prompt on closing: model time too
                started = time.perf_counter()
                close()
                composition.generate_ms += (time.perf_counter() - started) * 1000
        yield from composition.finish()

    def _finish(
        self, reply: Reply, passages: list[Passage], timer: _Timer, understanding: Understanding
    ) -> Answer:
        """The Answer of a reply: timed, with the passages it was chosen from, logged."""
        readability = flesch_douma(reply.text)
        timer.lap("respond")
        timer.timings["total"] = timer.total()
        answer = Answer(
            text=safe_markdown(reply.text),  # page text may hold markup or a javascript: link
            sources=[SourceRef(s.index, s.url, plain_text(s.title)) for s in reply.sources],
            declined=reply.declined,
            passages=passages,
            timings_ms=dict(timer.timings),
            backend=reply.backend,
            language=understanding.language,
            readability=readability,
            standalone_question=understanding.standalone,
            reason=reply.reason,
            fallback=reply.fallback,
            dropped_sentences=list(reply.dropped),
            evidence=dict(timer.evidence),
        )
        log.info(
            "answer.done",
            backend=reply.backend,
            declined=reply.declined,
            reason=reply.reason,
            fallback=reply.fallback,
            sources=len(reply.sources),
            readability=readability,
            dropped=len(reply.dropped),
            timings_ms=answer.timings_ms,
        )
        return answer

    # -- models -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the models this service started (the local model's process)."""
        with self._lock:
            models, self._models = list(self._models.values()), {}
        for model in models:
            close = getattr(model, "close", None)
            if close is not None:
                close()

    def _model(self, backend: str, model_name: str | None = None) -> tuple[ChatModel | None, str | None]:
        """The chat model for a backend (and, at a chat API, the tenant's own model name), loaded once;
        (None, reason) when it cannot be used now."""
        if backend == "extractive":
            return None, None
        key = f"{backend}:{model_name}" if backend == "openai" and model_name else backend
        with self._lock:
            if key in self._models:
                return self._models[key], None
            if key in self._disabled:
                return None, "model_unavailable"
            failed_at = self._model_errors.get(key)
            if failed_at is not None and time.monotonic() - failed_at < 60:
                return None, "model_unavailable"
            try:
                model = self._build_model(backend, model_name)
            except LLMError as error:
                log.warning("answer.model_unavailable", backend=backend, error=str(error))
                self._model_errors[key] = time.monotonic()
                return None, "model_unavailable"
            self._models[key] = model
            return model, None

    def _build_model(self, backend: str, model_name: str | None = None) -> ChatModel:
        settings = self.settings
        if backend == "openai":
            if not settings.llm_url:
                raise LLMError("VA_LLM_URL is not set")
            return OpenAIChatModel(
                settings.llm_url, model_name or settings.llm_model, settings.llm_api_key, settings.llm_retries
            )
        from virtuele_assistent.answering.model_process import local_model

        # llama.cpp never runs in the API's process: a crash there costs one answer, not the service
        return local_model(settings)


@dataclass
class _Plan:
    items: list[str | Answer]
    composition: _Composition | None = None


class _Composition:
    """One answer being written by a model: collects its text sentence by sentence, verifies each
    against the sources, and ends with the answer (or the extractive one when nothing held up)."""

    def __init__(
        self,
        service: AnswerService,
        model: ChatModel,
        backend: str,
        tenant: TenantProfile,
        selected: Selected,
        scope: ScopeDecision,
        sources: list[Source],
        timer: _Timer,
        messages: list[dict[str, str]],
    ) -> None:
        self.service = service
        self.model = model
        self.backend = backend
        self.tenant = tenant
        understanding = selected.understanding
        self.understanding = understanding
        self.selection = selected.selection
        self.scope = scope
        self.sources = sources
        self.passages = selected.passages
        self.timer = timer
        self.messages = messages
        self.evidence = {s.index: s.text for s in sources}
        self.allowed = {tenant.name, *tenant.name.split()}
        # In a Dutch answer, the form of address the tenant did not choose.
        self.dutch = understanding.language == "nl"
        self.other_address = _OTHER_ADDRESS.get(tenant.form_of_address) if self.dutch else None
        self.kept: list[str] = []
        self.dropped: list[str] = []
        self.buffer = ""
        self.failure: str | None = None
        self.generate_ms = 0.0
        self.verify_ms = 0.0
        self.said: set[str] = set()

    @property
    def stopped(self) -> bool:
        """The model failed, found no answer, or has written enough sentences."""
        return self.failure is not None or len(self.kept) >= MAX_MODEL_SENTENCES

    def feed(self, piece: str) -> list[str]:
        """Add model output; the sentences it completes (still to be checked)."""
        self.buffer += piece
        if not self.kept and not self.dropped:
            self.buffer = _ANSWER_LABEL.sub("", self.buffer)  # a small model may copy the example's label
        if NO_ANSWER in self.buffer.upper():
            self.failure = "model_found_no_answer"
            return []
        sentences: list[str] = []
        while True:
            match = _SENTENCE_DONE.match(self.buffer)
            if not match:
                return sentences
            self.buffer = self.buffer[match.end() :]
            sentences.append(match.group(1))

    def failed(self, error: LLMError) -> None:
        if isinstance(error, LLMBusy):
            self.failure = "busy"
        elif isinstance(error, LLMCrashed):
            self.failure = "model_crashed"
        elif isinstance(error, LLMTimeout) or "slow" in str(error) or "time" in str(error):
            self.failure = "timeout"
        else:
            self.failure = "error"
        log.warning("answer.llm_failed", backend=self.backend, error=str(error))

    def check(self, sentence: str) -> str | None:
        """The piece to show (the sentence with its citation, after a space when it is not the first),
        or None when its sources do not support it or it repeats an earlier one."""
        if (
            _RESIDENTS_WORDS.search(sentence)
            or (self.other_address and self.other_address.search(sentence))
            or _says_nothing(sentence)
            or (self.dutch and not self.kept and _OPENS_WITH_CONSEQUENCE.search(sentence))
        ):
            self.dropped.append(sentence.strip())
            return None
        started = time.perf_counter()
        result = self.service.verifier.verify(
            sentence, self.evidence, self.allowed, self.understanding.standalone
        )
        self.verify_ms += (time.perf_counter() - started) * 1000
        if result.dropped:
            self.dropped.append(sentence.strip())
            return None
        plain = CITATION.sub("", result.text).strip().lower()
        if plain in self.said:
            return None  # a small model may repeat itself
        self.said.add(plain)
        kept = _with_citation(result.text, self.sources)
        piece = (" " if self.kept else "") + kept
        self.kept.append(kept)
        return piece

    def finish(self) -> list[str | Answer]:
        """The last pieces and the final Answer."""
        service, timer, understanding = self.service, self.timer, self.understanding
        items: list[str | Answer] = []
        if not self.stopped and self.buffer.strip():
            last = self.check(self.buffer.strip())
            if last:
                items.append(last)
        timer.timings["llm_generate"] = round(self.generate_ms, 2)
        timer.timings["verify"] = round(self.verify_ms, 2)
        timer.lap("compose")
        clearly_on_topic = self.scope.coverage >= 0.85 and (
            not understanding.kinds or any(s.cue for s in self.selection.units)
        )
        trusted = self.backend not in REFUSALS_NOT_TRUSTED
        if self.failure == "model_found_no_answer" and not self.kept and trusted and not clearly_on_topic:
            # The model's judgement counts as evidence: decline unless the selection is clearly on topic.
            refused = ScopeDecision(False, "model_found_no_answer", self.scope.coverage)
            text = service.decline(self.tenant, understanding, refused)
            reply = Reply(text, declined=True, backend=self.backend, reason=refused.reason)
            final = service._finish(reply, self.passages, timer, understanding)
            return [*items, text, final]
        if not self.kept:
            reason = self.failure or ("unsupported" if self.dropped else "empty")
            text = service._extractive(self.tenant, understanding, self.sources)
            reply = Reply(text, self.sources, fallback=reason, dropped=self.dropped)
            final = service._finish(reply, self.passages, timer, understanding)
            return [*items, text, final]
        text = " ".join(self.kept)
        left_out = facts_left_out(self.sources, text, service.terms)
        if left_out:
            addition = extractive_text(left_out)
            items.append("\n\n" + addition)
            text = f"{text}\n\n{addition}"
        cited = {int(n) for n in CITATION.findall(text)}
        used = [s for s in self.sources if s.index in cited] or self.sources
        reply = Reply(text, used, backend=self.backend, fallback=self.failure, dropped=self.dropped)
        final = service._finish(reply, self.passages, timer, understanding)
        return [*items, final]


def _national(question: str) -> dict[str, str] | None:
    """The national matter a declined question names, for the decline template."""
    found = national_matter(question)
    return {"word": found.word, "name": found.body.name, "url": found.body.url} if found else None


def _says_nothing(sentence: str) -> bool:
    words = re.findall(r"\w+", CITATION.sub("", sentence))
    return len(words) == 1 and not words[0].isdigit() and words[0].lower() not in _ONE_WORD_ANSWERS


def _next_or_none(items: Iterator[str | Answer]) -> str | Answer | None:
    return next(items, None)


def _with_citation(sentence: str, sources: list[Source]) -> str:
    """A verified sentence without a citation gets the one source it can come from."""
    if CITATION.search(sentence) or len(sources) != 1:
        return sentence
    match = re.match(r"^(.*?)([.!?]?)$", sentence.strip(), re.S)
    body, end = (match.group(1), match.group(2)) if match else (sentence, "")
    return f"{body}{end} [{sources[0].index}]"


def describe(answer: Answer) -> dict[str, Any]:
    """The answer as JSON-friendly data (CLI, evaluation)."""
    return {
        "answer": answer.text,
        "declined": answer.declined,
        "reason": answer.reason,
        "backend": answer.backend,
        "fallback": answer.fallback,
        "readability": answer.readability,
        "sources": [{"index": s.index, "url": s.url, "title": s.title} for s in answer.sources],
        "timings_ms": answer.timings_ms,
    }
