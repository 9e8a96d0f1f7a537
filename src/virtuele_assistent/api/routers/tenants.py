"""Tenants (municipalities): public profile; creating and removing them (platform admins) and
changing their settings (their own admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, SlugPath, TenantDep, tenant_not_found
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.tenants.schemas import TenantCreate, TenantOut, TenantPublic, TenantUpdate
from virtuele_assistent.tenants.service import (
    TenantBusy,
    TenantExists,
    TenantNotFound,
    create_tenant,
    delete_tenant,
    list_tenants,
    update_tenant,
)

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"], responses=problems(401, 403))
PlatformAdmin = Annotated[StaffUser, requires(Permission.TENANTS_MANAGE)]
SettingsEditor = Annotated[StaffUser, requires(Permission.SETTINGS_EDIT)]


@router.get("", summary="List tenants")
def list_all(services: ServicesDep, _admin: PlatformAdmin) -> list[TenantOut]:
    return list_tenants(services.db)


@router.post("", status_code=201, summary="Create a tenant", responses=problems(409))
def create(data: TenantCreate, services: ServicesDep, admin: PlatformAdmin) -> TenantOut:
    try:
        return create_tenant(services.db, data, actor=admin.email)
    except TenantExists:
        raise ApiError(409, f"Gemeente '{data.slug}' bestaat al.") from None


@router.get("/{slug}", summary="A tenant's public profile")
def get_one(tenant: TenantDep) -> TenantPublic:
    return TenantPublic.model_validate(tenant)


@router.patch("/{slug}", summary="Change a tenant", responses=problems(404))
def update(slug: SlugPath, data: TenantUpdate, services: ServicesDep, editor: SettingsEditor) -> TenantOut:
    """Only the fields sent change; within `settings` only the settings sent (`widget` field by
    field), and a setting sent as null goes back to its default."""
    try:
        return update_tenant(services.db, slug, data, actor=editor.email)
    except TenantNotFound:
        raise tenant_not_found(slug) from None


@router.delete(
    "/{slug}", status_code=204, summary="Delete a tenant and all its data", responses=problems(404, 409)
)
def delete(slug: SlugPath, services: ServicesDep, admin: PlatformAdmin) -> Response:
    """Removes the tenant's sources, jobs, documents, chunks, vectors, conversations, feedback,
    handover requests and settings. Refused while a worker is crawling for it."""
    try:
        delete_tenant(services.db, services.store, slug, services.settings.job_lease_s, actor=admin.email)
    except TenantNotFound:
        raise tenant_not_found(slug) from None
    except TenantBusy as busy:
        raise ApiError(
            409,
            f"Er loopt nu een crawl voor gemeente '{slug}' (taak {busy.job_id}). Annuleer die taak of "
            "wacht tot hij klaar is, en verwijder de gemeente dan opnieuw.",
        ) from None
    return Response(status_code=204)
