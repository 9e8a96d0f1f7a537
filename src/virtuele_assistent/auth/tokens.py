"""Signed tokens (JWT, HS256 via PyJWT): short-lived resident sessions and staff logins.

A session token is bound to one tenant (audience ``va:tenant:<slug>``) and one conversation
(subject). Verification names the one accepted algorithm, so ``alg: none`` and algorithm
confusion are rejected; expiry, audience, issuer and signature are always checked.
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
    def __init__(self, secret: str, session_ttl_s: int, staff_ttl_s: int) -> None:
        self._secret = secret
        self.session_ttl_s = session_ttl_s
        self.staff_ttl_s = staff_ttl_s

    def _encode(self, claims: dict[str, Any], ttl_s: int) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "iat": now, "nbf": now, "exp": now + ttl_s, "jti": uuid.uuid4().hex}
        payload.update(claims)
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, audience: str) -> dict[str, Any]:
        if not token or len(token) > 4096:
            raise TokenError("missing")
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=ISSUER,
                leeway=5,
                options={"require": ["exp", "iat", "aud", "iss", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError("wrong_audience") from None
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature") from None
        except jwt.PyJWTError:
            raise TokenError("invalid") from None

    def issue_session(self, tenant: str, conversation_id: str) -> str:
        return self._encode(
            {"aud": tenant_audience(tenant), "sub": conversation_id, "typ": "session"}, self.session_ttl_s
        )

    def verify_session(self, token: str, tenant: str) -> SessionClaims:
        claims = self._decode(token, tenant_audience(tenant))
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
