"""Who is calling: resident session tokens, staff tokens with roles, allowed origins, client IP."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from starlette.requests import HTTPConnection

from virtuele_assistent.api.deps import ServicesDep, TenantDep, tenant_not_found
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.auth.permissions import Permission, allows
from virtuele_assistent.auth.tokens import SessionClaims, TokenError
from virtuele_assistent.auth.users import StaffUser, authenticate, load_user
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.tenants.service import TenantNotFound, get_profile

TOKEN_MESSAGES = {
    "missing": "Er ontbreekt een sessietoken. Vraag eerst een sessie aan.",
    "expired": "Uw sessie is verlopen. Vraag een nieuwe sessie aan.",
    "wrong_audience": "Dit sessietoken hoort bij een andere gemeente.",
    "bad_signature": "Dit sessietoken is ongeldig.",
    "invalid": "Dit sessietoken is ongeldig.",
}


def bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def client_ip(connection: HTTPConnection, services: Services) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy that says who it relays.

    X-Forwarded-For is read from the right: each hop appends the address it saw, so the first
    address that is not a trusted proxy is the client. Without configured proxies the header is
    ignored, whoever sends it.
    """
    peer = connection.client.host if connection.client else "unknown"
    trusted = services.settings.trusted_proxy_networks
    if not in_networks(peer, trusted):
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    for candidate in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            break
        if not in_networks(str(address), trusted):
            return str(address)
    return peer


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def in_networks(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def origin_allowed(tenant: TenantProfile, origin: str | None) -> bool:
    """No Origin: a server-side client. Otherwise the tenant must allow-list it."""
    if origin is None:
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in tenant.allowed_origins}


def verify_session(services: Services, tenant: TenantProfile, token: str | None) -> SessionClaims:
    if not token:
        raise ApiError(401, TOKEN_MESSAGES["missing"], headers={"WWW-Authenticate": "Bearer"})
    try:
        return services.tokens.verify_session(token, tenant.slug)
    except TokenError as error:
        status = 403 if error.reason == "wrong_audience" else 401
        raise ApiError(status, TOKEN_MESSAGES[error.reason], headers={"WWW-Authenticate": "Bearer"}) from None


def require_session(
    services: ServicesDep, tenant: TenantDep, authorization: Annotated[str | None, Header()] = None
) -> SessionClaims:
    return verify_session(services, tenant, bearer(authorization))


SessionDep = Annotated[SessionClaims, Depends(require_session)]


def optional_session(
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    authorization: Annotated[str | None, Header()] = None,
) -> SessionClaims | None:
    """Browsers (with an Origin header) need a session token; server-side clients may omit it."""
    token = bearer(authorization)
    if token is None and request.headers.get("origin") is None:
        return None
    return verify_session(services, tenant, token)


OptionalSessionDep = Annotated[SessionClaims | None, Depends(optional_session)]


def staff_from_token(services: Services, token: str | None) -> StaffUser | None:
    if not token:
        return None
    try:
        claims = services.tokens.verify_staff(token)
    except TokenError:
        return None
    return load_user(services.db, claims.user_id)


def require_staff(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> StaffUser:
    user = staff_from_token(services, bearer(authorization))
    if user is None:
        raise ApiError(401, "Log in met een geldig medewerkerstoken.", headers={"WWW-Authenticate": "Bearer"})
    return user


StaffDep = Annotated[StaffUser, Depends(require_staff)]


async def rate_limited(services: Services, kind_keys: list[tuple[str, str]]) -> None:
    """A 429 with the seconds to wait, when one of the (kind, key) limits is used up."""
    verdict = await services.limiter.check(*kind_keys)
    if not verdict.allowed:
        raise ApiError(
            429,
            f"U stuurt te veel verzoeken. Probeer het over {verdict.retry_after} seconden opnieuw.",
            headers={"Retry-After": str(verdict.retry_after)},
            retry_after=verdict.retry_after,
        )


async def sign_in(services: Services, email: str, password: str, address: str) -> StaffUser:
    """The staff member with this e-mail address and password, signing in from ``address``; a 429
    when that address made too many attempts (docs/adr/0011), a 401 when they do not match. The API's
    token endpoint and the portal's sign-in form both come here."""
    account = email.strip().lower()
    await rate_limited(services, [("login_ip", address)])
    check = await services.sign_in.check(account, address)
    if not check.allowed:
        raise ApiError(
            429,
            "Te veel mislukte pogingen om in te loggen vanaf dit adres. "
            f"Probeer het over {check.retry_after} seconden opnieuw.",
            headers={"Retry-After": str(check.retry_after)},
            retry_after=check.retry_after,
        )
    await asyncio.sleep(check.wait_s)  # an account under attack: every attempt waits a little
    user = await services.chat.run(authenticate, services.db, email, password)
    if user is None:
        await services.sign_in.failed(account, address)
        raise ApiError(
            401, "Het e-mailadres of wachtwoord klopt niet.", headers={"WWW-Authenticate": "Bearer"}
        )
    await services.sign_in.succeeded(account, address)
    return user


def admin_token_matches(services: Services, token: str | None) -> bool:
    expected = services.settings.admin_token
    return bool(expected and token and hmac.compare_digest(token.encode(), expected.encode()))


# The installation's admin token (VA_ADMIN_TOKEN) acts as a platform admin; the audit log names it so.
ADMIN_TOKEN_USER = StaffUser(0, "admin-token", "Beheer", (("platform", None),))


def permitted(services: Services, user: StaffUser, slug: str | None, permission: Permission) -> StaffUser:
    """``user``, when they hold ``permission`` for the municipality ``slug`` (None: the platform);
    otherwise a 403 (a 404 for a municipality that does not exist)."""
    tenant_id = None
    if slug is not None:
        try:
            tenant_id = get_profile(services.db, slug).id
        except TenantNotFound:
            raise tenant_not_found(slug) from None
    if not allows(user, tenant_id, permission):
        where = "bij deze gemeente" if slug is not None else "voor het hele platform"
        raise ApiError(403, f"U heeft geen rol die dit {where} mag.")
    return user


class Requires:
    """A route's permission, as a dependency: the staff member calling (a bearer staff token, or the
    admin token) who holds it for the municipality in the path (``{slug}``), or for the platform on a
    route without one. Every staff route declares one; tests/test_permissions.py checks them all."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(
        self,
        request: Request,
        services: ServicesDep,
        authorization: Annotated[str | None, Header()] = None,
    ) -> StaffUser:
        token = bearer(authorization)
        user = ADMIN_TOKEN_USER if admin_token_matches(services, token) else staff_from_token(services, token)
        if user is None:
            raise ApiError(
                401,
                "Log in met een geldig medewerkerstoken (of het beheertoken van de installatie).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return permitted(services, user, request.path_params.get("slug"), self.permission)


def requires(permission: Permission) -> Any:
    """``Annotated[StaffUser, requires(Permission.X)]``: the route needs ``permission``."""
    return Depends(Requires(permission))
