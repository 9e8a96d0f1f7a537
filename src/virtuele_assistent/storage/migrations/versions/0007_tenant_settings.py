"""tenant settings become one typed model

Revision ID: 0007_tenant_settings
Revises: 0006_unit_vectors_per_chunk

``tenants.settings`` was an untyped dict: an unknown key was ignored and an unknown answer backend
became "extractive" without a word. From now on it holds a ``TenantSettings``. This migration keeps
every value that meant something (empty values are dropped) and stops, naming the tenant and the
setting, at a value the application would have ignored: the operator corrects it (or removes it) and
runs the upgrade again; nothing is thrown away silently. The checks are written out here, not taken
from the application's model, so that this step stays the same when the model grows.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007_tenant_settings"
down_revision: str | None = "0006_unit_vectors_per_chunk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOP_LEVEL = {
    "widget",
    "answer_backend",
    "ai_disclosure",
    "prompts",
    "place_names",
    "retention_days",
    "handover_webhook_url",
    "handover_webhook_secret",
    "handover_timeout_s",
}
WIDGET = {"greeting", "disclosure", "privacy", "privacy_url", "suggestions", "theme", "language", "handover"}
BACKENDS = ("extractive", "openai", "local")
PROMPTS = ("system", "user", "rewrite", "decline")


def _problems(settings: dict[str, Any]) -> list[str]:
    problems = [f"'{key}' is not a known setting" for key in settings if key not in TOP_LEVEL]
    widget = settings.get("widget", {})
    if not isinstance(widget, dict):
        problems.append("'widget' is not an object")
    else:
        problems += [f"'widget.{key}' is not a known setting" for key in widget if key not in WIDGET]
    backend = settings.get("answer_backend")
    if backend is not None and backend not in BACKENDS:
        problems.append(f"answer_backend '{backend}' is not one of {', '.join(BACKENDS)}")
    prompts = settings.get("prompts", {})
    if not isinstance(prompts, dict) or any(name not in PROMPTS for name in prompts):
        problems.append(f"prompts may only override {', '.join(PROMPTS)}")
    days = settings.get("retention_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650):
        problems.append(f"retention_days {days!r} is not a whole number of days from 1 to 3650")
    timeout = settings.get("handover_timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        problems.append(f"handover_timeout_s {timeout!r} is not a positive number of seconds")
    url = settings.get("handover_webhook_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        problems.append("handover_webhook_url is not an http(s) URL")
    secret = settings.get("handover_webhook_secret")
    if secret is not None and not (isinstance(secret, str) and len(secret) >= 16):
        problems.append("handover_webhook_secret is shorter than 16 characters")
    return problems


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v is not None}
    return value


def upgrade() -> None:
    from virtuele_assistent.storage.db import MigrationError

    tenants = sa.table(
        "tenants", sa.column("id", sa.Integer), sa.column("slug"), sa.column("settings", sa.JSON)
    )
    connection = op.get_bind()
    refused: list[str] = []
    for row in connection.execute(sa.select(tenants.c.id, tenants.c.slug, tenants.c.settings)).all():
        settings = row.settings or {}
        if not isinstance(settings, dict):
            refused.append(f"tenant '{row.slug}': settings are not an object")
            continue
        cleaned = _without_empty(settings)
        problems = _problems(cleaned)
        if problems:
            refused += [f"tenant '{row.slug}': {problem}" for problem in problems]
        elif cleaned != settings:
            connection.execute(tenants.update().where(tenants.c.id == row.id).values(settings=cleaned))
    if refused:
        raise MigrationError(
            "Tenant settings hold values the application does not know; correct or remove them in "
            "tenants.settings and run the upgrade again:\n  " + "\n  ".join(refused)
        )


def downgrade() -> None:
    """The typed settings are a subset of what the old code read: nothing to change back."""
