"""Staff login: e-mail and password in, a short-lived staff token out."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.auth import StaffDep, client_ip
from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.routers.sessions import rate_limited
from virtuele_assistent.auth.users import StaffUser, authenticate

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=problems(401, 429))


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RoleOut(BaseModel):
    role: str
    tenant_id: int | None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    roles: list[RoleOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


def user_out(user: StaffUser) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        roles=[RoleOut(role=r, tenant_id=t) for r, t in user.roles],
    )


@router.post("/token", summary="Log in as a staff member")
async def login(body: LoginRequest, request: Request, services: ServicesDep) -> TokenOut:
    account, address = body.email.strip().lower(), client_ip(request, services)
    await rate_limited(services, [("login_ip", address)])
    check = await services.sign_in.check(account, address)
    if not check.allowed:
        raise ApiError(
            429,
            "Te veel mislukte pogingen om in te loggen vanaf dit adres. "
            f"Probeer het over {check.retry_after} seconden opnieuw.",
            headers={"Retry-After": str(check.retry_after)},
            retry_after=check.retry_after,
        )
    await asyncio.sleep(check.wait_s)  # an account under attack: every attempt waits a little
    user = await services.chat.run(authenticate, services.db, body.email, body.password)
    if user is None:
        await services.sign_in.failed(account, address)
        raise ApiError(
            401, "Het e-mailadres of wachtwoord klopt niet.", headers={"WWW-Authenticate": "Bearer"}
        )
    await services.sign_in.succeeded(account, address)
    return TokenOut(
        access_token=services.tokens.issue_staff(user.id),
        expires_in=services.settings.staff_token_ttl_s,
        user=user_out(user),
    )


@router.get("/me", summary="The logged-in staff member and their roles")
def me(user: StaffDep) -> UserOut:
    return user_out(user)
