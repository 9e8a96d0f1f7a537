"""Anonymous resident sessions: a short-lived token per tenant, only for allow-listed origins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.auth import client_ip, origin_allowed
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.storage.models import new_id

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["sessions"])


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$", description="Resume this conversation."
    )


class SessionOut(BaseModel):
    token: str
    expires_in: int
    conversation_id: str
    resumed: bool


async def rate_limited(services, kind_keys: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    verdict = await services.limiter.check(*kind_keys)
    if not verdict.allowed:
        raise ApiError(
            429,
            f"U stuurt te veel verzoeken. Probeer het over {verdict.retry_after} seconden opnieuw.",
            headers={"Retry-After": str(verdict.retry_after)},
            retry_after=verdict.retry_after,
        )


@router.post("/sessions", summary="Start or resume an anonymous chat session")
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
    if (
        body is not None
        and body.conversation_id
        and await services.chat.run(services.chat.exists, tenant, body.conversation_id)
    ):
        conversation_id, resumed = body.conversation_id, True
    token = services.tokens.issue_session(tenant.slug, conversation_id)
    return SessionOut(
        token=token,
        expires_in=services.settings.session_token_ttl_s,
        conversation_id=conversation_id,
        resumed=resumed,
    )
