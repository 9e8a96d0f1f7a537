"""Validation errors in Dutch, per field: one translation for the API (problem+json) and the portal's
forms alike. A validator's own message (``ValueError("...")``) is already Dutch and is kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

_MESSAGES = {
    "missing": "is verplicht",
    "string_too_long": "is te lang (hooguit {max_length} tekens)",
    "string_too_short": "is te kort (minstens {min_length} tekens)",
    "too_long": "heeft te veel waarden (hooguit {max_length})",
    "too_short": "heeft te weinig waarden (minstens {min_length})",
    "string_pattern_mismatch": "heeft een ongeldige vorm",
    "extra_forbidden": "is onbekend",
    "json_invalid": "is geen geldige JSON",
    "literal_error": "heeft een ongeldige waarde (kies uit {expected})",
    "enum": "heeft een ongeldige waarde (kies uit {expected})",
    "string_type": "moet tekst zijn",
    "int_parsing": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "int_from_float": "moet een geheel getal zijn",
    "float_parsing": "moet een getal zijn",
    "float_type": "moet een getal zijn",
    "bool_parsing": "moet ja of nee zijn",
    "bool_type": "moet ja of nee zijn",
    "greater_than": "moet groter zijn dan {gt}",
    "greater_than_equal": "moet minstens {ge} zijn",
    "less_than": "moet kleiner zijn dan {lt}",
    "less_than_equal": "mag hooguit {le} zijn",
    "model_attributes_type": "moet een JSON-object zijn",
    "model_type": "moet een JSON-object zijn",
    "dict_type": "moet een JSON-object zijn",
    "list_type": "moet een lijst zijn",
    "url_parsing": "is geen geldige URL",
    "url_scheme": "moet beginnen met http:// of https://",
    "url_type": "is geen geldige URL",
    "value_error": "{error}",
    "assertion_error": "{error}",
}


def dutch_message(error: dict[str, Any]) -> str:
    template = _MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return "is ongeldig"
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        message = template.format(**context)
    except (KeyError, IndexError):
        message = template.split(" (")[0] if "{" in template else template
    # A validator's ValueError arrives as "Value error, <its Dutch text>"; keep only its text.
    return message.removeprefix("Value error, ") or "is ongeldig"


def field_name(error: dict[str, Any], skip: Sequence[str] = ("body", "query", "path", "form")) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in skip]
    return ".".join(loc)


def dutch_errors(errors: ValidationError | Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """[{"field": "widget.greeting", "message": "is te lang (hooguit 500 tekens)"}, ...]"""
    items = errors.errors() if isinstance(errors, ValidationError) else errors
    return [{"field": field_name(dict(e)), "message": dutch_message(dict(e))} for e in items]
