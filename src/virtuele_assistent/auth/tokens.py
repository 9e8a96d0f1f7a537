"""Signed tokens (JWT, HS256 via PyJWT): short-lived resident sessions and staff logins.

A session token is bound to one tenant (audience ``va:tenant:<slug>``) and one conversation
(subject). Verification names the one accepted algorithm, so ``alg: none`` and algorithm
confusion are rejected; expiry, audience, issuer and signature are always checked. Tokens signed
with a previous key (rotation) are accepted; new tokens are always signed with the current one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

ISSUER = "virtuele-assistent"
ALGORITHM = "HS256"
STAFF_AUDIENCE = "va:staff"


class TokenError(Exception):
    """The token is missing, malformed, expired, for another tenant or wrongly signed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SessionClaims:
    tenant: str
    conversation_id: str
    token_id: str
    expires_at: int


@dataclass(frozen=True)
class StaffClaims:
    user_id: int
    token_id: str
    expires_at: int


def tenant_audience(slug: str) -> str:
    return f"va:tenant:{slug}"


class TokenService:
    def __init__(
        self, secret: str, session_ttl_s: int, staff_ttl_s: int, previous: tuple[str, ...] = ()
    ) -> None:
        self._secret = secret
        self._keys = (secret, *previous)
        self.session_ttl_s = session_ttl_s
        self.staff_ttl_s = staff_ttl_s

    def _encode(self, claims: dict[str, Any], ttl_s: int) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "iat": now, "nbf": now, "exp": now + ttl_s, "jti": uuid.uuid4().hex}
        payload.update(claims)
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, audience: str, max_age_s: int | None = None) -> dict[str, Any]:
        """Verify ``token``; with ``max_age_s`` an expired token still counts if issued that recently."""
        if not token or len(token) > 4096:
            raise TokenError("missing")
        for key in self._keys[:-1]:
            try:
                return self._decode_with(token, audience, key, max_age_s)
            except TokenError as error:
                if error.reason != "bad_signature":
                    raise
        return self._decode_with(token, audience, self._keys[-1], max_age_s)

    def _decode_with(self, token: str, audience: str, key: str, max_age_s: int | None) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=ISSUER,
                leeway=5,
                options={
                    "require": ["exp", "iat", "aud", "iss", "sub", "jti"],
                    "verify_exp": max_age_s is None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError("wrong_audience") from None
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature") from None
        except jwt.PyJWTError:
            raise TokenError("invalid") from None
        if max_age_s is not None and int(claims["iat"]) < time.time() - max_age_s:
            raise TokenError("expired")
        return claims

    def issue_session(self, tenant: str, conversation_id: str) -> str:
        return self._encode(
            {"aud": tenant_audience(tenant), "sub": conversation_id, "typ": "session"}, self.session_ttl_s
        )

    def verify_session(self, token: str, tenant: str, *, max_age_s: int | None = None) -> SessionClaims:
        """A valid session token; with ``max_age_s`` (resuming) it may have expired since."""
        claims = self._decode(token, tenant_audience(tenant), max_age_s)
        if claims.get("typ") != "session":
            raise TokenError("invalid")
        return SessionClaims(tenant, str(claims["sub"]), str(claims["jti"]), int(claims["exp"]))

    def issue_staff(self, user_id: int) -> str:
        return self._encode({"aud": STAFF_AUDIENCE, "sub": str(user_id), "typ": "staff"}, self.staff_ttl_s)

    def verify_staff(self, token: str) -> StaffClaims:
        claims = self._decode(token, STAFF_AUDIENCE)
        if claims.get("typ") != "staff" or not str(claims["sub"]).isdigit():
            raise TokenError("invalid")
        return StaffClaims(int(claims["sub"]), str(claims["jti"]), int(claims["exp"]))
