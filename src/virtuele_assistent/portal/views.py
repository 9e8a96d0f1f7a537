"""The portal's pages: sign-in and sign-out, the municipalities a staff member may open, a
municipality's overview, and the audit log (per municipality and for the platform) with its
filters and export. Thin over the services the API uses."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from virtuele_assistent.api.auth import client_ip, sign_in
from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.api.security_headers import PORTAL_PREVIEW_POLICY
from virtuele_assistent.audit.service import (
    ACTION_LABELS,
    AuditEntryOut,
    AuditFilter,
    action_label,
    as_csv,
    as_json,
    dutch_time,
    list_entries,
)
from virtuele_assistent.auth.oidc import OidcError
from virtuele_assistent.auth.permissions import ROLE_LABELS, Permission, allows
from virtuele_assistent.auth.staff import TENANT_ROLES, StaffError, add_staff, revoke_role, staff_of
from virtuele_assistent.auth.users import StaffUser, set_password, sync_identity
from virtuele_assistent.observability.system import system_report
from virtuele_assistent.portal.access import (
    CSRF_FIELD,
    CSRF_MESSAGE,
    PREFIX,
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    PortalError,
    PortalRedirect,
    PortalRequires,
    safe_next,
)
from virtuele_assistent.portal.sessions import (
    PortalSession,
    csrf_matches,
    end_other_sessions,
    end_session,
    start_session,
)
from virtuele_assistent.portal.settings_form import SettingsForm, form_of, update_from
from virtuele_assistent.portal.settings_form import label as settings_label
from virtuele_assistent.portal.settings_form import languages as settings_languages
from virtuele_assistent.services import Services
from virtuele_assistent.storage.repositories import TenantRepository
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

HERE = Path(__file__).resolve().parent
STATIC = HERE / "dist"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix=PREFIX, include_in_schema=False)  # HTML pages, not the REST API

SignedIn = Annotated[PortalSession, Depends(PortalRequires(None))]
Viewer = Annotated[PortalSession, Depends(PortalRequires(Permission.PORTAL_VIEW))]
AuditReader = Annotated[PortalSession, Depends(PortalRequires(Permission.AUDIT_READ))]
UsersManager = Annotated[PortalSession, Depends(PortalRequires(Permission.USERS_MANAGE))]
SettingsEditor = Annotated[PortalSession, Depends(PortalRequires(Permission.SETTINGS_EDIT))]
PlatformAdmin = Annotated[PortalSession, Depends(PortalRequires(Permission.TENANTS_MANAGE))]
SystemViewer = Annotated[PortalSession, Depends(PortalRequires(Permission.SYSTEM_VIEW))]
Text = Annotated[str, Query(max_length=320)]
REASONS = {
    "verlopen": "Uw sessie is verlopen. Log opnieuw in.",
    "uitgelogd": "U bent uitgelogd.",
}


@dataclass(frozen=True)
class TenantLink:
    slug: str
    name: str


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session: PortalSession | None = getattr(request.state, "portal", None)
    context |= {
        "user": session.user if session else None,
        "csrf_field": CSRF_FIELD,
        "csrf_token": session.csrf_token if session else context.get("csrf_token"),
        "role_labels": ROLE_LABELS,
        "prefix": PREFIX,
        "show": _show,
        "dutch_time": dutch_time,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _show(value: Any, indent: int | None = None) -> str:
    """A value from the audit log as readable JSON (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True)


def visible_tenants(services: Services, user: StaffUser, permission: Permission) -> list[TenantLink]:
    with services.db.session() as session:
        return [
            TenantLink(tenant.slug, tenant.name)
            for tenant in TenantRepository(session).list()
            if allows(user, tenant.id, permission)
        ]


# --- signing in and out -------------------------------------------------------------------------


