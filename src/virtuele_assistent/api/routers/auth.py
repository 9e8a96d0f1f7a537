"""Staff login: e-mail and password in, a short-lived staff token out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.auth import StaffDep, client_ip, sign_in
from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.auth.users import StaffUser

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
    user = await sign_in(services, body.email, body.password, client_ip(request, services))
    return TokenOut(
        access_token=services.tokens.issue_staff(user.id),
        expires_in=services.settings.staff_token_ttl_s,
        user=user_out(user),
    )


@router.get("/me", summary="The logged-in staff member and their roles")
def me(user: StaffDep) -> UserOut:
    return user_out(user)
