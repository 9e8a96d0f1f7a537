"""The audit log in the portal: per municipality and for the platform, filtered by person, kind
and day, exported as CSV or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.audit.service import (
    ACTION_LABELS,
    AuditEntryOut,
    AuditFilter,
    action_label,
    as_csv,
    as_json,
    list_entries,
)
from virtuele_assistent.portal.access import (
    PREFIX,
    PortalError,
)
from virtuele_assistent.portal.pages import AuditReader, Text, day_range, render
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.service import (
    TenantNotFound,
    tenant_details,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)  # HTML pages, not the REST API


# --- the audit log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditForm:
    """The filter form as sent (strings), and what it means (or the Dutch message for a field)."""

    wie: str = ""
    soort: str = ""
    van: str = ""
    tot: str = ""

    def parsed(self, tenants: tuple[str, ...] | None) -> tuple[AuditFilter | None, dict[str, str]]:
        days, errors = day_range(self.van, self.tot)
        if self.soort and self.soort not in ACTION_LABELS and not self.soort.endswith("."):
            errors["soort"] = "Kies een soort wijziging uit de lijst."
        if errors:
            return None, errors
        try:
            audit = AuditFilter(
                tenants=tenants,
                actor=self.wie.strip() or None,
                action=self.soort or None,
                since=days["van"],
                until=days["tot"],
            )
        except ValidationError:
            return None, {"wie": "Deze zoekterm is te lang."}
        return audit, {}


def _audit_form(wie: Text = "", soort: Text = "", van: Text = "", tot: Text = "") -> AuditForm:
    return AuditForm(wie, soort, van, tot)


AuditFormDep = Annotated[AuditForm, Depends(_audit_form)]


def _audit_page(
    request: Request,
    services: Services,
    form: AuditForm,
    slug: str | None,
    title: str,
    breadcrumbs: list[tuple[str, str]],
) -> HTMLResponse:
    audit, errors = form.parsed((slug,) if slug else None)
    entries: list[AuditEntryOut] = list_entries(services.db, audit) if audit else []
    base = f"{PREFIX}/gemeenten/{slug}/auditlog" if slug else f"{PREFIX}/auditlog"
    query = request.url.query
    return render(
        request,
        "audit.html",
        400 if errors else 200,
        title=title,
        slug=slug,
        form=form,
        errors=errors,
        entries=entries,
        action_label=action_label,
        actions=ACTION_LABELS,
        base=base,
        export_query=f"?{query}" if query else "",
        breadcrumbs=breadcrumbs,
    )


def _export(services: Services, form: AuditForm, slug: str | None, kind: str) -> Response:
    audit, errors = form.parsed((slug,) if slug else None)
    if audit is None:
        raise PortalError(400, " ".join(errors.values()))
    entries = list_entries(services.db, audit)
    name = f"auditlog-{slug or 'platform'}-{date.today().isoformat()}.{kind}"
    body, media = (as_csv(entries), "text/csv") if kind == "csv" else (as_json(entries), "application/json")
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/gemeenten/{slug}/auditlog", response_class=HTMLResponse)
def tenant_audit(
    request: Request, slug: str, services: ServicesDep, _session: AuditReader, form: AuditFormDep
) -> HTMLResponse:
    try:
        tenant = tenant_details(services.db, slug)
    except TenantNotFound:
        raise PortalError(404, f"Gemeente '{slug}' bestaat niet.") from None
    crumbs = [("Gemeenten", PREFIX), (tenant.name, f"{PREFIX}/gemeenten/{slug}"), ("Auditlog", "")]
    return _audit_page(request, services, form, slug, f"Auditlog {tenant.name}", crumbs)


@router.get("/gemeenten/{slug}/auditlog.csv")
def tenant_audit_csv(slug: str, services: ServicesDep, _session: AuditReader, form: AuditFormDep) -> Response:
    return _export(services, form, slug, "csv")


@router.get("/gemeenten/{slug}/auditlog.json")
def tenant_audit_json(
    slug: str, services: ServicesDep, _session: AuditReader, form: AuditFormDep
) -> Response:
    return _export(services, form, slug, "json")


@router.get("/auditlog", response_class=HTMLResponse)
def platform_audit(
    request: Request, services: ServicesDep, _session: AuditReader, form: AuditFormDep
) -> HTMLResponse:
    crumbs = [("Gemeenten", PREFIX), ("Auditlog van het platform", "")]
    return _audit_page(request, services, form, None, "Auditlog van het platform", crumbs)


@router.get("/auditlog.csv")
def platform_audit_csv(services: ServicesDep, _session: AuditReader, form: AuditFormDep) -> Response:
    return _export(services, form, None, "csv")


@router.get("/auditlog.json")
def platform_audit_json(services: ServicesDep, _session: AuditReader, form: AuditFormDep) -> Response:
    return _export(services, form, None, "json")
