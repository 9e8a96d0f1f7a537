"""Staff endpoints on conversations: the handover queue, data-subject export and erasure, the KCC
callback."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import HexId
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.conversations import handover
from virtuele_assistent.conversations.export import erase_conversation, export_conversation
from virtuele_assistent.conversations.fanout import conversation_channel, staff_channel

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["staff"], responses=problems(401, 403))
ID = r"^[0-9a-f]{32}$"

PrivacyStaff = Annotated[StaffUser, requires(Permission.CONVERSATIONS_EXPORT)]
KccStaff = Annotated[StaffUser, requires(Permission.HANDOVER_ANSWER)]


@router.get("/conversations/{conversation_id}/export", summary="Export a conversation (data-subject request)")
async def export(
    conversation_id: HexId, tenant: TenantDep, services: ServicesDep, user: PrivacyStaff
) -> dict:
    data = await services.chat.run(export_conversation, services.db, tenant, conversation_id, user.email)
    if data is None:
        raise ApiError(404, "Dit gesprek bestaat niet (meer).")
    return data


@router.post(
    "/conversations/{conversation_id}/erase",
    status_code=204,
    summary="Erase a conversation (data-subject request)",
    responses=problems(404),
)
async def erase(
    conversation_id: HexId, tenant: TenantDep, services: ServicesDep, user: PrivacyStaff
) -> Response:
    if not await services.chat.run(erase_conversation, services.db, tenant, conversation_id, user.email):
        raise ApiError(404, "Dit gesprek bestaat niet (meer).")
    return Response(status_code=204)


@router.get("/handover", summary="Open handover requests (the live queue)")
async def handover_queue(tenant: TenantDep, services: ServicesDep, _user: KccStaff) -> list[dict[str, Any]]:
    return await services.chat.run(handover.queue, services.db, tenant)


class KccAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^(accept|message|close)$")
    text: str | None = Field(default=None, max_length=4000)
    name: str = Field(default="Medewerker", max_length=100)


@router.post(
    "/handover/{handover_id}/kcc",
    summary="Callback for an external live-chat/KCC system (signed)",
    responses=problems(409),
)
async def kcc_callback(
    handover_id: HexId,
    request: Request,
    tenant: TenantDep,
    services: ServicesDep,
    x_va_timestamp: Annotated[str, Header()] = "",
    x_va_signature: Annotated[str, Header()] = "",
) -> dict[str, str]:
    secret = handover.webhook_secret(tenant)
    body = await request.body()
    if not secret or not handover.verify_signature(secret, x_va_timestamp, body, x_va_signature):
        raise ApiError(401, "De handtekening van dit verzoek klopt niet.")
    try:
        action = KccAction.model_validate(json.loads(body or b"{}"))
    except (ValueError, ValidationError):
        raise ApiError(422, "De inhoud van het verzoek is ongeldig.") from None
    db = services.db
    if action.action == "accept":
        result = await services.chat.run(handover.accept, db, tenant, handover_id, None, action.name)
        if result is None:
            raise ApiError(409, "Dit verzoek is al opgepakt of gesloten.")
        await services.broker.publish(
            conversation_channel(result["conversation_id"]),
            {
                "type": "handover",
                "status": "accepted",
                "message": f"{action.name} van {tenant.name} helpt u verder.",
            },
        )
        await services.broker.publish(
            staff_channel(tenant.id), {"type": "handover_accepted", "request": result}
        )
    elif action.action == "message":
        if not action.text:
            raise ApiError(422, "Een bericht heeft tekst nodig.")
        said = await services.chat.run(handover.staff_say, db, tenant, handover_id, action.text, action.name)
        if said is None:
            raise ApiError(409, "Neem het verzoek eerst aan.")
        await services.broker.publish(conversation_channel(said["conversation_id"]), said["message"])
    else:
        result = await services.chat.run(handover.close, db, tenant, handover_id)
        if result is None:
            raise ApiError(409, "Dit verzoek is al gesloten.")
        await services.broker.publish(
            conversation_channel(result["conversation_id"]),
            {
                "type": "handover",
                "status": "closed",
                "message": "De medewerker heeft het gesprek afgesloten.",
            },
        )
    return {"status": "ok"}
