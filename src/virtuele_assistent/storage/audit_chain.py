"""The audit log as a hash chain: every entry carries the hash of the one before it, so an entry edited,
removed or inserted afterwards (directly in the database) breaks the chain from that point on.

An entry's hash covers what was done, by whom, when, to what, at which municipality (its slug: the
tenant's id is a lookup aid that is cleared when the tenant is deleted) and the hash before it.
Appending holds the database's writer lock from the insert until commit (PostgreSQL: a transaction
advisory lock; SQLite: one writer at a time), so two changes at once cannot both extend the same entry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from virtuele_assistent.storage.models import AuditLogEntry, as_utc

GENESIS = "0" * 64
# pg_advisory_xact_lock key for appending to the audit log ("va-audit" as an integer)
_LOCK_KEY = int.from_bytes(b"va-audit", "big") & 0x7FFF_FFFF_FFFF_FFFF
# keys whose values are secrets: "handover_webhook_secret", "webhook_token", "password", … (not "max_tokens")
SECRET_KEY = re.compile(r"secret|password|wachtwoord|api_?key|geheim|token$", re.IGNORECASE)
MASK = "[verborgen]"


def masked(value: Any, key: str = "") -> Any:
    """``value`` with every secret (a key that names a secret, at any depth) replaced by a mask."""
    if key and SECRET_KEY.search(key) and value not in (None, "", {}, []):
        return MASK
    if isinstance(value, dict):
        return {str(k): masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def as_json(value: Any) -> Any:
    """The value as it comes back from a JSON column: what the hash must cover."""
    return json.loads(json.dumps(value, default=str))


def _timestamp(value: datetime) -> str:
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Entry(Protocol):
    """What the hash covers (an ``AuditLogEntry``, or a row read by a migration)."""

    created_at: datetime
    tenant_slug: str | None
    actor: str
    action: str
    target_type: str
    target_id: str | None
    details: Any


def entry_hash(entry: _Entry, prev_hash: str) -> str:
    fields = {
        "prev": prev_hash,
        "at": _timestamp(entry.created_at),
        "tenant": entry.tenant_slug,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(session: Session, entry: AuditLogEntry) -> AuditLogEntry:
    """Add ``entry`` at the end of the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    entry.details = as_json(masked(entry.details or {}))
    entry.created_at = entry.created_at or datetime.now(UTC)
    entry.prev_hash, entry.entry_hash = GENESIS, GENESIS
    session.add(entry)
    session.flush()  # SQLite: from here this transaction is the only writer
    previous = session.scalar(
        select(AuditLogEntry.entry_hash)
        .where(AuditLogEntry.id < entry.id)
        .order_by(AuditLogEntry.id.desc())
        .limit(1)
    )
    entry.prev_hash = previous or GENESIS
    entry.entry_hash = entry_hash(entry, entry.prev_hash)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None  # the id of the first entry whose link does not hold
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _entries(session: Session, batch: int = 1000) -> Iterator[AuditLogEntry]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditLogEntry).where(AuditLogEntry.id > last_id).order_by(AuditLogEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> ChainReport:
    """Walk the chain from the first entry; report the first one that was changed, or that does not
    follow the entry before it (one removed or inserted)."""
    previous, checked = GENESIS, 0
    for entry in _entries(session):
        if entry.prev_hash != previous:
            return ChainReport(
                checked, entry.id, "volgt niet op de vorige regel (regel verwijderd of ingevoegd)"
            )
        if entry.entry_hash != entry_hash(entry, entry.prev_hash):
            return ChainReport(checked, entry.id, "de inhoud is na het vastleggen veranderd")
        previous, checked = entry.entry_hash, checked + 1
    return ChainReport(checked)
