"""Who is signed in to the portal and what they may open: the session cookie, the permission each
page declares (the same table as the API's, auth/permissions.py), CSRF on every form."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from virtuele_assistent.api.auth import permitted
from virtuele_assistent.api.deps import ServicesDep
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.auth.permissions import Permission
from virtuele_assistent.portal.sessions import PortalSession, csrf_matches, resume_session

SESSION_COOKIE = "va_beheer"
SIGN_IN_CSRF_COOKIE = "va_beheer_formulier"
PREFIX = "/beheer"
CSRF_FIELD = "csrf_token"
CSRF_MESSAGE = (
    "Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw en probeer het nog eens."
)


class PortalRedirect(Exception):
    """Answer with a redirect (303) to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class PortalError(Exception):
    """Answer with the portal's error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a page of the portal, never another site."""
    if value and value.startswith(PREFIX) and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX


def sign_in_url(request: Request, reason: str | None = None) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"{PREFIX}/inloggen?volgende={quote(target, safe='')}"
    return url + (f"&reden={reason}" if reason else "")


class PortalRequires:
    """A portal page's permission, as a dependency: the signed-in staff member holding it for the
    municipality in the path (``{slug}``), or for the platform on a page without one; ``None``: any
    signed-in staff member. Without a valid session: to the sign-in page (and back afterwards). A form
    sent (POST) must carry the session's CSRF token."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    async def __call__(self, request: Request, services: ServicesDep) -> PortalSession:
        token = request.cookies.get(SESSION_COOKIE)
        settings = services.settings
        session = await services.chat.run(
            resume_session, services.db, token, settings.portal_idle_timeout_s, settings.portal_session_max_s
        )
        if session is None:
            if request.method != "GET":
                raise PortalRedirect(f"{PREFIX}/inloggen?reden=verlopen")
            raise PortalRedirect(sign_in_url(request, "verlopen" if token else None))
        if self.permission is not None:
            try:
                slug = request.path_params.get("slug")
                await services.chat.run(permitted, services, session.user, slug, self.permission)
            except ApiError as error:
                raise PortalError(error.status, error.detail) from None
        if request.method == "POST":
            form = await request.form()
            given = form.get(CSRF_FIELD)
            if not csrf_matches(session.csrf_token, given if isinstance(given, str) else None):
                raise PortalError(403, CSRF_MESSAGE)
        request.state.portal = session
        return session
