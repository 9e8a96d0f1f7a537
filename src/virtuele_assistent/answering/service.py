"""Answer a resident's question from the tenant's own content, with sources, or decline honestly.

The pipeline: understand -> retrieve -> select -> scope -> compose -> verify -> respond. Each step is
a module of its own; this one only runs them in order, times them and falls back to the extractive
answer whenever a language model fails, is too slow, or writes something its sources do not support.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from virtuele_assistent.answering.compose import (
    Source,
    dutch_only_note,
    extractive_text,
    facts_left_out,
    llm_messages,
    number_sources,
)
from virtuele_assistent.answering.llm import ChatModel, LLMError, LocalChatModel, OpenAIChatModel, complete
from virtuele_assistent.answering.prompts import PromptEngine, contact_routes
from virtuele_assistent.answering.readability import flesch_douma
from virtuele_assistent.answering.scope import ScopeDecision, decide
from virtuele_assistent.answering.select import Selection, Selector, UnitEmbeddings
from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.understand import Understanding, understand
from virtuele_assistent.answering.verify import Verifier
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.retrieval import Passage, Retriever
from virtuele_assistent.retrieval.followup import is_follow_up, previous_questions
from virtuele_assistent.settings import Settings
from virtuele_assistent.tenants.schemas import TenantProfile

log = structlog.get_logger(__name__)

RETRIEVE_LIMIT = 6
BACKENDS = ("extractive", "openai", "local")
# A sentence is done when text follows it that is not its citation ("... weken. [1" is not done yet).
_SENTENCE_DONE = re.compile(r"^(.*?[.!?](?:\s*\[\d+\])*)\s+(?=[^\s\[])", re.S)
NO_ANSWER = "GEEN ANTWOORD"
_CITATION_MARKS = re.compile(r"\s*\[\d+\]")
# The prompt asks for at most 3 sentences; a model that goes on is stopped after this many.
MAX_MODEL_SENTENCES = 4
_ANSWER_LABEL = re.compile(r"^\s*ANTWOORD\s*:\s*", re.I)
# The embedded 1.5B model often says it finds no answer when its sources hold one (docs/adr/0006-*):
# its refusal then falls back to the extractive answer instead of counting as evidence to decline.
REFUSALS_NOT_TRUSTED = frozenset({"local"})


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
    ) -> None:
        self.retriever = retriever
        self.settings = settings or Settings()
        self.terms = Terms(retriever.analyzer)
        self.embeddings = UnitEmbeddings(embedder or retriever.embedder)
        self.selector = Selector(self.embeddings, self.terms)
        self.verifier = Verifier(self.terms, self.embeddings.passages)
        self.prompts = PromptEngine()
        self._models: dict[str, ChatModel] = dict(models or {})
        self._model_errors: dict[str, float] = {}
        self._lock = threading.Lock()

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
        timer = _Timer()
        backend = self.backend_for(tenant)
        model, fallback = self._model(backend)
        standalone = self._standalone(tenant, question, history, model)
        understanding = understand(tenant, question, history, language, standalone)
        timer.lap("understand")
        passages = self.retriever.search(
            tenant.search_tenant_ids, understanding.standalone, limit=RETRIEVE_LIMIT
        )
        timer.lap("retrieve")
        selection = self.selector.select(understanding, passages)
        timer.lap("select")
        scope = decide(understanding, selection, self.terms)
        timer.evidence = {
            "coverage": round(scope.coverage, 3),
            "uncovered": scope.uncovered,
            "best_cosine": round(scope.best_cosine, 4),
            "kinds": understanding.kinds,
        }
        timer.lap("scope")
        if not scope.in_scope:
            text = self.decline(tenant, understanding, scope)
            yield text
            yield self._finish(
                text, [], True, passages, timer, "extractive", understanding, scope.reason, fallback
            )
            return
        sources = number_sources(selection)
        timer.lap("compose")
        if model is not None:
            yield from self._compose_with_model(
                model, backend, tenant, understanding, selection, scope, sources, passages, timer
            )
            return
        text = self._extractive(tenant, understanding, sources)
        timer.lap("compose")
        yield text
        yield self._finish(text, sources, False, passages, timer, "extractive", understanding, "ok", fallback)

    def warm_up(self, tenants: Sequence[TenantProfile]) -> None:
        """Load the model of the first tenant that uses one and evaluate its fixed prompt, so the first
        resident does not wait for it (the local model: seconds). Failures only leave it cold."""
        for tenant in tenants:
            model, _ = self._model(self.backend_for(tenant))
            prime = getattr(model, "prime", None)
            if model is None or prime is None:
                continue
            try:
                prime([{"role": "system", "content": self.prompts.render(tenant, "system")}])
            except LLMError as error:
                log.warning("answer.warm_up_failed", error=str(error))
            return

    def backend_for(self, tenant: TenantProfile) -> str:
        backend = str(tenant.settings.get("answer_backend") or self.settings.answer_backend)
        return backend if backend in BACKENDS else "extractive"

    def decline(self, tenant: TenantProfile, understanding: Understanding, scope: ScopeDecision) -> str:
        you = "je" if tenant.form_of_address == "je" else "u"
        text = self.prompts.render(
            tenant,
            "decline",
            reason=scope.reason,
            other=understanding.other_municipality or "",
            routes=contact_routes(tenant),
            you=you,
        )
        note = dutch_only_note(understanding.language, tenant)
        return f"{note}\n\n{text}" if note else text

    # -- steps ------------------------------------------------------------------------------------

    def _extractive(self, tenant: TenantProfile, understanding: Understanding, sources: list[Source]) -> str:
        text = extractive_text(sources)
        note = dutch_only_note(understanding.language, tenant)
        return f"{note}\n\n{text}" if note else text

    def _standalone(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]],
        model: ChatModel | None,
    ) -> str | None:
        """With a model, let it rewrite a follow-up; without one (or when it fails) the heuristic does."""
        earlier = previous_questions(history)
        if model is None or not earlier or not is_follow_up(question):
            return None
        prompt = self.prompts.render(tenant, "rewrite", earlier=earlier[-3:], question=question)
        try:
            rewritten = complete(
                model, [{"role": "user", "content": prompt}], 60, self.settings.llm_timeout_s
            )
        except LLMError as error:
            log.warning("answer.rewrite_failed", error=str(error))
            return None
        rewritten = rewritten.strip().splitlines()[0].strip() if rewritten.strip() else ""
        return rewritten if 5 <= len(rewritten) <= 300 else None

    def _compose_with_model(
        self,
        model: ChatModel,
        backend: str,
        tenant: TenantProfile,
        understanding: Understanding,
        selection: Selection,
        scope: ScopeDecision,
        sources: list[Source],
        passages: list[Passage],
        timer: _Timer,
    ) -> Iterator[str | Answer]:
        messages = llm_messages(self.prompts, tenant, understanding, sources)
        evidence = {s.index: s.text for s in sources}
        allowed = {tenant.name, *tenant.name.split()}
        kept: list[str] = []
        dropped: list[str] = []
        buffer = ""
        failure: str | None = None
        deadline = time.monotonic() + self.settings.llm_timeout_s
        generate_ms = 0.0
        verify_ms = 0.0

        said: set[str] = set()

        def check(sentence: str) -> str | None:
            nonlocal verify_ms
            started = time.perf_counter()
            result = self.verifier.verify(sentence, evidence, allowed)
            verify_ms += (time.perf_counter() - started) * 1000
            if result.dropped:
                dropped.append(sentence.strip())
                return None
            if _CITATION_MARKS.sub("", result.text).strip().lower() in said:
                return None  # a small model may repeat itself
            said.add(_CITATION_MARKS.sub("", result.text).strip().lower())
            return _with_citation(result.text, sources)

        pieces = model.stream(messages, self.settings.llm_max_tokens, deadline)
        try:
            while True:
                started = time.perf_counter()
                try:
                    piece = next(pieces)
                except StopIteration:
                    break
                finally:
                    generate_ms += (time.perf_counter() - started) * 1000
                buffer += piece
                if not kept and not dropped:
                    buffer = _ANSWER_LABEL.sub("", buffer)  # a small model may copy the example's label
                if NO_ANSWER in buffer.upper():
                    failure = "model_found_no_answer"
                    break
                while True:
                    match = _SENTENCE_DONE.match(buffer)
                    if not match:
                        break
                    buffer = buffer[match.end() :]
                    sentence = check(match.group(1))
                    if sentence:
                        yield (" " if kept else "") + sentence
                        kept.append(sentence)
                if len(kept) >= MAX_MODEL_SENTENCES:
                    buffer = ""
                    break
        except LLMError as error:
            failure = "timeout" if "slow" in str(error) or "time" in str(error) else "error"
            log.warning("answer.llm_failed", backend=backend, error=str(error))
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()
        if failure is None and buffer.strip():
            sentence = check(buffer.strip())
            if sentence:
                yield (" " if kept else "") + sentence
                kept.append(sentence)
        timer.timings["llm_generate"] = round(generate_ms, 2)
        timer.timings["verify"] = round(verify_ms, 2)
        timer.lap("compose")
        clearly_on_topic = scope.coverage >= 0.85 and (
            not understanding.kinds or any(s.cue for s in selection.units)
        )
        trusted = backend not in REFUSALS_NOT_TRUSTED
        if failure == "model_found_no_answer" and not kept and trusted and not clearly_on_topic:
            # The model's judgement counts as evidence: decline unless the selection is clearly on topic.
            refused = ScopeDecision(False, "model_found_no_answer", scope.coverage)
            text = self.decline(tenant, understanding, refused)
            yield text
            yield self._finish(text, [], True, passages, timer, backend, understanding, refused.reason, None)
            return
        if not kept:
            reason = failure or ("unsupported" if dropped else "empty")
            text = self._extractive(tenant, understanding, sources)
            yield text
            yield self._finish(
                text, sources, False, passages, timer, "extractive", understanding, "ok", reason, dropped
            )
            return
        text = " ".join(kept)
        left_out = facts_left_out(sources, text)
        if left_out:
            addition = extractive_text(left_out)
            yield "\n\n" + addition
            text = f"{text}\n\n{addition}"
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
        used = [s for s in sources if s.index in cited] or sources
        yield self._finish(text, used, False, passages, timer, backend, understanding, "ok", failure, dropped)

    def _finish(
        self,
        text: str,
        sources: list[Source],
        declined: bool,
        passages: list[Passage],
        timer: _Timer,
        backend: str,
        understanding: Understanding,
        reason: str,
        fallback: str | None,
        dropped: list[str] | None = None,
    ) -> Answer:
        readability = flesch_douma(text)
        timer.lap("respond")
        timer.timings["total"] = timer.total()
        answer = Answer(
            text=text,
            sources=[SourceRef(s.index, s.url, s.title) for s in sources],
            declined=declined,
            passages=passages,
            timings_ms=dict(timer.timings),
            backend=backend,
            language=understanding.language,
            readability=readability,
            standalone_question=understanding.standalone,
            reason=reason,
            fallback=fallback,
            dropped_sentences=list(dropped or []),
            evidence=dict(timer.evidence),
        )
        log.info(
            "answer.done",
            backend=backend,
            declined=declined,
            reason=reason,
            fallback=fallback,
            sources=len(sources),
            readability=readability,
            dropped=len(answer.dropped_sentences),
            timings_ms=answer.timings_ms,
        )
        return answer

    # -- models -----------------------------------------------------------------------------------

    def _model(self, backend: str) -> tuple[ChatModel | None, str | None]:
        """The chat model for a backend, loaded once; (None, reason) when it cannot be used now."""
        if backend == "extractive":
            return None, None
        with self._lock:
            if backend in self._models:
                return self._models[backend], None
            failed_at = self._model_errors.get(backend)
            if failed_at is not None and time.monotonic() - failed_at < 60:
                return None, "model_unavailable"
            try:
                model = self._build_model(backend)
            except LLMError as error:
                log.warning("answer.model_unavailable", backend=backend, error=str(error))
                self._model_errors[backend] = time.monotonic()
                return None, "model_unavailable"
            self._models[backend] = model
            return model, None

    def _build_model(self, backend: str) -> ChatModel:
        settings = self.settings
        if backend == "openai":
            if not settings.llm_url:
                raise LLMError("VA_LLM_URL is not set")
            return OpenAIChatModel(
                settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_retries
            )
        from virtuele_assistent.answering.local_model import default_model_path

        return LocalChatModel(settings.local_model_path or default_model_path(), settings.llm_threads)


def _with_citation(sentence: str, sources: list[Source]) -> str:
    """A verified sentence without a citation gets the one source it can come from."""
    if re.search(r"\[\d+\]", sentence) or len(sources) != 1:
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
