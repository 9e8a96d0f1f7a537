"""The audit log over the API: a municipality's entries (``audit.read`` there) and the whole
platform's (``audit.read`` for the platform), filtered, as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from virtuele_assistent.api.auth import requires
from virtuele_assistent.api.deps import ServicesDep, TenantDep
from virtuele_assistent.api.errors import ApiError, describe_validation
from virtuele_assistent.api.openapi import problems
from virtuele_assistent.api.params import DayQuery
from virtuele_assistent.audit.service import AuditEntryOut, AuditFilter, as_csv, list_entries
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.auth.users import StaffUser

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=problems(401, 403))
AuditReader = Annotated[StaffUser, requires(Permission.AUDIT_READ)]
Format = Annotated[
    Literal["json", "csv"], Query(alias="format", description="json, or csv to open in a spreadsheet")
]


def _filter(
    tenants: tuple[str, ...] | None,
    actor: str | None,
    action: str | None,
    since: date | None,
    until: date | None,
    limit: int,
) -> AuditFilter:
    try:
        return AuditFilter(tenants=tenants, actor=actor, action=action, since=since, until=until, limit=limit)
    except ValidationError as error:
        detail, fields = describe_validation(list(error.errors()))  # type: ignore[arg-type]
        raise ApiError(422, detail, errors=fields) from None


def _answer(entries: list[AuditEntryOut], output: str, name: str) -> list[AuditEntryOut] | Response:
    if output == "csv":
        return Response(
            as_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return entries


Actor = Annotated[str | None, Query(max_length=320, description="Part of the name or e-mail address")]
Action = Annotated[
    str | None, Query(max_length=100, description="An action (tenant.update) or a kind (tenant.)")
]
Limit = Annotated[int, Query(ge=1, le=10_000)]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The entries"}
}


@router.get(
    "/tenants/{slug}/audit",
    summary="A municipality's audit log, newest first",
    response_model=list[AuditEntryOut],
    responses=CSV,
)
def tenant_audit(
    tenant: TenantDep,
    services: ServicesDep,
    _reader: AuditReader,
    actor: Actor = None,
    action: Action = None,
    since: DayQuery = None,
    until: DayQuery = None,
    limit: Limit = 200,
    output: Format = "json",
) -> list[AuditEntryOut] | Response:
    audit = _filter((tenant.slug,), actor, action, since, until, limit)
    return _answer(list_entries(services.db, audit), output, f"audit-{tenant.slug}")


@router.get(
    "/audit",
    summary="The whole platform's audit log, newest first",
    response_model=list[AuditEntryOut],
    responses=CSV,
)
def platform_audit(
    services: ServicesDep,
    _reader: AuditReader,
    tenant: Annotated[list[str] | None, Query(max_length=63)] = None,
    actor: Actor = None,
    action: Action = None,
    since: DayQuery = None,
    until: DayQuery = None,
    limit: Limit = 200,
    output: Format = "json",
) -> list[AuditEntryOut] | Response:
    audit = _filter(tuple(tenant) if tenant else None, actor, action, since, until, limit)
    return _answer(list_entries(services.db, audit), output, "audit")
