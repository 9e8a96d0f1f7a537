"""A municipality's staff over the API: who has which role there, adding a staff member, taking a
role away (``users.manage``; the portal's staff page does the same through the same service)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import RowId
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.staff import RoleNotHeld, StaffError, add_staff, revoke_role, staff_of
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.validation import NAME_PATTERN

router = APIRouter(prefix="/api/v1/tenants/{slug}", tags=["staff accounts"], responses=problems(401, 403))
UsersManager = Annotated[StaffUser, requires(Permission.USERS_MANAGE)]
TenantRole = Literal["beheerder", "redacteur", "kcc", "analist", "privacy"]


class StaffMemberOut(BaseModel):
    id: int
    email: str
    name: str
    roles: list[str]
    organisation_account: bool


class StaffMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(default="", max_length=200, pattern=NAME_PATTERN)
    role: TenantRole
    password: str | None = Field(default=None, min_length=12, max_length=1024)


@router.get("/staff", summary="Staff with a role at this municipality")
def staff_list(tenant: TenantDep, services: ServicesDep, _manager: UsersManager) -> list[StaffMemberOut]:
    return [StaffMemberOut(**vars(member)) for member in staff_of(services.db, tenant.slug)]


@router.post("/staff", status_code=201, summary="Give a staff member a role here", responses=problems(409))
def staff_add(
    body: StaffMemberIn, tenant: TenantDep, services: ServicesDep, manager: UsersManager
) -> StaffMemberOut:
    """A new account needs `password` (its first password); an existing one gets the role."""
    try:
        member = add_staff(
            services.db, tenant.slug, body.email, body.name, body.role, body.password, manager.email
        )
    except (StaffError, ValueError) as error:
        raise ApiError(409, str(error)) from None
    return StaffMemberOut(**vars(member))


@router.delete(
    "/staff/{user_id}/roles/{role}",
    status_code=204,
    summary="Take a role here away from a staff member",
    responses=problems(404, 409),
)
def staff_revoke(
    user_id: RowId,
    role: Annotated[TenantRole, Path()],
    tenant: TenantDep,
    services: ServicesDep,
    manager: UsersManager,
) -> Response:
    try:
        revoke_role(services.db, tenant.slug, user_id, role, manager.id, manager.email)
    except RoleNotHeld as error:
        raise ApiError(404, str(error)) from None
    except StaffError as error:
        raise ApiError(409, str(error)) from None
    return Response(status_code=204)