def _sign_in_page(
    request: Request, csrf: str, status: int = 200, error: str | None = None, email: str = "", **extra: Any
) -> HTMLResponse:
    services: Services = request.app.state.services
    response = render(
        request,
        "sign_in.html",
        status,
        title="Inloggen",
        csrf_token=csrf,
        error=error,
        email=email,
        next=safe_next(request.query_params.get("volgende")),
        oidc_label=services.settings.oidc_label if services.oidc.enabled else None,
        **extra,
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE, csrf, path=PREFIX, httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


@router.get("/inloggen", response_class=HTMLResponse)
def sign_in_form(request: Request) -> HTMLResponse:
    csrf = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    notice = REASONS.get(request.query_params.get("reden", ""))
    return _sign_in_page(request, csrf, notice=notice)


@router.post("/inloggen", response_class=HTMLResponse)
async def sign_in_submit(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    volgende: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    if not expected or not csrf_matches(expected, csrf_token):
        return _sign_in_page(request, expected or secrets.token_urlsafe(32), 403, CSRF_MESSAGE, email)
    if not email.strip() or not password:
        return _sign_in_page(request, expected, 400, "Vul uw e-mailadres en wachtwoord in.", email)
    try:
        user = await sign_in(services, email, password, client_ip(request, services))
    except ApiError as error:
        return _sign_in_page(request, expected, error.status, error.detail, email)
    response = await services.chat.run(_start_portal_session, request, services, user.id, volgende)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=PREFIX)
    return response


OIDC_COOKIE = "va_beheer_oidc"
OIDC_PATH = f"{PREFIX}/oidc"
OIDC_MAX_AGE_S = 600  # a sign-in at the provider must come back within ten minutes


def _callback_url(request: Request, services: Services) -> str:
    base = services.settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}{OIDC_PATH}/terug"


