"""Signing in to the portal with the organisation's identity provider: OpenID Connect, the
authorization code flow with PKCE (Authlib's helpers; the ID token checked with joserfc against the
provider's published keys), groups mapped to roles by the installation's ``oidc_role_map``.

Who may sign in, and with which roles, is decided by the provider's groups on every sign-in: a
staff member whose groups map to no role is refused (and gets no account); one whose groups changed
gets the roles of the groups they have now.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from virtuele_assistent.settings import Settings

METADATA_TTL_S = 3600
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
UNREACHABLE = (
    "De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het later opnieuw of log in met "
    "uw wachtwoord."
)
REFUSED = "Het inloggen bij uw organisatie is niet gelukt. Probeer het opnieuw."


class OidcError(Exception):
    """Signing in with the provider did not work; ``message`` says so in Dutch."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(reason or message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str
    name: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and what to keep until it comes back (in a short-lived cookie)."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass
class OidcClient:
    settings: Settings
    _metadata: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.settings.oidc_issuer and self.settings.oidc_client_id)

    async def _get(self, client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
        try:
            response = await client.get(url, **kwargs)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OidcError(UNREACHABLE, f"{url}: {error}") from None

    async def metadata(self) -> dict[str, Any]:
        """The provider's configuration (discovery), kept for an hour."""
        if self._metadata and time.monotonic() - self._fetched_at < METADATA_TTL_S:
            return self._metadata
        issuer = (self.settings.oidc_issuer or "").rstrip("/")
        async with httpx.AsyncClient(timeout=10) as client:
            found = await self._get(client, f"{issuer}/.well-known/openid-configuration")
        needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(found, dict) or any(not found.get(name) for name in needed):
            raise OidcError(UNREACHABLE, "the provider's configuration lacks endpoints")
        self._metadata, self._fetched_at = found, time.monotonic()
        return found

    async def start(self, redirect_uri: str) -> Started:
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.oidc_scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        return Started(f"{metadata['authorization_endpoint']}?{urlencode(query)}", state, nonce, verifier)

    async def finish(self, redirect_uri: str, code: str, verifier: str, nonce: str) -> Identity:
        """Exchange the code for tokens, check the ID token, read who signed in."""
        metadata = await self.metadata()
        secret = self.settings.oidc_client_secret
        client_id = self.settings.oidc_client_id or ""
        headers: dict[str, str] = {}
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        if secret is None:  # a public client
            body["client_id"] = client_id
        else:  # client_secret_basic (RFC 6749 2.3.1: each part form-encoded first)
            pair = f"{quote_plus(client_id)}:{quote_plus(secret.get_secret_value())}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                response = await client.post(metadata["token_endpoint"], data=body, headers=headers)
            except httpx.HTTPError as error:
                raise OidcError(UNREACHABLE, f"token endpoint: {error}") from None
            if response.status_code != 200:
                raise OidcError(REFUSED, f"token endpoint answered {response.status_code}")
            tokens = response.json()
            claims = self._checked_id_token(await self._get(client, metadata["jwks_uri"]), tokens, nonce)
            userinfo_url = metadata.get("userinfo_endpoint")
            if userinfo_url and tokens.get("access_token"):
                headers = {"Authorization": f"Bearer {tokens['access_token']}"}
                info = await self._get(client, userinfo_url, headers=headers)
                if isinstance(info, dict) and info.get("sub") == claims.get("sub"):
                    claims = {**info, **claims}
        return self._identity(claims)

    def _checked_id_token(self, jwks: Any, tokens: Any, nonce: str) -> dict[str, Any]:
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise OidcError(REFUSED, "no ID token")
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=list(ID_TOKEN_ALGORITHMS))
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": (self.settings.oidc_issuer or "").rstrip("/")},
                aud={"essential": True, "value": self.settings.oidc_client_id or ""},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError, TypeError) as error:
            raise OidcError(REFUSED, f"ID token: {error}") from None
        return dict(token.claims)

    def _identity(self, claims: dict[str, Any]) -> Identity:
        email = claims.get("email") or claims.get("preferred_username")
        if not isinstance(email, str) or "@" not in email:
            raise OidcError(
                "Uw organisatie gaf geen e-mailadres door. Vraag de beheerder van de inlogdienst om dat aan "
                "te zetten.",
                "no e-mail address",
            )
        groups = claims.get(self.settings.oidc_groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        name = claims.get("name") if isinstance(claims.get("name"), str) else ""
        return Identity(str(claims["sub"]), email.strip().lower(), name or "", tuple(str(g) for g in groups))

    def roles_for(self, identity: Identity) -> list[tuple[str, str | None]]:
        """The roles the identity's groups map to: (role, municipality slug or None for the platform)."""
        roles: set[tuple[str, str | None]] = set()
        for group in identity.groups:
            for grant in self.settings.oidc_role_map.get(group, []):
                role, _, slug = grant.partition("@")
                roles.add((role, slug or None))
        return sorted(roles, key=lambda r: (r[0], r[1] or ""))
