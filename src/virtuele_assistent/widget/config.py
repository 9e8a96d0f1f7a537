"""What the widget shows before the first message, per tenant.

A tenant's own texts and theme live in ``tenant.settings.widget`` (``tenants.settings.WidgetSettings``);
anything missing gets a sensible Dutch default in the tenant's form of address (u/je).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile
from virtuele_assistent.tenants.settings import WidgetSettings, valid_theme_entry
from virtuele_assistent.validation import UserText

__all__ = ["DEFAULT_SUGGESTIONS", "WidgetConfig", "WidgetSettings", "valid_theme_entry", "widget_config"]

# Questions every municipality answers on its website (residents ask in the first person).
DEFAULT_SUGGESTIONS = [
    "Hoe vraag ik een paspoort aan?",
    "Hoe geef ik mijn verhuizing door?",
    "Wanneer wordt mijn afval opgehaald?",
]


class WidgetConfig(BaseModel):
    """The answer of ``GET /api/v1/tenants/{slug}/widget-config`` (docs/chat-protocol.md)."""

    tenant: str
    name: UserText
    form_of_address: str
    language: str
    greeting: UserText
    disclosure: UserText
    privacy: UserText
    privacy_url: str | None
    suggestions: list[UserText]
    theme: dict[str, str]
    contact: ContactRoutes
    handover_available: bool
    handover_now: bool = Field(
        default=False,
        description="Someone can take over right now (opening hours, and staff on the live queue or a "
        "KCC webhook): the widget offers 'Praat met een medewerker' only then.",
    )
    available: bool = Field(
        default=True, description="False while nothing is indexed for the tenant: the widget says so."
    )
    origin_allowed: bool = Field(
        default=True, description="False when the page asking is on a website the tenant has not allowed."
    )


def widget_config(tenant: TenantProfile) -> WidgetConfig:
    own = tenant.settings.widget
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
