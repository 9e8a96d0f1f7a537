"""The audit log over the API: a municipality's entries (``audit.read`` there) and the whole
platform's (``audit.read`` for the platform), filtered, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
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


class Filters:
    """The filters both audit endpoints take (a dependency: one list of query parameters)."""

    def __init__(
        self,
        actor: Annotated[
            str | None, Query(max_length=320, description="Part of the name or e-mail address")
        ] = None,
        action: Annotated[
            str | None, Query(max_length=100, description="An action (tenant.update) or a kind (tenant.)")
        ] = None,
        since: DayQuery = None,
        until: DayQuery = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    ) -> None:
        self.actor, self.action, self.since, self.until, self.limit = actor, action, since, until, limit

    def of(self, tenants: tuple[str, ...] | None) -> AuditFilter:
        try:
            return AuditFilter(
                tenants=tenants,
                actor=self.actor,
                action=self.action,
                since=self.since,
                until=self.until,
                limit=self.limit,
            )
        except ValidationError as error:
            detail, fields = describe_validation(list(error.errors()))  # type: ignore[arg-type]
            raise ApiError(422, detail, errors=fields) from None


FiltersDep = Annotated[Filters, Depends()]


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
    filters: FiltersDep,
    output: Format = "json",
) -> list[AuditEntryOut] | Response:
    return _answer(list_entries(services.db, filters.of((tenant.slug,))), output, f"audit-{tenant.slug}")


@router.get(
    "/audit",
    summary="The whole platform's audit log, newest first",
    response_model=list[AuditEntryOut],
    responses=CSV,
)
def platform_audit(
    services: ServicesDep,
    _reader: AuditReader,
    filters: FiltersDep,
    tenant: Annotated[list[str] | None, Query(max_length=63)] = None,
    output: Format = "json",
) -> list[AuditEntryOut] | Response:
    return _answer(list_entries(services.db, filters.of(tuple(tenant) if tenant else None)), output, "audit")
