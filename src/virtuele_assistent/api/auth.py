"""Who is calling: resident session tokens, staff tokens with roles, allowed origins, client IP."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.requests import HTTPConnection

from virtuele_assistent.api.deps import ServicesDep, TenantDep, get_services
from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.auth.tokens import SessionClaims, TokenError
from virtuele_assistent.auth.users import StaffUser, load_user
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantProfile

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


def admin_token_matches(services: Services, token: str | None) -> bool:
    expected = services.settings.admin_token
    return bool(expected and token and hmac.compare_digest(token.encode(), expected.encode()))


def staff_with_role(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency: a staff user holding one of ``roles`` for the tenant in the path."""

    def dependency(
        tenant: TenantDep,
        services: Services = Depends(get_services),
        authorization: Annotated[str | None, Header()] = None,
    ) -> StaffUser:
        token = bearer(authorization)
        if admin_token_matches(services, token):
            return StaffUser(0, "admin-token", "Beheer", (("platform", None),))
        user = staff_from_token(services, token)
        if user is None:
            raise ApiError(
                401, "Log in met een geldig medewerkerstoken.", headers={"WWW-Authenticate": "Bearer"}
            )
        if not user.has_role(tenant.id, *roles):
            raise ApiError(403, "U heeft geen rol die dit bij deze gemeente mag.")
        return user

    return dependency
