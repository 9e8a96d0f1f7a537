"""Reading the audit log: filtered per person, municipality, kind and date; CSV and JSON export; the
hash chain's check. The portal, the API and ``va audit`` call these functions."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select

from virtuele_assistent.storage import audit_chain
from virtuele_assistent.storage.audit_chain import ChainReport
from virtuele_assistent.storage.db import Database, contains_pattern
from virtuele_assistent.storage.models import AuditLogEntry, Tenant, as_utc

MAX_ROWS = 10_000
DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
CSV_COLUMNS = ("id", "created_at", "tenant", "actor", "action", "target_type", "target_id", "details")


# What each kind of change is called in the portal (the audit log stores the English action name)
ACTION_LABELS = {
    "tenant.create": "Gemeente toegevoegd",
    "tenant.update": "Gemeente gewijzigd",
    "tenant.delete": "Gemeente verwijderd",
    "source.create": "Bron toegevoegd",
    "source.update": "Bron gewijzigd",
    "source.delete": "Bron verwijderd",
    "source.rotate_token": "Webhooktoken van een bron vernieuwd",
    "crawl.start": "Crawl gestart",
    "crawl.cancel": "Crawl geannuleerd",
    "ingest.start": "Bestanden ingelezen",
    "document.exclude": "Pagina uit de antwoorden gehaald",
    "document.include": "Pagina weer in de antwoorden",
    "passage.exclude": "Stuk van een pagina uit de antwoorden gehaald",
    "passage.include": "Stuk van een pagina weer in de antwoorden",
    "user.create": "Medewerker toegevoegd",
    "user.password": "Wachtwoord van een medewerker vernieuwd",
    "user.roles": "Rollen van een medewerker gewijzigd",
    "conversation.export": "Gesprek geëxporteerd",
    "conversation.erase": "Gesprek verwijderd op verzoek",
    "conversation.purge": "Gesprekken verwijderd (bewaartermijn)",
    "answer.review": "Antwoord beoordeeld",
    "fixed_answer.create": "Vast antwoord geschreven",
    "fixed_answer.update": "Vast antwoord gewijzigd",
    "fixed_answer.delete": "Vast antwoord verwijderd",
    "answer.review_clear": "Beoordeling van een antwoord gewist",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


class AuditFilter(BaseModel):
    """Which entries: every field is optional; ``tenants`` None means every municipality (platform)."""

    model_config = ConfigDict(extra="forbid")

    tenants: tuple[str, ...] | None = None
    actor: str | None = Field(default=None, max_length=320)
    action: str | None = Field(default=None, max_length=100)  # an action or its kind ("tenant.")
    since: date | None = None  # days in the Netherlands' time
    until: date | None = None  # inclusive
    limit: int = Field(default=200, ge=1, le=MAX_ROWS)


class AuditEntryOut(BaseModel):
    id: int
    created_at: datetime
    tenant: str | None
    actor: str
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]


def _query(audit: AuditFilter) -> Select[Any]:
    query = select(AuditLogEntry).order_by(AuditLogEntry.id.desc()).limit(audit.limit)
    if audit.tenants is not None:
        query = query.where(AuditLogEntry.tenant_slug.in_(audit.tenants))
    if audit.actor:
        query = query.where(AuditLogEntry.actor.ilike(contains_pattern(audit.actor.strip()), escape="\\"))
    if audit.action:
        kind = audit.action.strip()
        clause = AuditLogEntry.action.startswith(kind, autoescape=True)
        query = query.where(clause if kind.endswith(".") else clause | (AuditLogEntry.action == kind))
    if audit.since:
        query = query.where(AuditLogEntry.created_at >= day_start(audit.since))
    if audit.until:
        query = query.where(AuditLogEntry.created_at < day_start(audit.until + timedelta(days=1)))
    return query


def day_start(day: date) -> datetime:
    """The start of a day in the Netherlands, in UTC (as the log stores its times)."""
    return datetime.combine(day, time.min, tzinfo=DUTCH_TIME).astimezone(UTC)


def dutch_time(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(DUTCH_TIME)


def list_entries(db: Database, audit: AuditFilter) -> list[AuditEntryOut]:
    with db.session() as session:
        return [
            AuditEntryOut(
                id=entry.id,
                created_at=as_utc(entry.created_at),
                tenant=entry.tenant_slug,
                actor=entry.actor,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details=entry.details or {},
            )
            for entry in session.scalars(_query(audit))
        ]


def actions(db: Database) -> list[str]:
    """The kinds of change recorded so far, for a filter's choices."""
    with db.session() as session:
        return sorted(session.scalars(select(AuditLogEntry.action).distinct()))


def as_csv(entries: list[AuditEntryOut]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = entry.model_dump(mode="json")
        row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_json(entries: list[AuditEntryOut]) -> str:
    return json.dumps([entry.model_dump(mode="json") for entry in entries], ensure_ascii=False, indent=2)


def verify_chain(db: Database) -> ChainReport:
    with db.session() as session:
        return audit_chain.verify(session)


def tenant_slugs(db: Database) -> list[str]:
    with db.session() as session:
        return sorted(session.scalars(select(Tenant.slug)))
