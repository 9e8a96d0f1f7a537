"""Website sources of a tenant: crawl rules, webhook token. The only place that writes source rows."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from virtuele_assistent.crawl.config import ContentKind, HttpText, SourceConfig
from virtuele_assistent.index.store import VectorStore
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import Source
from virtuele_assistent.storage.repositories import AuditLog, DocumentRepository, SourceRepository
from virtuele_assistent.validation import NAME_PATTERN, UtcDateTime


class SourceNotFound(LookupError):
    pass


class SourceExists(ValueError):
    pass


class SourceCreate(SourceConfig):
    # the schema says what SourceConfig's seed check refuses: at least one start or sitemap URL
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": [field], "properties": {field: {"minItems": 1}}}
                for field in ("start_urls", "sitemap_urls")
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN, examples=["website"])
    enabled: StrictBool = True


_UNSET: Any = None  # a field left out of an update (``exclude_unset`` drops it)


class SourceUpdate(BaseModel):
    """Only the fields given change; the result is validated as a whole. No field can be set to
    null (leave it out to keep it), except ``schedule``: null takes the schedule away."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=_UNSET, min_length=1, max_length=200, pattern=NAME_PATTERN)
    enabled: StrictBool = _UNSET
    start_urls: list[HttpText] = Field(default=_UNSET, max_length=100)
    sitemap_urls: list[HttpText] = Field(default=_UNSET, max_length=20)
    allowed_hosts: list[str] = Field(default=_UNSET, max_length=20)
    include: list[str] = Field(default=_UNSET, max_length=50)
    exclude: list[str] = Field(default=_UNSET, max_length=50)
    max_pages: int = Field(default=_UNSET, ge=1, le=200_000)
    max_depth: int = Field(default=_UNSET, ge=0, le=50)
    requests_per_second: float = Field(default=_UNSET, ge=0, le=100)
    user_agent: str = Field(default=_UNSET, min_length=3, max_length=300)
    schedule: str | None = None
    content_types: list[ContentKind] = Field(default=_UNSET, min_length=1)
    remove_after_misses: int = Field(default=_UNSET, ge=1, le=100)
    max_query_variants: int = Field(default=_UNSET, ge=1, le=10_000)


class SourceOut(BaseModel):
    id: int
    name: str
    kind: str
    enabled: bool
    config: SourceConfig
    last_crawl_at: UtcDateTime | None
    created_at: UtcDateTime
    webhook_token: str | None = Field(
        default=None, description="Shown once, on creation and on rotation: the CMS webhook's secret."
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _out(source: Source, token: str | None = None) -> SourceOut:
    return SourceOut(
        id=source.id,
        name=source.name,
        kind=source.kind,
        enabled=source.enabled,
        config=SourceConfig.model_validate(source.config),
        last_crawl_at=source.last_crawl_at,
        created_at=source.created_at,
        webhook_token=token,
    )


def create_source(db: Database, tenant_id: int, data: SourceCreate, actor: str) -> SourceOut:
    token = secrets.token_urlsafe(32)
    config = SourceConfig.model_validate(data.model_dump(exclude={"name", "enabled"}))
    with db.session() as session:
        sources = SourceRepository(session)
        if sources.get_by_name(tenant_id, data.name) is not None:
            raise SourceExists(data.name)
        source = sources.add(
            Source(
                tenant_id=tenant_id,
                name=data.name,
                kind="website",
                config=config.model_dump(mode="json"),
                webhook_secret=_hash(token),
                enabled=data.enabled,
            )
        )
        AuditLog(session).record(
            tenant_id, actor, "source.create", "source", str(source.id), {"name": data.name}
        )
        return _out(source, token)


def list_sources(db: Database, tenant_id: int) -> list[SourceOut]:
    with db.session() as session:
        return [_out(s) for s in SourceRepository(session).list(tenant_id) if s.kind == "website"]


def _get(session: Any, tenant_id: int, source_id: int) -> Source:
    source = SourceRepository(session).get(tenant_id, source_id)
    if source is None or source.kind != "website":
        raise SourceNotFound(source_id)
    return source


def get_source(db: Database, tenant_id: int, source_id: int) -> SourceOut:
    with db.session() as session:
        return _out(_get(session, tenant_id, source_id))


def find_source(db: Database, tenant_id: int, name_or_id: str) -> SourceOut:
    with db.session() as session:
        repository = SourceRepository(session)
        source = repository.get_by_name(tenant_id, name_or_id)
        if source is None and name_or_id.isdigit():
            source = repository.get(tenant_id, int(name_or_id))
        if source is None or source.kind != "website":
            raise SourceNotFound(name_or_id)
        return _out(source)


def update_source(db: Database, tenant_id: int, source_id: int, data: SourceUpdate, actor: str) -> SourceOut:
    changes = data.model_dump(exclude_unset=True)
    with db.session() as session:
        source = _get(session, tenant_id, source_id)
        if "name" in changes and changes["name"] != source.name:
            if SourceRepository(session).get_by_name(tenant_id, changes["name"]) is not None:
                raise SourceExists(changes["name"])
            source.name = changes["name"]
        if changes.get("enabled") is not None:
            source.enabled = changes["enabled"]
        config_changes = {k: v for k, v in changes.items() if k not in ("name", "enabled")}
        if config_changes:
            merged = {**source.config, **config_changes}
            if "start_urls" in config_changes or "sitemap_urls" in config_changes:
                merged.setdefault("allowed_hosts", [])
                if "allowed_hosts" not in config_changes:
                    merged["allowed_hosts"] = []
            source.config = SourceConfig.model_validate(merged).model_dump(mode="json")
        AuditLog(session).record(tenant_id, actor, "source.update", "source", str(source_id), changes)
        session.flush()
        return _out(source)


def delete_source(db: Database, store: VectorStore, tenant_id: int, source_id: int, actor: str) -> int:
    """Remove the source and take its pages out of the answers (their passages and vectors), in one
    transaction; returns how many pages went."""
    with db.session() as session:
        source = _get(session, tenant_id, source_id)
        documents = DocumentRepository(session)
        chunk_ids: list[str] = []
        pages = documents.list_active(tenant_id, source_id)
        for document in pages:
            chunk_ids += documents.mark_removed(document)
        session.delete(source)
        details = {"name": source.name, "pages_removed": len(pages)}
        AuditLog(session).record(tenant_id, actor, "source.delete", "source", str(source_id), details)
    store.delete(chunk_ids)
    return len(pages)


def rotate_webhook_token(db: Database, tenant_id: int, source_id: int, actor: str) -> SourceOut:
    token = secrets.token_urlsafe(32)
    with db.session() as session:
        source = _get(session, tenant_id, source_id)
        source.webhook_secret = _hash(token)
        AuditLog(session).record(tenant_id, actor, "source.rotate_token", "source", str(source_id))
        return _out(source, token)


def webhook_token_valid(db: Database, tenant_id: int, source_id: int, token: str) -> bool:
    with db.session() as session:
        source = SourceRepository(session).get(tenant_id, source_id)
        if source is None or not source.webhook_secret:
            return False
        return hmac.compare_digest(source.webhook_secret, _hash(token))


__all__ = [
    "SourceCreate",
    "SourceExists",
    "SourceNotFound",
    "SourceOut",
    "SourceUpdate",
    "ValidationError",
    "create_source",
    "delete_source",
    "find_source",
    "get_source",
    "list_sources",
    "rotate_webhook_token",
    "update_source",
    "webhook_token_valid",
]
