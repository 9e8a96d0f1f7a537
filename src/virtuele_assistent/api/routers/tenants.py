"""Tenants (municipalities): public profile, and administration with the admin token."""

from __future__ import annotations

from fastapi import APIRouter

from virtuele_assistent.api.deps import AdminDep, ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.tenants.schemas import TenantCreate, TenantOut, TenantUpdate
from virtuele_assistent.tenants.service import (
    TenantExists,
    TenantNotFound,
    create_tenant,
    list_tenants,
    update_tenant,
)

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"], responses=problems(401, 403))


@router.get("", summary="List tenants")
def list_all(services: ServicesDep, _admin: AdminDep) -> list[TenantOut]:
    return list_tenants(services.db)


@router.post("", status_code=201, summary="Create a tenant", responses=problems(409))
def create(data: TenantCreate, services: ServicesDep, admin: AdminDep) -> TenantOut:
    try:
        return create_tenant(services.db, data, actor=admin)
    except TenantExists:
        raise ApiError(409, f"Gemeente '{data.slug}' bestaat al.") from None


@router.get("/{slug}", summary="A tenant's public profile")
def get_one(tenant: TenantDep) -> TenantOut:
    return TenantOut(
        slug=tenant.slug,
        name=tenant.name,
        form_of_address=tenant.form_of_address,
        contact=tenant.contact,
        allowed_origins=[],
    )


@router.patch("/{slug}", summary="Change a tenant")
def update(slug: str, data: TenantUpdate, services: ServicesDep, admin: AdminDep) -> TenantOut:
    try:
        return update_tenant(services.db, slug, data, actor=admin)
    except TenantNotFound:
        raise ApiError(404, f"Gemeente '{slug}' bestaat niet.") from None
