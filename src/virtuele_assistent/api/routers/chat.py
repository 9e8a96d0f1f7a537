"""Chat over HTTP: plain JSON, server-sent events, feedback, and deleting one's conversation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from virtuele_assistent.api.auth import OptionalSessionDep, SessionDep, client_ip, rate_limited
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import HEX_ID, HexId
from virtuele_assistent.conversations import feedback as feedback_store
from virtuele_assistent.conversations.language import answer_languages
from virtuele_assistent.conversations.protocol import SourceOut
from virtuele_assistent.conversations.protocol import error as error_frame
from virtuele_assistent.conversations.service import ConversationNotFound
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.validation import AnswerText

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["chat"], responses=problems(401, 403, 413, 429))
ID = HEX_ID


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, examples=["Wat kost een paspoort?"])
    conversation_id: str | None = Field(default=None, pattern=ID)
    language: str | None = Field(default=None, max_length=12)


class ChatResponse(BaseModel):
    conversation_id: str
    message_id: str
    answer: AnswerText
    declined: bool
    sources: list[SourceOut]
    language: str = Field(default="nl", description="The language the resident wrote in.")
    answer_language: str = Field(
        default="nl", description="The language of the answer's own sentences (a page's Dutch ones)."
    )
    note: str | None = Field(
        default=None,
        description="The answer's first paragraph when it says, in the resident's language, that the "
        "answer is in Dutch; a client marks it with `language` and the rest with `answer_language`.",
    )
    handover_offered: bool = False
    backend: str = Field(
        default="extractive",
        description="What wrote the answer: extractive (sentences of the sources), openai or local, "
        "or fixed (a fixed answer the municipality's staff wrote).",
    )
    fallback: str | None = Field(
        default=None,
        description="Why the configured language model did not write it (busy, timeout, error, "
        "model_crashed, model_unavailable, language, ...): the answer is then the extractive one.",
    )
    disclosure: str | None = Field(
        default=None, description="AI disclosure, on a conversation's first answer."
    )
    session_token: str | None = Field(
        default=None,
        description="Asked without a session: the token to continue this conversation with "
        "(Authorization: Bearer …). A conversation id alone does not continue a conversation.",
    )


def _question(services: Services, text: str) -> str:
    question = text.strip()
    if not question:
        raise ApiError(422, "Stel een vraag: het veld 'question' is leeg.")
    limit = services.settings.max_question_chars
    if len(question) > limit:
        raise ApiError(413, f"Uw vraag is te lang. Gebruik maximaal {limit} tekens.")
    return question


def _conversation(session_id: str | None, body_id: str | None) -> str | None:
    """The session's conversation: an id in the body must be that one, and needs the session."""
    if body_id and body_id != session_id:
        raise ApiError(
            403,
            "Dit gesprek hoort niet bij uw sessie. Gebruik het sessietoken van dit gesprek "
            "(Authorization: Bearer …) of begin een nieuw gesprek.",
        )
    return session_id


@router.post("/chat", summary="Ask a question (plain JSON)")
async def chat(
    body: ChatRequest, request: Request, tenant: TenantDep, services: ServicesDep, session: OptionalSessionDep
) -> ChatResponse:
    question = _question(services, body.question)
    ip = client_ip(request, services)
    checks = [("ip", ip)] + ([("session", session.conversation_id)] if session else [])
    await rate_limited(services, checks)
    conversation_id = _conversation(session.conversation_id if session else None, body.conversation_id)
    try:
        turn = await services.chat.run(
            services.chat.ask,
            tenant,
            question,
            conversation_id,
            "widget" if session else "api",
            create=session is not None,
            language_hint=body.language,
            live_handover=await services.chat.live_handover_for(tenant, question),
        )
    except ConversationNotFound:
        raise ApiError(404, "Dit gesprek bestaat niet (meer). Begin een nieuw gesprek.") from None
    note, answer_language = answer_languages(tenant, turn.answer.text, turn.language)
    return ChatResponse(
        conversation_id=turn.conversation_id,
        message_id=turn.message_id,
        answer=turn.answer.text,
        declined=turn.answer.declined,
        sources=[SourceOut(index=s.index, url=s.url, title=s.title) for s in turn.answer.sources],
        language=turn.language,
        answer_language=answer_language,
        note=note,
        handover_offered=turn.handover_offered,
        backend=turn.answer.backend,
        fallback=turn.answer.fallback,
        disclosure=turn.disclosure,
        session_token=None if session else services.tokens.issue_session(tenant.slug, turn.conversation_id),
    )


