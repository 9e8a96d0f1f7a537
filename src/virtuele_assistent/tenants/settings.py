"""A tenant's own settings (``tenants.settings``): one typed, validated model.

Everything that reads a tenant's settings reads ``TenantProfile.settings``, a ``TenantSettings``.
Unknown keys and unknown values are refused with a Dutch message naming the field, when they are
written (API, portal, CLI); nothing is silently replaced by a default. A row that was edited into
something invalid behind the application's back is read as the defaults, with an error in the log,
so that a resident's chat keeps working (``load_tenant_settings``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import structlog
from jinja2 import Environment, TemplateSyntaxError
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from virtuele_assistent.validation import UserText, refused

log = structlog.get_logger(__name__)

AnswerBackend = Literal["extractive", "openai", "local"]
ANSWER_BACKENDS: tuple[str, ...] = ("extractive", "openai", "local")
PromptName = Literal["system", "user", "rewrite", "decline"]
PROMPT_NAMES: tuple[str, ...] = ("system", "user", "rewrite", "decline")

# Languages the assistant can recognise and answer in (ISO 639-1), with their Dutch names.
LANGUAGES: dict[str, str] = {
    "nl": "Nederlands",
    "en": "Engels",
    "de": "Duits",
    "fr": "Frans",
    "es": "Spaans",
    "pl": "Pools",
    "tr": "Turks",
    "ar": "Arabisch",
    "uk": "Oekraïens",
}
# What is kept of a conversation's texts once it has ended (conversations/transcripts.py).
TranscriptMode = Literal["full", "pseudonymised", "none"]
TRANSCRIPT_MODES: dict[str, str] = {
    "full": "Volledig: vragen en antwoorden, met persoonsgegevens vervangen",
    "pseudonymised": "Gepseudonimiseerd: ook namen, datums en nummers vervangen",
    "none": "Geen teksten: alleen wat er gebeurde (uitkomst, bronnen, feedback)",
}
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650

# A CSS custom property and a value that cannot break out of its declaration or load anything.
_PROPERTY = re.compile(r"^--[a-z][a-z0-9-]{0,80}$")
_VALUE = re.compile(r"^[^;{}<>\\]{1,200}$")
# the same, and no url(): the schema's pattern for a token's value
_VALUE_SCHEMA = r"^(?![\s\S]*[uU][rR][lL]\()[^;{}<>\\]{1,200}$"
_LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"
_templates = Environment(autoescape=False)


def valid_theme_entry(name: str, value: str) -> bool:
    return bool(_PROPERTY.match(name) and _VALUE.match(value) and "url(" not in value.lower())


class WidgetSettings(BaseModel):
    """What the chat widget shows before the first message; every text has a Dutch default."""

    model_config = ConfigDict(extra="forbid")

    greeting: UserText | None = Field(
        default=None, max_length=500, description="First message of the widget."
    )
    disclosure: UserText | None = Field(
        default=None, max_length=500, description="AI disclosure shown to residents (EU AI Act art. 50)."
    )
    privacy: UserText | None = Field(default=None, max_length=500)
    privacy_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    suggestions: list[Annotated[UserText, Field(max_length=200)]] | None = Field(default=None, max_length=6)
    theme: dict[
        Annotated[str, Field(pattern=_PROPERTY.pattern)],
        Annotated[str, Field(json_schema_extra={"pattern": _VALUE_SCHEMA})],
    ] = Field(
        default_factory=dict,
        max_length=100,
        description="NL Design System tokens (CSS custom properties; no url()).",
        json_schema_extra={"additionalProperties": False},
    )
    language: str = Field(default="nl", pattern=_LANGUAGE_TAG, description="Language of the widget's texts.")
    handover: StrictBool | None = Field(
        default=None, description="Offer a person in the chat (default: yes)."
    )

    @field_validator("suggestions")
    @classmethod
    def _suggestions(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for suggestion in value:
            if len(suggestion.strip()) > 200:
                raise refused(
                    "een voorbeeldvraag mag hooguit 200 tekens hebben",
                    "an example question has at most 200 characters",
                )
        return [s.strip() for s in value if s.strip()]

    @field_validator("theme")
    @classmethod
    def _theme(cls, value: dict[str, str]) -> dict[str, str]:
        for name, token in value.items():
            if not valid_theme_entry(name, token):
                raise refused(
                    f"'{name}: {token}' is geen geldig thema-token (een CSS custom property zoals "
                    "--va-color-primary met een eenvoudige waarde)",
                    f"'{name}: {token}' is not a valid theme token (a CSS custom property such as "
                    "--va-color-primary with a simple value)",
                )
        return value


class TenantSettings(BaseModel):
    """A tenant's settings beside its name, form of address, contact routes and widget origins."""

    model_config = ConfigDict(extra="forbid")

    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    answer_backend: AnswerBackend | None = Field(
        default=None, description="extractive, openai or local; empty: the installation's VA_ANSWER_BACKEND."
    )
    llm_model: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:/@-]+$",
        description="Model name at the OpenAI-compatible API; empty: the installation's VA_LLM_MODEL.",
    )
    ai_disclosure: str | None = Field(
        default=None, max_length=300, description="What the language model is told it is (system prompt)."
    )
    prompts: dict[PromptName, str] = Field(
        default_factory=dict, description="Own Jinja2 templates for system, user, rewrite, decline."
    )
    place_names: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=200, description="Villages and districts that belong to the tenant."
    )
    languages: list[Annotated[str, Field(json_schema_extra={"enum": list(LANGUAGES)})]] = Field(
        default_factory=lambda: list(LANGUAGES),
        min_length=1,
        description="Languages answered in the resident's own language; others get Dutch with a note.",
    )
    retention_days: int | None = Field(
        default=None,
        ge=MIN_RETENTION_DAYS,
        le=MAX_RETENTION_DAYS,
        description="Days conversations are kept; empty: the installation's VA_RETENTION_DAYS.",
    )
    transcripts: TranscriptMode = Field(
        default="full",
        description="What is kept of a conversation's texts once it has ended: full (redacted), "
        "pseudonymised (names, dates and numbers replaced too) or none (only what happened).",
    )
    handover_webhook_url: str | None = Field(
        default=None, max_length=2000, pattern=r"^https?://", description="KCC system that takes handovers."
    )
    handover_webhook_secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="Signs the KCC webhook's requests."
    )
    handover_timeout_s: float | None = Field(
        default=None, gt=0, le=3600, description="Wait for a person before the contact routes are shown."
    )

    @field_validator("answer_backend", mode="before")
    @classmethod
    def _backend(cls, value: Any) -> Any:
        if value is not None and value not in ANSWER_BACKENDS:
            raise refused(
                f"'{value}' is geen bekende antwoordmotor; kies uit {', '.join(ANSWER_BACKENDS)}",
                f"'{value}' is not a known answer backend; choose from {', '.join(ANSWER_BACKENDS)}",
            )
        return value

    @field_validator("prompts", mode="before")
    @classmethod
    def _prompt_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = [name for name in value if name not in PROMPT_NAMES]
            if unknown:
                raise refused(
                    f"'{unknown[0]}' is geen bekende prompt; kies uit {', '.join(PROMPT_NAMES)}",
                    f"'{unknown[0]}' is not a known prompt; choose from {', '.join(PROMPT_NAMES)}",
                )
        return value

    @field_validator("prompts")
    @classmethod
    def _prompts_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for name, source in value.items():
            try:
                _templates.parse(source)
            except TemplateSyntaxError as error:
                raise refused(
                    f"de prompt '{name}' is geen geldig sjabloon: {error.message}",
                    f"the prompt '{name}' is not a valid template: {error.message}",
                ) from None
        return {name: source for name, source in value.items() if source.strip()}

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for code in value:
            if code not in LANGUAGES:
                raise refused(
                    f"'{code}' is geen bekende taal; kies uit {', '.join(LANGUAGES)}",
                    f"'{code}' is not a known language; choose from {', '.join(LANGUAGES)}",
                )
        return list(dict.fromkeys(["nl", *value]))

    @field_validator("place_names")
    @classmethod
    def _place_names(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value if name.strip()]
        for name in names:
            if len(name) > 100:
                raise refused(
                    "een plaatsnaam mag hooguit 100 tekens hebben", "a place name has at most 100 characters"
                )
        return names

    def stored(self) -> dict[str, Any]:
        """What goes into ``tenants.settings``: only what differs from the defaults."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def updated(self, change: TenantSettings) -> TenantSettings:
        """These settings changed by the ones ``change`` was given (its fields set; ``widget`` field
        by field). Every setting that can be null has null as its default, so null resets it."""
        values = self.model_dump(mode="json")
        for name in change.model_fields_set:
            value = getattr(change, name)
            if isinstance(value, BaseModel):
                values[name] |= value.model_dump(mode="json", include=value.model_fields_set)
            else:
                values[name] = change.model_dump(mode="json", include={name})[name]
        return TenantSettings.model_validate(values)

    def answers_in(self, language: str) -> bool:
        """Whether a resident writing ``language`` is answered in it (Dutch always is)."""
        return language == "nl" or language in self.languages


def load_tenant_settings(raw: Any, slug: str = "") -> TenantSettings:
    """The stored settings of a tenant; an invalid row (edited behind the application's back) is read
    as the defaults, with an error in the log, so that the tenant's chat keeps working."""
    if isinstance(raw, TenantSettings):
        return raw
    try:
        return TenantSettings.model_validate(raw or {})
    except ValidationError as error:
        first = error.errors()[0]
        log.error(
            "tenant.settings_invalid",
            tenant=slug,
            field=".".join(str(p) for p in first["loc"]),
            error=first["msg"],
        )
        return TenantSettings()
