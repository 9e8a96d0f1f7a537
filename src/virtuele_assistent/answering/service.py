"""Answer a resident's question from the tenant's own content, with sources, or decline honestly."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from virtuele_assistent.retrieval import Passage, Retriever
from virtuele_assistent.tenants.schemas import TenantProfile

# Below this cosine similarity the best passage is not about the question.
MIN_DENSE_SCORE = 0.80
MAX_ANSWER_CHARS = 700


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


class AnswerService:
    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def answer(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        language: str | None = None,
    ) -> Answer:
        """Answer one question; ``history`` is the conversation so far as (role, text) pairs."""
        started = time.perf_counter()
        passages = self.retriever.search(tenant.search_tenant_ids, question, limit=5)
        timings = {"retrieve": (time.perf_counter() - started) * 1000}
        best = passages[0] if passages else None
        if best is None or (best.dense_score or 0.0) < MIN_DENSE_SCORE:
            return Answer(decline_text(tenant), [], True, passages, timings)
        text = (
            best.text
            if len(best.text) <= MAX_ANSWER_CHARS
            else best.text[:MAX_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
        )
        sources = [SourceRef(1, best.url, best.title)]
        return Answer(f"{text} [1]", sources, False, passages, timings)

    def stream(
        self,
        tenant: TenantProfile,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        language: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they become available, then the final Answer."""
        answer = self.answer(tenant, question, history, language)
        for piece in answer.text.split(" "):
            yield piece + " "
        yield answer


def decline_text(tenant: TenantProfile) -> str:
    you = "je" if tenant.form_of_address == "je" else "u"
    contact = tenant.contact
    routes = []
    if contact.phone:
        routes.append(f"bel {contact.phone}")
    if contact.contact_form_url:
        routes.append(f"gebruik het contactformulier: {contact.contact_form_url}")
    how = (" " + " of ".join(routes) + ".") if routes else ""
    return (
        f"Daar kan ik geen betrouwbaar antwoord op vinden in de informatie van {tenant.name}. "
        f"Wil {you} het zeker weten? Neem dan contact op met de gemeente:{how}"
    ).strip()
