"""What a municipality is, as the API and CLI see it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationInfo, field_validator

from virtuele_assistent.tenants.settings import TenantSettings, load_tenant_settings

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


class OpeningHours(BaseModel):
    """Opening hours per weekday, e.g. {"ma": "09:00-17:00", "za": "gesloten"}."""

    model_config = ConfigDict(extra="forbid")

    ma: str | None = None
    di: str | None = None
    wo: str | None = None
    do: str | None = None
    vr: str | None = None
    za: str | None = None
    zo: str | None = None


class ContactRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40, examples=["14 0555"])
    contact_form_url: HttpUrl | None = None
    email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=300)
    opening_hours: OpeningHours = Field(default_factory=OpeningHours)
    live_chat: bool = False


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, examples=["voorbeeldstad"])
    name: str = Field(min_length=2, max_length=200, examples=["Gemeente Voorbeeldstad"])
    form_of_address: Literal["u", "je"] = "u"
    contact: ContactRoutes = Field(default_factory=ContactRoutes)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    settings: TenantSettings = Field(default_factory=TenantSettings)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not _ORIGIN.match(origin):
                raise ValueError(f"'{origin}' is geen geldige origin (bijvoorbeeld https://www.gemeente.nl)")
        return origins


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    form_of_address: Literal["u", "je"] | None = None
    contact: ContactRoutes | None = None
    allowed_origins: list[str] | None = None


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    form_of_address: str
    contact: ContactRoutes
    allowed_origins: list[str]


class TenantProfile(BaseModel):
    """What the answer pipeline needs to know of a tenant; detached from the database session."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
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
