"""Anonymous resident sessions: a short-lived token per tenant, only for allow-listed origins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.auth import client_ip, origin_allowed, rate_limited
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.auth.tokens import TokenError
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import new_id
from virtuele_assistent.tenants.schemas import TenantProfile

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["sessions"], responses=problems(403, 429))


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$", description="Resume this conversation."
    )
    resume_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="The session token the conversation was last used with (it may have expired). "
        "Required to resume: a conversation id alone is no proof that the conversation is yours.",
    )


class SessionOut(BaseModel):
    token: str
    expires_in: int
    conversation_id: str
    resumed: bool


NOT_YOURS = (
    "Dit gesprek kan alleen worden voortgezet met het sessietoken waarmee het is gevoerd "
    "(veld 'resume_token'). Begin een nieuw gesprek."
)


def _resumable(services: Services, tenant: TenantProfile, body: SessionRequest) -> str | None:
    """The conversation the caller proves is theirs, or None; refuses a claim without proof."""
    if body.resume_token is None:
        if body.conversation_id:
            raise ApiError(403, NOT_YOURS)
        return None
    try:
        claims = services.tokens.verify_session(
            body.resume_token, tenant.slug, max_age_s=services.settings.retention_days * 86400
        )
    except TokenError:
        raise ApiError(403, NOT_YOURS) from None
    if body.conversation_id and body.conversation_id != claims.conversation_id:
        raise ApiError(403, NOT_YOURS)
    return claims.conversation_id


@router.post(
    "/sessions",
    summary="Start or resume an anonymous chat session",
    responses={403: {"description": "Origin not allowed, or no proof that the conversation is yours"}},
)
async def create_session(
    request: Request,
    tenant: TenantDep,
    services: ServicesDep,
    body: Annotated[SessionRequest | None, Body()] = None,
) -> SessionOut:
    if not origin_allowed(tenant, request.headers.get("origin")):
        raise ApiError(403, f"Deze website mag de assistent van {tenant.name} niet gebruiken.")
    await rate_limited(services, [("new_session", client_ip(request, services))])
    resumed = False
    conversation_id = new_id()
    wanted = _resumable(services, tenant, body) if body is not None else None
    if wanted and await services.chat.run(services.chat.exists, tenant, wanted):
        conversation_id, resumed = wanted, True
    token = services.tokens.issue_session(tenant.slug, conversation_id)
    return SessionOut(
        token=token,
        expires_in=services.settings.session_token_ttl_s,
        conversation_id=conversation_id,
        resumed=resumed,
    )
