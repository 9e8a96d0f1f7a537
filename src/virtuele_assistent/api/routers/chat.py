"""Plain JSON chat: one question in, one answer with sources out."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.conversations.service import ConversationNotFound

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["chat"])


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, examples=["Wat kost een paspoort?"])
    conversation_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class SourceOut(BaseModel):
    index: int
    url: str
    title: str


class ChatResponse(BaseModel):
    conversation_id: str
    message_id: str
    answer: str
    declined: bool
    sources: list[SourceOut]


@router.post("/chat", summary="Ask a question")
def chat(body: ChatRequest, tenant: TenantDep, services: ServicesDep) -> ChatResponse:
    question = body.question.strip()
    if not question:
        raise ApiError(422, "Stel een vraag: het veld 'question' is leeg.")
    limit = services.settings.max_question_chars
    if len(question) > limit:
        raise ApiError(413, f"Uw vraag is te lang. Gebruik maximaal {limit} tekens.")
    try:
        turn = services.chat.ask(tenant, question, body.conversation_id)
    except ConversationNotFound:
        raise ApiError(404, "Dit gesprek bestaat niet (meer). Begin een nieuw gesprek.") from None
    return ChatResponse(
        conversation_id=turn.conversation_id,
        message_id=turn.message_id,
        answer=turn.answer.text,
        declined=turn.answer.declined,
        sources=[SourceOut(index=s.index, url=s.url, title=s.title) for s in turn.answer.sources],
    )
