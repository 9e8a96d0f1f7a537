"""The prompt engine: versioned Jinja2 templates in ``answering/prompts/``, overridable per tenant.

A tenant overrides a template by putting its source in ``tenant.settings.prompts[name]`` (names:
``system``, ``user``, ``rewrite``, ``decline``). Every template gets the municipality's name, its form
of address, its contact routes and the AI disclosure.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from virtuele_assistent.tenants.schemas import TenantProfile

LANGUAGE_NAMES = {
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
DEFAULT_DISCLOSURE = "Je bent een AI-assistent, geen mens."
_VERSION = re.compile(r"version:\s*(\S+)")

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=32)
def _builtin_source(name: str) -> str:
    return resources.files("virtuele_assistent.answering").joinpath(f"prompts/{name}.j2").read_text("utf-8")


@lru_cache(maxsize=256)
def _compile(source: str) -> Template:
    return _env.from_string(source)


def contact_routes(tenant: TenantProfile) -> list[str]:
    contact = tenant.contact
    routes = []
    if contact.phone:
        routes.append(f"bel {contact.phone}")
    if contact.contact_form_url:
        routes.append(f"gebruik het contactformulier: {contact.contact_form_url}")
    if contact.email and not routes:
        routes.append(f"mail naar {contact.email}")
    return routes


class PromptEngine:
    def source(self, tenant: TenantProfile, name: str) -> str:
        override = tenant.settings.prompts.get(name)  # type: ignore[call-overload]
        return override if override and override.strip() else _builtin_source(name)

    def version(self, tenant: TenantProfile, name: str) -> str:
        match = _VERSION.search(self.source(tenant, name))
        overridden = name in tenant.settings.prompts
        return ("tenant:" if overridden else "") + (match.group(1) if match else "unversioned")

    def render(self, tenant: TenantProfile, name: str, **context: Any) -> str:
        base = {
            "municipality": tenant.name,
            "you": tenant.addressed("u", "je"),
            "routes": contact_routes(tenant),
            "disclosure": tenant.settings.ai_disclosure or DEFAULT_DISCLOSURE,
            "language": "nl",
            "language_name": "Nederlands",
        }
        base.update(context)
        base["language_name"] = LANGUAGE_NAMES.get(str(base["language"]), str(base["language"]))
        return _compile(self.source(tenant, name)).render(**base).strip()