def _start_portal_session(request: Request, services: Services, user_id: int, to: str) -> Response:
    end_session(services.db, request.cookies.get(SESSION_COOKIE))
    token, _ = start_session(services.db, user_id)
    response = RedirectResponse(safe_next(to), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, path=PREFIX, httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


@router.get("/oidc/start")
async def oidc_start(request: Request, services: ServicesDep, volgende: Text = "") -> Response:
    """To the organisation's identity provider; it sends the browser back to ``/oidc/terug``."""
    if not services.oidc.enabled:
        raise PortalError(404, "Inloggen met een organisatieaccount staat bij deze installatie niet aan.")
    try:
        started = await services.oidc.start(_callback_url(request, services))
    except OidcError as error:
        csrf = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        return _sign_in_page(request, csrf, 503, error.message)
    response = RedirectResponse(started.url, status_code=303)
    kept = base64.urlsafe_b64encode(
        json.dumps([started.state, started.nonce, started.verifier, safe_next(volgende)]).encode()
    ).decode()
    response.set_cookie(
        OIDC_COOKIE,
        kept,
        path=OIDC_PATH,
        max_age=OIDC_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


def _kept(request: Request) -> list[str] | None:
    try:
        kept = json.loads(base64.urlsafe_b64decode(request.cookies.get(OIDC_COOKIE, "")))
    except ValueError:
        return None
    ok = isinstance(kept, list) and len(kept) == 4 and all(isinstance(part, str) for part in kept)
    return kept if ok else None


@router.get("/oidc/terug")
async def oidc_callback(
    request: Request, services: ServicesDep, code: Text = "", state: Text = "", error: Text = ""
) -> Response:
    """Back from the identity provider: check it, give the staff member their roles, sign them in."""
    kept = _kept(request)
    if error:
        raise PortalError(401, "Het inloggen bij uw organisatie is afgebroken. Probeer het opnieuw.")
    if kept is None or not code or not csrf_matches(kept[0], state):
        raise PortalError(
            400, "Deze inlogpoging is verlopen of niet in deze browser begonnen. Log opnieuw in."
        )
    _, nonce, verifier, to = kept
    try:
        identity = await services.oidc.finish(_callback_url(request, services), code, verifier, nonce)
    except OidcError as failed:
        raise PortalError(401, failed.message) from None
    roles = services.oidc.roles_for(identity)
    user = None
    if roles:
        actor = f"oidc:{identity.email}"
        user = await services.chat.run(
            sync_identity, services.db, identity.email, identity.name, roles, actor
        )
    if user is None or not user.roles:
        raise PortalError(
            403,
            f"Uw account ({identity.email}) heeft geen rol bij Virtuele Assistent. Vraag de beheerder van "
            "uw organisatie om u toe te voegen aan de juiste groep.",
        )
    response = await services.chat.run(_start_portal_session, request, services, user.id, to)
    response.delete_cookie(OIDC_COOKIE, path=OIDC_PATH)
    return response


@router.post("/uitloggen")
def sign_out(request: Request, services: ServicesDep, _session: SignedIn) -> Response:
    end_session(services.db, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{PREFIX}/inloggen?reden=uitgelogd", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# --- the system --------------------------------------------------------------------------------


@router.get("/systeem", response_class=HTMLResponse)
async def system_page(request: Request, services: ServicesDep, _session: SystemViewer) -> HTMLResponse:
    report = await services.chat.run(system_report, services)
    crumbs = [("Gemeenten", PREFIX), ("Systeem", "")]
    return render(request, "system.html", title="Systeem", report=report, show=_show, breadcrumbs=crumbs)


# --- one's own password ------------------------------------------------------------------------

PASSWORD_DONE = "Uw wachtwoord is gewijzigd. Op andere apparaten bent u uitgelogd."


def _password_page(
    request: Request, session: PortalSession, status: int = 200, errors: dict[str, str] | None = None
) -> HTMLResponse:
    notice = PASSWORD_DONE if request.query_params.get("gedaan") == "gewijzigd" else None
    crumbs = [("Gemeenten", PREFIX), ("Wachtwoord wijzigen", "")]
    return render(
        request,
        "password.html",
        status,
        title="Wachtwoord wijzigen",
        errors=errors or {},
        notice=notice,
        local=session.user.has_password,
        breadcrumbs=crumbs,
    )


@router.get("/wachtwoord", response_class=HTMLResponse)
def password_page(request: Request, session: SignedIn) -> HTMLResponse:
    return _password_page(request, session)


@router.post("/wachtwoord", response_class=HTMLResponse)
async def password_change(
    request: Request,
    services: ServicesDep,
    session: SignedIn,
    huidig: Annotated[str, Form(max_length=1024)] = "",
    nieuw: Annotated[str, Form(max_length=1024)] = "",
    herhaling: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """A new password, after the current one: a stolen session alone cannot take over the account."""
    user = session.user
    errors: dict[str, str] = {}
    if not user.has_password:
        raise PortalError(400, "U logt in via uw organisatie; uw wachtwoord wijzigt u daar.")
    if len(nieuw) < 12:
        errors["nieuw"] = "Het nieuwe wachtwoord moet minstens 12 tekens hebben."
    elif nieuw != herhaling:
        errors["herhaling"] = "De herhaling is niet hetzelfde als het nieuwe wachtwoord."
    elif nieuw == huidig:
        errors["nieuw"] = "Kies een ander wachtwoord dan het huidige."
    if not errors:
        try:
            await sign_in(services, user.email, huidig, client_ip(request, services))
        except ApiError as error:
            message = error.detail if error.status == 429 else "Het huidige wachtwoord klopt niet."
            errors["huidig"] = message
    if errors:
        return _password_page(request, session, 400, errors)
    await services.chat.run(set_password, services.db, user.email, nieuw, user.email)
    await services.chat.run(end_other_sessions, services.db, user.id, request.cookies.get(SESSION_COOKIE))
    return RedirectResponse(f"{PREFIX}/wachtwoord?gedaan=gewijzigd", status_code=303)


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
    request: Request, tenant: TenantOut, form: SettingsForm, status: int = 200, notice: str | None = None
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
        notice=notice,
        breadcrumbs=crumbs,
    )
    response.headers["Content-Security-Policy"] = PORTAL_PREVIEW_POLICY
    return response


def tenant_or_404(services: Services, slug: str) -> TenantOut:
    try:
        return tenant_details(services.db, slug)
    except TenantNotFound:
        raise PortalError(404, f"Gemeente '{slug}' bestaat niet.") from None


@router.get("/gemeenten/{slug}/instellingen", response_class=HTMLResponse)
def settings_page(
    request: Request, slug: str, services: ServicesDep, _session: SettingsEditor
) -> HTMLResponse:
    tenant = tenant_or_404(services, slug)
    notice = {"opgeslagen": "De instellingen zijn opgeslagen.", "ongewijzigd": "Er was niets gewijzigd."}
    return _settings_page(
        request, tenant, form_of(tenant), notice=notice.get(request.query_params.get("gedaan", ""))
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
        return _settings_page(request, tenant, form, 400)
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


# --- the audit log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditForm:
    """The filter form as sent (strings), and what it means (or the Dutch message for a field)."""

    wie: str = ""
    soort: str = ""
    van: str = ""
    tot: str = ""

    def parsed(self, tenants: tuple[str, ...] | None) -> tuple[AuditFilter | None, dict[str, str]]:
        errors: dict[str, str] = {}
        days: dict[str, date | None] = {}
        for name in ("van", "tot"):
            value = getattr(self, name).strip()
            try:
                days[name] = date.fromisoformat(value) if value else None
            except ValueError:
                errors[name] = "Vul een datum in als jjjj-mm-dd, bijvoorbeeld 2026-12-07."
        if not errors and days["van"] and days["tot"] and days["van"] > days["tot"]:
            errors["tot"] = "De einddatum ligt vóór de begindatum."
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
    from virtuele_assistent.portal import sources_views  # its pages use this module's helpers

    app.include_router(router)
    app.include_router(sources_views.router)
    if STATIC.is_dir():
        app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="portal-static")