@router.post(
    "/chat/stream",
    summary="Ask a question; the answer streams as server-sent events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "token, sources, done events"}},
)
async def chat_stream(
    body: ChatRequest, request: Request, tenant: TenantDep, services: ServicesDep, session: SessionDep
) -> EventSourceResponse:
    question = _question(services, body.question)
    await rate_limited(services, [("ip", client_ip(request, services)), ("session", session.conversation_id)])
    conversation_id = _conversation(session.conversation_id, body.conversation_id)
    return EventSourceResponse(
        _events(services, tenant, question, conversation_id, body.language), ping=15, send_timeout=30
    )


async def _events(
    services: Services, tenant: TenantProfile, question: str, conversation_id: str | None, hint: str | None
) -> AsyncIterator[dict[str, Any]]:
    try:
        async for message in services.chat.turn(
            tenant, question, conversation_id, channel="widget", language_hint=hint
        ):
            yield {"event": message["type"], "data": json.dumps(message, ensure_ascii=False)}
    except ConversationNotFound:
        frame = error_frame("invalid_message", "Dit gesprek bestaat niet (meer). Begin een nieuw gesprek.")
        yield {"event": "error", "data": json.dumps(frame, ensure_ascii=False)}
    except Exception:
        frame = error_frame(
            "unavailable", "De assistent is tijdelijk niet beschikbaar. Probeer het later opnieuw."
        )
        yield {"event": "error", "data": json.dumps(frame, ensure_ascii=False)}


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(pattern=ID)
    rating: str = Field(pattern=r"^(up|down)$")
    comment: str | None = Field(default=None, max_length=2000)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=0, le=10)
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/feedback", status_code=201, summary="Thumbs up/down on one answer")
async def give_feedback(
    body: FeedbackRequest, request: Request, tenant: TenantDep, services: ServicesDep, session: SessionDep
) -> dict[str, str]:
    await rate_limited(services, [("session", session.conversation_id)])
    stored = await services.chat.run(
        feedback_store.rate_answer,
        services.db,
        tenant,
        session.conversation_id,
        body.message_id,
        body.rating,
        body.comment,
    )
    if not stored:
        raise ApiError(404, "Dit antwoord bestaat niet in uw gesprek.")
    return {"status": "ok", "message_id": body.message_id}


@router.post("/score", status_code=201, summary="End-of-conversation score (0-10)")
async def give_score(
    body: ScoreRequest, tenant: TenantDep, services: ServicesDep, session: SessionDep
) -> dict[str, str]:
    await rate_limited(services, [("session", session.conversation_id)])
    stored = await services.chat.run(
        feedback_store.score_conversation,
        services.db,
        tenant,
        session.conversation_id,
        body.score,
        body.comment,
    )
    if not stored:
        raise ApiError(404, "Dit gesprek bestaat niet (meer).")
    return {"status": "ok"}


@router.delete("/conversations/{conversation_id}", status_code=204, summary="Delete my conversation")
async def delete_conversation(
    conversation_id: HexId, tenant: TenantDep, services: ServicesDep, session: SessionDep
) -> None:
    if conversation_id != session.conversation_id:
        raise ApiError(403, "U kunt alleen uw eigen gesprek verwijderen.")
    if not await services.chat.run(services.chat.delete, tenant, conversation_id):
        raise ApiError(404, "Dit gesprek bestaat niet (meer).")
