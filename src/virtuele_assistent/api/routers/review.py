"""Conversation review: find a municipality's conversations and read one as its redacted transcript
with how each answer came about (``conversations.read``), and mark an answer (``conversations.review``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import HexId
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.review.service import (
    AnswerNotFound,
    ConversationFilter,
    ConversationNotFound,
    ConversationPage,
    ReviewIn,
    ReviewOut,
    Transcript,
    clear_mark,
    find_conversations,
    mark_answer,
    transcript,
)

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["review"], responses=problems(401, 403))
Reader = Annotated[StaffUser, requires(Permission.CONVERSATIONS_READ)]
Reviewer = Annotated[StaffUser, requires(Permission.CONVERSATIONS_REVIEW)]
NO_ANSWER = "Dit antwoord bestaat niet in dit gesprek."


@router.get("/conversations", summary="Conversations, filtered, newest first (50 per page)")
def conversations_list(
    tenant: TenantDep,
    services: ServicesDep,
    _reader: Reader,
    wanted: Annotated[ConversationFilter, Query()],
) -> ConversationPage:
    return find_conversations(services.db, tenant.id, wanted)


@router.get(
    "/conversations/{conversation_id}",
    summary="One conversation as a redacted transcript",
    responses=problems(404),
)
def conversations_get(
    conversation_id: HexId, tenant: TenantDep, services: ServicesDep, _reader: Reader
) -> Transcript:
    try:
        return transcript(services.db, tenant.id, conversation_id)
    except ConversationNotFound:
        raise ApiError(404, "Dit gesprek bestaat niet (meer).") from None


@router.put(
    "/conversations/{conversation_id}/messages/{message_id}/review",
    summary="Mark an answer as fine, incomplete or wrong",
    responses=problems(404, 422),
)
def review_put(
    conversation_id: HexId,
    message_id: HexId,
    mark: ReviewIn,
    tenant: TenantDep,
    services: ServicesDep,
    reviewer: Reviewer,
) -> ReviewOut:
    try:
        return mark_answer(services.db, tenant.id, conversation_id, message_id, mark, reviewer.email)
    except AnswerNotFound:
        raise ApiError(404, NO_ANSWER) from None


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}/review",
    status_code=204,
    summary="Take an answer's mark away",
    responses=problems(404),
)
def review_delete(
    conversation_id: HexId, message_id: HexId, tenant: TenantDep, services: ServicesDep, reviewer: Reviewer
) -> Response:
    try:
        cleared = clear_mark(services.db, tenant.id, conversation_id, message_id, reviewer.email)
    except AnswerNotFound:
        raise ApiError(404, NO_ANSWER) from None
    if not cleared:
        raise ApiError(404, "Dit antwoord is nog niet beoordeeld.")
    return Response(status_code=204)
