"""What a municipality is, as the API and CLI see it."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from virtuele_assistent.tenants.settings import TenantSettings, load_tenant_settings
from virtuele_assistent.validation import NAME_PATTERN, UserText, refused

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


def suggested_slug(name: str) -> str:
    """A valid slug close to what was typed: 'Den Bosch' -> 'den-bosch', 'Súdwest-Fryslân' ->
    'sudwest-fryslan'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:63].strip("-") or "gemeente"


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def _check_origins(origins: list[str]) -> list[str]:
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise refused(
                f"'{origin}' is geen geldige origin (bijvoorbeeld https://www.gemeente.nl)",
                f"'{origin}' is not a valid origin (for example https://www.gemeente.nl)",
            )
    return origins


# The one rule for a tenant's allowed origins, on create and on update.
AllowedOrigins = Annotated[
    list[Annotated[str, Field(max_length=300, json_schema_extra={"pattern": _ORIGIN.pattern})]],
    Field(max_length=50),
    AfterValidator(_check_origins),
]


class OpeningHours(BaseModel):
    """Opening hours per weekday, e.g. {"ma": "09:00-17:00", "za": "gesloten"}."""

    model_config = ConfigDict(extra="forbid")

    ma: UserText | None = None
    di: UserText | None = None
    wo: UserText | None = None
    do: UserText | None = None
    vr: UserText | None = None
    za: UserText | None = None
    zo: UserText | None = None


class ContactRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("contact_form_url", "personal_environment_url")
    @classmethod
    def _normalised_length(cls, value: HttpUrl | None) -> HttpUrl | None:
        # the URL as stored (normalised, e.g. an IDN host in punycode) must fit too
        if value is not None and len(str(value)) > 2000:
            raise refused(
                "deze URL is te lang (hooguit 2000 tekens)", "this URL is too long (at most 2000 characters)"
            )
        return value

    phone: UserText | None = Field(default=None, max_length=40, examples=["14 0555"])
    contact_form_url: HttpUrl | None = None
    email: UserText | None = Field(default=None, max_length=320)
    address: UserText | None = Field(default=None, max_length=300)
    opening_hours: OpeningHours = Field(default_factory=OpeningHours)
    live_chat: StrictBool = False
    personal_environment_url: HttpUrl | None = Field(
        default=None,
        description="Where residents see their own applications and cases (a 'Mijn gemeente' page); "
        "the assistant cannot see them and sends residents there.",
    )


class ContactRoutesIn(ContactRoutes):
    """Contact routes as a client sends them: a form URL of at most 1000 characters, so that the
    stored, normalised URL (an international host in punycode) stays within the URL type's limit."""

    contact_form_url: HttpUrl | None = Field(default=None, json_schema_extra={"maxLength": 1000})
    personal_environment_url: HttpUrl | None = Field(default=None, json_schema_extra={"maxLength": 1000})

    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, data: Any) -> Any:
        return data.model_dump() if isinstance(data, ContactRoutes) else data  # e.g. copied from another

    @field_validator("contact_form_url", "personal_environment_url", mode="before")
    @classmethod
    def _form_url_length(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > 1000:
            raise refused("een URL mag hooguit 1000 tekens hebben", "a URL may have at most 1000 characters")
        return value


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, examples=["voorbeeldstad"])
    name: UserText = Field(
        min_length=2, max_length=200, pattern=NAME_PATTERN, examples=["Gemeente Voorbeeldstad"]
    )
    form_of_address: Literal["u", "je"] = "u"
    contact: ContactRoutesIn = Field(default_factory=ContactRoutesIn)
    allowed_origins: AllowedOrigins = Field(default_factory=list)
    settings: TenantSettings = Field(default_factory=TenantSettings)


_UNSET: Any = None  # a field left out of an update (``exclude_unset`` drops it)


class TenantUpdate(BaseModel):
    """Only the fields sent change. None of them can be set to null: leave a field out to keep it.

    ``settings`` changes only the settings it names (``widget`` field by field): ``{"settings":
    {"retention_days": 30}}`` keeps every other setting; a setting sent as null goes back to its
    default."""

    model_config = ConfigDict(extra="forbid")

    # Not Optional: the default (unset) is never stored, an explicit null is refused.
    name: UserText = Field(default=_UNSET, min_length=2, max_length=200, pattern=NAME_PATTERN)
    form_of_address: Literal["u", "je"] = _UNSET
    contact: ContactRoutesIn = _UNSET
    allowed_origins: AllowedOrigins = _UNSET
    settings: TenantSettings = _UNSET


class TenantPublic(BaseModel):
    """What anyone may know of a tenant: its name, form of address and contact routes."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: UserText
    form_of_address: str
    contact: ContactRoutes


class TenantOut(TenantPublic):
    """A tenant as its administrators see it. The KCC webhook's secret is never shown:
    ``handover_webhook_secret_set`` says whether one is set."""

    allowed_origins: list[str]
    settings: TenantSettings = Field(default_factory=TenantSettings)
    handover_webhook_secret_set: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        if isinstance(data, dict) or not hasattr(data, "settings"):
            return data
        settings = load_tenant_settings(data.settings, data.slug)
        return {
            "slug": data.slug,
            "name": data.name,
            "form_of_address": data.form_of_address,
            "contact": data.contact,
            "allowed_origins": data.allowed_origins,
            "settings": settings.model_copy(update={"handover_webhook_secret": None}),
            "handover_webhook_secret_set": settings.handover_webhook_secret is not None,
        }


class TenantProfile(BaseModel):
    """What the answer pipeline needs to know of a tenant; detached from the database session."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: UserText
    form_of_address: str
    contact: ContactRoutes
    settings: TenantSettings = Field(default_factory=TenantSettings)
    inherits_from: int | None = None
    allowed_origins: list[str] = Field(default_factory=list)

    @field_validator("settings", mode="before")
    @classmethod
    def _settings(cls, value: object, info: ValidationInfo) -> TenantSettings:
        return load_tenant_settings(value, str(info.data.get("slug", "")))

    def addressed(self, u: str, je: str) -> str:
        """A text in the tenant's form of address. Both are written out, because a Dutch verb
        changes with it: "Wilt u", "kijkt u", "heeft u" but "Wil je", "kijk je", "heb je"."""
        return je if self.form_of_address == "je" else u

    @property
    def search_tenant_ids(self) -> list[int]:
        """Own content first; shared content it inherits is searched too."""
        return [self.id] + ([self.inherits_from] if self.inherits_from else [])
