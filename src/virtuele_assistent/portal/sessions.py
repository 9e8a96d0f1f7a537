"""Portal sessions: a random token in an HttpOnly cookie, its SHA-256 in the database, a CSRF token for
the forms, an idle timeout and a longest lifetime. Signing out removes the row, so the cookie stops
working at once, wherever a copy of it is."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from virtuele_assistent.auth.users import StaffUser, load_user
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import StaffSession, as_utc, utcnow

# last use is written at most this often (not on every page)
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class PortalSession:
    user: StaffUser
    csrf_token: str


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, user_id: int) -> tuple[str, str]:
    """A new session for the user: (the cookie's token, the forms' CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with db.session() as session:
        session.add(StaffSession(id=_key(token), user_id=user_id, csrf_token=csrf))
    return token, csrf


def resume_session(db: Database, token: str | None, idle_s: int, max_s: int) -> PortalSession | None:
    """The session of this cookie, still within its idle timeout and lifetime (and its user still
    active); an expired one is removed. None: sign in again."""
    if not token or len(token) > 200:
        return None
    now = utcnow()
    with db.session() as session:
        row = session.get(StaffSession, _key(token))
        if row is None:
            return None
        last_seen, created = as_utc(row.last_seen_at), as_utc(row.created_at)
        if now - last_seen > timedelta(seconds=idle_s) or now - created > timedelta(seconds=max_s):
            session.delete(row)
            return None
        if now - last_seen > TOUCH_EVERY:
            row.last_seen_at = now
        user_id, csrf = row.user_id, row.csrf_token
    user = load_user(db, user_id)
    return PortalSession(user, csrf) if user is not None else None


def end_session(db: Database, token: str | None) -> None:
    if token:
        with db.session() as session:
            session.execute(delete(StaffSession).where(StaffSession.id == _key(token)))


def end_other_sessions(db: Database, user_id: int, token: str | None) -> None:
    """Sign the user out everywhere but here (after a new password)."""
    with db.session() as session:
        session.execute(
            delete(StaffSession).where(StaffSession.user_id == user_id, StaffSession.id != _key(token or ""))
        )


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), (given or "").encode())
