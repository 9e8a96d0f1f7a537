"""Validation errors in Dutch, per field: one translation for the API (problem+json) and the portal's
forms alike. A validator's own message (``ValueError("...")``) is already Dutch and is kept."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

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
    "refused": "{dutch}",
    "assertion_error": "{error}",
}


def refused(dutch: str, english: str) -> PydanticCustomError:
    """A validator's refusal in both languages of the product: Dutch for the API and the portal,
    English for the command line (whose messages are in the README's language)."""
    return PydanticCustomError("refused", dutch, {"dutch": dutch, "english": english})


def english_message(error: dict[str, Any]) -> str:
    """An error as the command line says it: a validator's own English text, or pydantic's."""
    if error.get("type") == "refused":
        return str((error.get("ctx") or {}).get("english", error.get("msg", "")))
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


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


# Fields whose form is said in words rather than as a pattern.
_FORMS = {
    "slug": "bestaat uit kleine letters, cijfers en streepjes (hooguit 63 tekens, niet beginnend of "
    "eindigend met een streepje), bijvoorbeeld 'den-bosch'",
    "name": "mag geen stuurtekens of tekens voor de schrijfrichting (zoals U+202E) bevatten",
}


def dutch_errors(errors: ValidationError | Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """[{"field": "widget.greeting", "message": "is te lang (hooguit 500 tekens)"}, ...]"""
    items = errors.errors() if isinstance(errors, ValidationError) else errors
    described = []
    for error in map(dict, items):
        field = field_name(error)
        form = (
            _FORMS.get(field.rsplit(".", 1)[-1]) if error.get("type") == "string_pattern_mismatch" else None
        )
        described.append({"field": field, "message": form or dutch_message(error)})
    return described


# ---- untrusted text and JSON: no control characters, no unbounded nesting ---------------------

MAX_JSON_DEPTH = 32
# Control characters (tab, newline and return are text) and lone surrogates (no character at all,
# and no valid UTF-8): refused wherever text enters. The API schema's pattern names the control
# characters; a lone surrogate cannot be written in a pattern that every regex engine accepts.
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# A name (of a municipality, a source, a staff member) shown to others: no control characters and no
# bidirectional controls, which can make a name read differently from what it is ("Trojan Source").
NAME_PATTERN = (
    r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
)


class UnsafeInput(ValueError):
    """Input the service refuses before reading it; the message is Dutch and names the problem."""


CONTROL_MESSAGE = (
    "De invoer bevat stuurtekens (zoals NUL) die niet in tekst horen. Verwijder ze en probeer het opnieuw."
)


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def parse_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for untrusted input: refuses nesting deeper than ``max_depth`` before parsing
    (so a crafted ``[[[[…`` cannot exhaust the stack) and any string holding a control character.
    Raises ``UnsafeInput`` for both, ``ValueError`` for text that is no JSON."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _nesting(text) > max_depth:
        raise UnsafeInput(f"De invoer is te diep genest (hooguit {max_depth} niveaus).")
    value = json.loads(text)
    if _holds_control_characters(value):
        raise UnsafeInput(CONTROL_MESSAGE)
    return value


def _nesting(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _holds_control_characters(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _CONTROL.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _with_zone(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC, so say so."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# A moment as the API shows it: always with its zone (ISO 8601 with +00:00).
UtcDateTime = Annotated[datetime, AfterValidator(_with_zone)]


# ---- text that people typed or pages held, on its way out: never markup -----------------------

_TAG = re.compile(r"<!--.*?(?:-->|$)|<[A-Za-z/!?][^<>]*(?:>|$)", re.S)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_UNSAFE_LINK = re.compile(
    r"\[([^\]\n]*)\]\(\s*(?!(?:https?://|mailto:|tel:))[^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)", re.I
)


def plain_text(text: str) -> str:
    """The text with no HTML in it, for any client that might render it as HTML: tags and comments
    are removed (until none is left: ``<<b>img …>`` does not become a tag), and a ``<`` that could
    still open one becomes ``‹``. Text that was nothing but markup keeps its characters, as
    ``‹b›``, so it is never emptied. ``a < b`` and ``<3`` stay as they are."""
    if "<" not in text:
        return text
    stripped = text
    for _ in range(5):
        stripped, before = _TAG.sub("", stripped), stripped
        if stripped == before:
            break
    if not stripped.strip():
        return text.replace("<", "‹").replace(">", "›")
    return _TAG_START.sub("‹", stripped)


def safe_markdown(text: str) -> str:
    """An answer in the Markdown subset the widget renders, as plain text otherwise: no HTML, and a
    link only to http(s), mailto or tel (any other target keeps its label only)."""
    return _UNSAFE_LINK.sub(r"\1", plain_text(text))


def iso_day(value: Any) -> Any:
    """Only a day written as 2026-12-07 (not a number of seconds, not a time)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("Geef een datum als jjjj-mm-dd, bijvoorbeeld 2026-12-07.")
    if isinstance(value, int | float):
        raise ValueError("Geef een datum als jjjj-mm-dd, bijvoorbeeld 2026-12-07.")
    return value


# A day as the API takes it: only written as 2026-12-07.
Day = Annotated[date, BeforeValidator(iso_day)]

# Text from people or pages in an API response: one type, so that no route forgets it.
UserText = Annotated[str, AfterValidator(plain_text)]
AnswerText = Annotated[str, AfterValidator(safe_markdown)]
