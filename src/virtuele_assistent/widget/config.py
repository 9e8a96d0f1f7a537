"""What the widget shows before the first message, per tenant.

A tenant's own texts and theme live in ``tenant.settings["widget"]`` (see ``WidgetSettings``);
anything missing gets a sensible Dutch default in the tenant's form of address (u/je).
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile

log = structlog.get_logger(__name__)

# A CSS custom property and a value that cannot break out of its declaration or load anything.
_PROPERTY = re.compile(r"^--[a-z][a-z0-9-]{0,80}$")
_VALUE = re.compile(r"^[^;{}<>\\]{1,200}$")

# Questions every municipality answers on its website (residents ask in the first person).
DEFAULT_SUGGESTIONS = [
    "Hoe vraag ik een paspoort aan?",
    "Hoe geef ik mijn verhuizing door?",
    "Wanneer wordt mijn afval opgehaald?",
]


def valid_theme_entry(name: str, value: str) -> bool:
    return bool(_PROPERTY.match(name) and _VALUE.match(value) and "url(" not in value.lower())


class WidgetSettings(BaseModel):
    """The widget part of a tenant's settings (``tenant.settings["widget"]``); all optional."""

    model_config = ConfigDict(extra="ignore")

    greeting: str | None = Field(default=None, max_length=500)
    disclosure: str | None = Field(default=None, max_length=500)
    privacy: str | None = Field(default=None, max_length=500)
    privacy_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    suggestions: list[str] | None = Field(default=None, max_length=6)
    theme: dict[str, str] = Field(default_factory=dict, max_length=100)
    language: str = Field(default="nl", pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    handover: bool | None = None

    @field_validator("suggestions")
    @classmethod
    def _suggestions(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [s.strip()[:200] for s in value if s.strip()]

    @field_validator("theme")
    @classmethod
    def _theme(cls, value: dict[str, str]) -> dict[str, str]:
        for name, token in value.items():
            if not valid_theme_entry(name, token):
                raise ValueError(
                    f"'{name}: {token}' is geen geldig thema-token (een CSS custom property zoals "
                    "--va-color-primary met een eenvoudige waarde)"
                )
        return value


class WidgetConfig(BaseModel):
    """The answer of ``GET /api/v1/tenants/{slug}/widget-config`` (docs/chat-protocol.md)."""

    tenant: str
    name: str
    form_of_address: str
    language: str
    greeting: str
    disclosure: str
    privacy: str
    privacy_url: str | None
    suggestions: list[str]
    theme: dict[str, str]
    contact: ContactRoutes
    handover_available: bool


def tenant_widget_settings(tenant: TenantProfile) -> WidgetSettings:
    raw: Any = (tenant.settings or {}).get("widget") or {}
    try:
        return WidgetSettings.model_validate(raw)
    except ValidationError as error:
        # A bad value in the settings must not take the widget down: fall back to the defaults.
        log.warning("widget.settings_invalid", tenant=tenant.slug, error=str(error).splitlines()[0])
        return WidgetSettings()


def widget_config(tenant: TenantProfile) -> WidgetConfig:
    own = tenant_widget_settings(tenant)
    you, your = tenant.addressed("u", "je"), tenant.addressed("uw", "je")
    name = tenant.name
    greeting = own.greeting or f"Hallo! Ik ben de digitale assistent van {name}. Waarmee kan ik {you} helpen?"
    disclosure = own.disclosure or (
        f"{tenant.addressed('U', 'Je')} praat met een digitale assistent (AI), geen mens. "
        f"De antwoorden komen van de website van {name}. "
        "Controleer belangrijke informatie altijd op die website."
    )
    privacy = own.privacy or f"Deel geen persoonlijke gegevens, zoals {your} BSN, adres of telefoonnummer."
    suggestions = own.suggestions if own.suggestions is not None else list(DEFAULT_SUGGESTIONS)
    handover = own.handover if own.handover is not None else True
    return WidgetConfig(
        tenant=tenant.slug,
        name=name,
        form_of_address=tenant.form_of_address,
        language=own.language,
        greeting=greeting,
        disclosure=disclosure,
        privacy=privacy,
        privacy_url=own.privacy_url,
        suggestions=suggestions,
        theme=dict(own.theme),
        contact=tenant.contact,
        handover_available=handover,
    )
