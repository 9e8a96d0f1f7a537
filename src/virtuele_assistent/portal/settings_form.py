"""The municipality's settings as a form: form fields to a ``TenantUpdate`` and back. The update is
checked by the same typed models as the API's ``PATCH /api/v1/tenants/{slug}``, so the portal
refuses the same values with the same Dutch messages; each message is shown at its own field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from virtuele_assistent.tenants.schemas import TenantOut, TenantUpdate
from virtuele_assistent.tenants.settings import LANGUAGES, TRANSCRIPT_MODES
from virtuele_assistent.validation import dutch_errors

# form field -> where it lives in a TenantUpdate (dotted)
FIELDS = {
    "naam": "name",
    "aanspreekvorm": "form_of_address",
    "begroeting": "settings.widget.greeting",
    "melding_ai": "settings.widget.disclosure",
    "privacy_url": "settings.widget.privacy_url",
    "suggesties": "settings.widget.suggestions",
    "telefoon": "contact.phone",
    "email": "contact.email",
    "contactformulier": "contact.contact_form_url",
    "adres": "contact.address",
    "persoonlijke_omgeving": "contact.personal_environment_url",
    "herkomsten": "allowed_origins",
    "bewaartermijn": "settings.retention_days",
    "gesprekken": "settings.transcripts",
    "antwoorden": "settings.answer_backend",
    "model": "settings.llm_model",
    "plaatsen": "settings.place_names",
    "talen": "settings.languages",
}
LINES = {"suggesties", "herkomsten", "plaatsen"}  # one item per line


@dataclass
class SettingsForm:
    values: dict[str, Any]  # as shown in the form (text, or a list for the languages)
    errors: dict[str, str] = field(default_factory=dict)


def form_of(tenant: TenantOut) -> SettingsForm:
    """The form filled with the municipality's settings as they are."""
    widget, contact = tenant.settings.widget, tenant.contact
    return SettingsForm(
        {
            "naam": tenant.name,
            "aanspreekvorm": tenant.form_of_address,
            "begroeting": widget.greeting or "",
            "melding_ai": widget.disclosure or "",
            "privacy_url": widget.privacy_url or "",
            "suggesties": "\n".join(widget.suggestions or []),
            "telefoon": contact.phone or "",
            "email": contact.email or "",
            "contactformulier": str(contact.contact_form_url or ""),
            "adres": contact.address or "",
            "persoonlijke_omgeving": str(contact.personal_environment_url or ""),
            "herkomsten": "\n".join(tenant.allowed_origins),
            "bewaartermijn": ""
            if tenant.settings.retention_days is None
            else str(tenant.settings.retention_days),
            "gesprekken": tenant.settings.transcripts,
            "antwoorden": tenant.settings.answer_backend or "",
            "model": tenant.settings.llm_model or "",
            "plaatsen": "\n".join(tenant.settings.place_names),
            "talen": list(tenant.settings.languages),
        }
    )


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def update_from(tenant: TenantOut, sent: dict[str, Any]) -> tuple[TenantUpdate | None, SettingsForm]:
    """The update the form asks for (only what changed), or None and the form with a message per field."""
    values = {name: sent.get(name, [] if name == "talen" else "") for name in FIELDS}
    form = SettingsForm(values)
    lines = {
        name: [line.strip() for line in str(values[name]).splitlines() if line.strip()] for name in LINES
    }
    contact = tenant.contact.model_dump(mode="json") | {
        "phone": _text(values["telefoon"]),
        "email": _text(values["email"]),
        "contact_form_url": _text(values["contactformulier"]),
        "address": _text(values["adres"]),
        "personal_environment_url": _text(values["persoonlijke_omgeving"]),
    }
    retention: Any = _text(values["bewaartermijn"])
    languages = values["talen"] if isinstance(values["talen"], list) else [values["talen"]]
    update = {
        "name": values["naam"].strip(),
        "form_of_address": values["aanspreekvorm"],
        "contact": contact,
        "allowed_origins": lines["herkomsten"],
        "settings": {
            "widget": {
                "greeting": _text(values["begroeting"]),
                "disclosure": _text(values["melding_ai"]),
                "privacy_url": _text(values["privacy_url"]),
                "suggestions": lines["suggesties"] or None,
            },
            "retention_days": retention,
            "transcripts": values["gesprekken"] or "full",
            "answer_backend": values["antwoorden"] or None,
            "llm_model": _text(values["model"]),
            "place_names": lines["plaatsen"],
            "languages": languages or ["nl"],
        },
    }
    try:
        TenantUpdate.model_validate(update)
        return TenantUpdate.model_validate(_changed(tenant, update)), form
    except ValidationError as error:
        where = {path: name for name, path in FIELDS.items()}
        for problem in dutch_errors(error):
            path = problem["field"]
            name = next(
                (where[p] for p in sorted(where, key=len, reverse=True) if path.startswith(p)), "naam"
            )
            form.errors.setdefault(name, f"{label(name)} {problem['message']}")
        return None, form


def _changed(tenant: TenantOut, update: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the settings as they are (the audit log then shows just that)."""
    current = tenant.model_dump(mode="json")
    normalised = TenantUpdate.model_validate(update).model_dump(mode="json", exclude_unset=True)
    changed: dict[str, Any] = {}
    for key in ("name", "form_of_address", "contact", "allowed_origins"):
        if normalised[key] != current[key]:
            changed[key] = update[key]
    now = current["settings"]
    settings: dict[str, Any] = {}
    for key, value in update["settings"].items():
        if key == "widget":
            widget = {
                k: v for k, v in value.items() if normalised["settings"]["widget"][k] != now["widget"][k]
            }
            if widget:
                settings["widget"] = widget
        elif normalised["settings"][key] != now[key]:
            settings[key] = value
    if settings:
        changed["settings"] = settings
    return changed


LABELS = {
    "naam": "Naam",
    "aanspreekvorm": "Aanspreekvorm",
    "begroeting": "Begroeting",
    "melding_ai": "Melding over de AI-assistent",
    "privacy_url": "Adres van de privacyverklaring",
    "suggesties": "Voorbeeldvragen",
    "telefoon": "Telefoonnummer",
    "email": "E-mailadres",
    "contactformulier": "Adres van het contactformulier",
    "adres": "Bezoekadres",
    "persoonlijke_omgeving": "Adres van de persoonlijke omgeving (Mijn gemeente)",
    "herkomsten": "Websites waarop de assistent staat",
    "bewaartermijn": "Bewaartermijn van gesprekken (dagen)",
    "gesprekken": "Wat er van een gesprek bewaard blijft",
    "antwoorden": "Wie de antwoorden schrijft",
    "model": "Taalmodel bij de OpenAI-compatibele dienst",
    "plaatsen": "Dorpen en wijken van de gemeente",
    "talen": "Talen",
}


def label(name: str) -> str:
    return LABELS.get(name, name)


def languages() -> dict[str, str]:
    return dict(LANGUAGES)


def transcript_modes() -> dict[str, str]:
    return dict(TRANSCRIPT_MODES)


BACKENDS = {
    "extractive": "De assistent zelf, met zinnen uit de bronnen (zonder taalmodel)",
    "local": "Het taalmodel van deze installatie (lokaal)",
    "openai": "Een OpenAI-compatibele dienst die de installatie heeft ingesteld",
}


def backends(default: str) -> dict[str, str]:
    """The choices for who writes the answers, the installation's default first."""
    return {"": f"Zoals de installatie het doet ({BACKENDS.get(default, default).lower()})", **BACKENDS}
