"""Shared dependencies for routers: services, the tenant from the path, admin access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import SLUG_PATTERN, TenantProfile
from virtuele_assistent.tenants.service import TenantNotFound, get_profile


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=63)]


def tenant_not_found(slug: str) -> ApiError:
    return ApiError(404, f"Gemeente '{slug}' bestaat niet.")


def tenant_profile(services: ServicesDep, slug: SlugPath) -> TenantProfile:
    try:
        return get_profile(services.db, slug)
    except TenantNotFound:
        raise tenant_not_found(slug) from None


TenantDep = Annotated[TenantProfile, Depends(tenant_profile)]
