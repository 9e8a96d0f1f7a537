"""Typed tenant settings: refused when unknown, read safely, and existing rows migrated (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.db import Database, MigrationError
from virtuele_assistent.storage.models import Tenant
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile
from virtuele_assistent.tenants.settings import TenantSettings, load_tenant_settings
from virtuele_assistent.validation import dutch_errors


def refusal(data: dict) -> str:
    with pytest.raises(ValidationError) as error:
        TenantSettings.model_validate(data)
    return "; ".join(f"{e['field']}: {e['message']}" for e in dutch_errors(error.value))


def test_unknown_keys_and_values_are_refused_in_dutch() -> None:
    assert refusal({"answer_backend": "gpt4"}) == (
        "answer_backend: 'gpt4' is geen bekende antwoordmotor; kies uit extractive, openai, local"
    )
    assert refusal({"answer_backnd": "openai"}) == "answer_backnd: is onbekend"
    assert refusal({"widget": {"greting": "Hoi"}}) == "widget.greting: is onbekend"
    assert "geen bekende taal" in refusal({"languages": ["nl", "xx"]})
    assert "geen geldig sjabloon" in refusal({"prompts": {"system": "Hallo {{ municipality"}})
    assert "geen bekende prompt" in refusal({"prompts": {"systeem": "Hallo"}})
    assert refusal({"retention_days": 0}).startswith("retention_days: ")
    assert "geen geldig thema-token" in refusal({"widget": {"theme": {"--va-x": "red; } body {"}}})


def test_settings_store_only_what_differs_from_the_defaults() -> None:
    settings = TenantSettings.model_validate(
        {"answer_backend": "openai", "languages": ["en", "nl"], "widget": {"greeting": "Hoi!"}}
    )
    assert settings.stored() == {
        "answer_backend": "openai",
        "languages": ["nl", "en"],
        "widget": {"greeting": "Hoi!"},
    }
    assert settings.answers_in("en") and settings.answers_in("nl") and not settings.answers_in("ar")
    assert TenantSettings().stored() == {}


def test_a_row_edited_into_nonsense_is_read_as_the_defaults() -> None:
    assert load_tenant_settings({"answer_backend": "gpt4"}, "meppel") == TenantSettings()
    assert load_tenant_settings(None) == TenantSettings()


def _tenants_at(database: Database, rows: dict[str, dict]) -> None:
    database.upgrade("0006_unit_vectors_per_chunk")
    with database.engine.begin() as connection:
        for slug, settings in rows.items():
            connection.execute(
                sa.text(
                    "INSERT INTO tenants (slug, name, form_of_address, contact, allowed_origins, settings, "
                    "created_at, updated_at) VALUES (:slug, :name, 'u', '{}', '[]', :settings, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ).bindparams(sa.bindparam("settings", type_=sa.JSON)),
                {"slug": slug, "name": f"Gemeente {slug.title()}", "settings": settings},
            )


def test_migration_keeps_existing_settings_typed(settings: Settings) -> None:
    services = Services(settings)
    legacy = {
        "answer_backend": "openai",
        "ai_disclosure": None,
        "retention_days": 60,
        "widget": {
            "greeting": "Welkom bij Meppel!",
            "privacy_url": None,
            "theme": {"--va-color-primary": "#00f"},
        },
    }
    _tenants_at(services.db, {"meppel": legacy, "zwolle": {}})
    services.db.upgrade()
    profile = get_profile(services.db, "meppel")
    assert profile.settings.answer_backend == "openai" and profile.settings.retention_days == 60
    assert profile.settings.widget.greeting == "Welkom bij Meppel!"
    with services.db.session() as session:
        stored = session.scalars(sa.select(Tenant.settings).where(Tenant.slug == "meppel")).one()
    assert "ai_disclosure" not in stored and "privacy_url" not in stored["widget"]
    assert get_profile(services.db, "zwolle").settings == TenantSettings()
    services.close()


def test_migration_stops_at_a_value_it_would_have_to_throw_away(settings: Settings) -> None:
    services = Services(settings)
    _tenants_at(services.db, {"meppel": {"answer_backend": "gpt4", "kleur": "rood"}})
    with pytest.raises(MigrationError) as error:
        services.db.upgrade()
    message = str(error.value)
    assert "tenant 'meppel': 'kleur' is not a known setting" in message
    assert "answer_backend 'gpt4' is not one of extractive, openai, local" in message
    with services.db.session() as session:  # nothing changed: the row is as it was
        stored = session.scalars(sa.select(Tenant.settings).where(Tenant.slug == "meppel")).one()
    assert stored == {"answer_backend": "gpt4", "kleur": "rood"}
    services.close()


def test_new_tenants_take_typed_settings(services: Services) -> None:
    create_tenant(
        services.db,
        TenantCreate(
            slug="dorpen",
            name="Gemeente Dorpen",
            settings=TenantSettings.model_validate({"widget": {"greeting": "Hoi!"}}),
        ),
    )
    assert get_profile(services.db, "dorpen").settings.widget.greeting == "Hoi!"
