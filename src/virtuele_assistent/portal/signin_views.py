"""Signing in and out of the portal: e-mail and password (with the API's lockout), the
organisation's identity provider (OpenID Connect), signing out, and changing one's own password."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from virtuele_assistent.api.auth import client_ip, sign_in
from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.auth.oidc import OidcError
from virtuele_assistent.auth.users import set_password, sync_identity
from virtuele_assistent.portal.access import (
    CSRF_MESSAGE,
    PREFIX,
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    PortalError,
    safe_next,
)
from virtuele_assistent.portal.pages import SignedIn, Text, render, secure
from virtuele_assistent.portal.sessions import (
    PortalSession,
    csrf_matches,
    end_other_sessions,
    end_session,
    start_session,
)
from virtuele_assistent.services import Services

router = APIRouter(prefix=PREFIX, include_in_schema=False)  # HTML pages, not the REST API

REASONS = {
    "verlopen": "Uw sessie is verlopen. Log opnieuw in.",
    "uitgelogd": "U bent uitgelogd.",
}


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
        SIGN_IN_CSRF_COOKIE, csrf, path=PREFIX, httponly=True, samesite="lax", secure=secure(request)
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
        SESSION_COOKIE, token, path=PREFIX, httponly=True, samesite="lax", secure=secure(request)
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
        secure=secure(request),
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
