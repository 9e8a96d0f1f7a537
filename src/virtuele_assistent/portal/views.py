"""The portal's pages about municipalities: the ones a staff member may open (and adding one),
a municipality's overview, its settings with the widget preview, its staff and their roles; the
system page; and ``install_portal``, which puts every portal page on the API's app."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.security_headers import PORTAL_PREVIEW_POLICY
from virtuele_assistent.auth.permissions import Permission, allows
from virtuele_assistent.auth.staff import TENANT_ROLES, StaffError, add_staff, revoke_role, staff_of
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.observability.system import system_report
from virtuele_assistent.portal import audit_views, fixed_views, review_views, signin_views, sources_views
from virtuele_assistent.portal.access import (
    PREFIX,
    PortalError,
    PortalRedirect,
)
from virtuele_assistent.portal.pages import (
    STATIC,
    PlatformAdmin,
    SettingsEditor,
    SignedIn,
    SystemViewer,
    UsersManager,
    Viewer,
    render,
    show_json,
    tenant_or_404,
    visible_tenants,
)
from virtuele_assistent.portal.settings_form import SettingsForm, form_of, transcript_modes, update_from
from virtuele_assistent.portal.settings_form import backends as settings_backends
from virtuele_assistent.portal.settings_form import label as settings_label
from virtuele_assistent.portal.settings_form import languages as settings_languages
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate, TenantOut
from virtuele_assistent.tenants.service import (
    TenantExists,
    TenantNotFound,
    create_tenant,
    get_profile,
    tenant_counts,
    tenant_details,
    update_tenant,
)
from virtuele_assistent.validation import dutch_errors

router = APIRouter(prefix=PREFIX, include_in_schema=False)  # HTML pages, not the REST API


# --- municipalities -----------------------------------------------------------------------------


def _home(
    request: Request,
    services: Services,
    user: StaffUser,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "home.html",
        status,
        title="Gemeenten",
        tenants=visible_tenants(services, user, Permission.PORTAL_VIEW),
        platform_audit=allows(user, None, Permission.AUDIT_READ),
        system=allows(user, None, Permission.SYSTEM_VIEW),
        may_create=allows(user, None, Permission.TENANTS_MANAGE),
        errors=errors or {},
        typed=typed or {},
    )


@router.get("", response_class=HTMLResponse)
def home(request: Request, services: ServicesDep, session: SignedIn) -> HTMLResponse:
    return _home(request, services, session.user)


@router.post("/gemeenten", response_class=HTMLResponse)
async def tenant_create(
    request: Request,
    services: ServicesDep,
    session: PlatformAdmin,
    kenmerk: Annotated[str, Form(max_length=100)] = "",
    naam: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """A new municipality (platform administrators); then on to its settings."""
    typed = {"kenmerk": kenmerk, "naam": naam}
    try:
        data = TenantCreate(slug=kenmerk.strip(), name=naam.strip())
    except ValidationError as error:
        fields = {"slug": "kenmerk", "name": "naam"}
        errors: dict[str, str] = {}
        for problem in dutch_errors(error):
            name = fields.get(problem["field"], "naam")
            errors.setdefault(name, f"{'Kenmerk' if name == 'kenmerk' else 'Naam'} {problem['message']}")
        return _home(request, services, session.user, 400, errors, typed)
    try:
        await services.chat.run(create_tenant, services.db, data, session.user.email)
    except TenantExists:
        errors = {"kenmerk": f"Er is al een gemeente met het kenmerk '{data.slug}'."}
        return _home(request, services, session.user, 400, errors, typed)
    return RedirectResponse(f"{PREFIX}/gemeenten/{data.slug}/instellingen", status_code=303)


@router.get("/gemeenten/{slug}", response_class=HTMLResponse)
def tenant_home(request: Request, slug: str, services: ServicesDep, session: Viewer) -> HTMLResponse:
    try:
        tenant = tenant_details(services.db, slug)
        counts = tenant_counts(services.db, slug)
        tenant_id = get_profile(services.db, slug).id
    except TenantNotFound:
        raise PortalError(404, f"Gemeente '{slug}' bestaat niet.") from None
    may = {permission.value: allows(session.user, tenant_id, permission) for permission in Permission}
    crumbs = [("Gemeenten", PREFIX), (tenant.name, "")]
    return render(
        request, "tenant.html", title=tenant.name, tenant=tenant, counts=counts, may=may, breadcrumbs=crumbs
    )


# --- settings ----------------------------------------------------------------------------------


SETTINGS_DONE = {"opgeslagen": "De instellingen zijn opgeslagen.", "ongewijzigd": "Er was niets gewijzigd."}


def _settings_page(
    request: Request,
    services: Services,
    tenant: TenantOut,
    form: SettingsForm,
    status: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    slug = tenant.slug
    crumbs = [("Gemeenten", PREFIX), (tenant.name, f"{PREFIX}/gemeenten/{slug}"), ("Instellingen", "")]
    response = render(
        request,
        "settings.html",
        status,
        title=f"Instellingen {tenant.name}",
        tenant=tenant,
        form=form,
        label=settings_label,
        languages=settings_languages(),
        transcript_modes=transcript_modes(),
        backends=settings_backends(services.settings.answer_backend),
        notice=notice,
        breadcrumbs=crumbs,
    )
    response.headers["Content-Security-Policy"] = PORTAL_PREVIEW_POLICY
    return response


@router.get("/gemeenten/{slug}/instellingen", response_class=HTMLResponse)
def settings_page(
    request: Request, slug: str, services: ServicesDep, _session: SettingsEditor
) -> HTMLResponse:
    tenant = tenant_or_404(services, slug)
    notice = {"opgeslagen": "De instellingen zijn opgeslagen.", "ongewijzigd": "Er was niets gewijzigd."}
    return _settings_page(
        request, services, tenant, form_of(tenant), notice=notice.get(request.query_params.get("gedaan", ""))
    )


@router.post("/gemeenten/{slug}/instellingen", response_class=HTMLResponse)
async def settings_save(
    request: Request, slug: str, services: ServicesDep, session: SettingsEditor
) -> Response:
    tenant = tenant_or_404(services, slug)
    sent = await request.form()
    values: dict[str, Any] = {name: str(sent.get(name, ""))[:5000] for name in sent if name != "talen"}
    values["talen"] = [str(value) for value in sent.getlist("talen")][:20]
    update, form = update_from(tenant, values)
    if update is None:
        return _settings_page(request, services, tenant, form, 400)
    if not update.model_fields_set:
        return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/instellingen?gedaan=ongewijzigd", status_code=303)
    await services.chat.run(update_tenant, services.db, slug, update, session.user.email)
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/instellingen?gedaan=opgeslagen", status_code=303)


# --- staff and their roles ---------------------------------------------------------------------

STAFF_DONE = {"toegevoegd": "De rol is gegeven.", "ingetrokken": "De rol is ingetrokken."}


def _staff_page(
    request: Request,
    services: Services,
    slug: str,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        tenant = tenant_details(services.db, slug)
    except TenantNotFound:
        raise PortalError(404, f"Gemeente '{slug}' bestaat niet.") from None
    crumbs = [("Gemeenten", PREFIX), (tenant.name, f"{PREFIX}/gemeenten/{slug}"), ("Medewerkers", "")]
    return render(
        request,
        "staff.html",
        status,
        title=f"Medewerkers {tenant.name}",
        tenant=tenant,
        members=staff_of(services.db, slug),
        roles=TENANT_ROLES,
        error=error,
        notice=STAFF_DONE.get(request.query_params.get("gedaan", "")),
        form=form or {},
        breadcrumbs=crumbs,
    )


@router.get("/gemeenten/{slug}/medewerkers", response_class=HTMLResponse)
def staff_page(request: Request, slug: str, services: ServicesDep, _session: UsersManager) -> HTMLResponse:
    return _staff_page(request, services, slug)


@router.post("/gemeenten/{slug}/medewerkers", response_class=HTMLResponse)
async def staff_add_form(
    request: Request,
    slug: str,
    services: ServicesDep,
    session: UsersManager,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=50)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    actor = session.user.email
    try:
        await services.chat.run(add_staff, services.db, slug, email, name, role, password or None, actor)
    except ValueError as error:  # StaffError, or the account's own rules (password, name)
        typed = {"email": email, "name": name, "role": role}
        return _staff_page(request, services, slug, 400, str(error), typed)
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/medewerkers?gedaan=toegevoegd", status_code=303)


@router.post("/gemeenten/{slug}/medewerkers/{user_id}/rollen/{role}/intrekken", response_class=HTMLResponse)
async def staff_revoke_form(
    request: Request, slug: str, user_id: int, role: str, services: ServicesDep, session: UsersManager
) -> Response:
    user = session.user
    try:
        await services.chat.run(revoke_role, services.db, slug, user_id, role, user.id, user.email)
    except StaffError as error:
        return _staff_page(request, services, slug, 400, str(error))
    return RedirectResponse(f"{PREFIX}/gemeenten/{slug}/medewerkers?gedaan=ingetrokken", status_code=303)


# --- the system --------------------------------------------------------------------------------


@router.get("/systeem", response_class=HTMLResponse)
async def system_page(request: Request, services: ServicesDep, _session: SystemViewer) -> HTMLResponse:
    report = await services.chat.run(system_report, services)
    crumbs = [("Gemeenten", PREFIX), ("Systeem", "")]
    return render(request, "system.html", title="Systeem", report=report, show=show_json, breadcrumbs=crumbs)


# --- wiring -------------------------------------------------------------------------------------


def install_portal(app: FastAPI) -> None:
    """The portal's pages, its stylesheet and its error pages, on the API's app."""

    async def redirect(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PortalRedirect)
        return RedirectResponse(exc.location, status_code=303)

    async def error_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PortalError)
        return render(request, "error.html", exc.status, title="Dat lukt niet", message=exc.message)

    app.add_exception_handler(PortalRedirect, redirect)
    app.add_exception_handler(PortalError, error_page)
    for pages in (
        router,
        signin_views.router,
        audit_views.router,
        sources_views.router,
        review_views.router,
        fixed_views.router,
    ):
        app.include_router(pages)
    if STATIC.is_dir():
        app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="portal-static")
