"""Personal data (AVG): find and redact it before anything is stored, logged or sent to an LLM.

What is redacted, each validated where a checksum exists so ordinary numbers survive:
- BSN: nine digits (also written 123.456.782 or 123 456 782) passing the 11-proef (python-stdnum);
  any nine-digit number right after the word "BSN" is redacted even if the check fails.
- IBAN: country code, check digits and account, passing mod-97 (python-stdnum).
- Dutch phone numbers (phonenumbers, region NL; also +31 and international numbers).
- E-mail addresses.
- Addresses: a postcode with a house number, and a street name with a house number.
- A name the resident gives for themselves ("ik ben Jan de Vries", "mijn naam is ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

PLACEHOLDERS = {
    "bsn": "[BSN]",
    "iban": "[IBAN]",
    "phone": "[TELEFOONNUMMER]",
    "email": "[E-MAILADRES]",
    "address": "[ADRES]",
    "name": "[NAAM]",
}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_NINE_DIGITS = re.compile(r"(?<![\d.,-])(\d{3}[. ]?\d{3}[. ]?\d{3}|\d{8,9})(?![\d,-]|\.\d)")
_BSN_KEYWORD = re.compile(
    r"(?i)\b(?:bsn|burgerservicenummer|sofinummer)\b[\s:.=-]*(?:is|nummer|nr\.?)?[\s:.=-]*(\d[\d. ]{6,12}\d)"
)
_HOUSE_NUMBER = r"\d{1,5}(?:\s?[-]?\s?[A-Za-z]{1,2}\b|\s?-\s?\d{1,4})?"
_POSTCODE = r"[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}\b|[1-9]\d{3}(?!sa|sd|ss)[a-z]{2}\b"
_POSTCODE_WITH_NUMBER = re.compile(
    rf"(?:{_POSTCODE})(?:\s*,?\s*(?:nr\.?\s*|huisnummer\s*)?{_HOUSE_NUMBER})?"
    rf"|(?<!\w)\d{{1,5}}[A-Za-z]?\s*,\s*(?:{_POSTCODE})"
)
_STREET_SUFFIX = (
    r"straat|laan|weg|plein|gracht|kade|dijk|singel|pad|hof|steeg|dreef|park|markt|ring|"
    r"boulevard|erf|veld|wal|haven|burg|oord|zijde|baan|hout|akker|kamp|hoeve|wijk"
)
_STREET_WITH_NUMBER = re.compile(
    rf"\b(?:[A-Z][a-zà-ÿ'.-]+\s)*[A-Za-zà-ÿ'.-]+(?:{_STREET_SUFFIX})\s+{_HOUSE_NUMBER}(?![\d.,]\d)"
)
_SELF_NAME = re.compile(
    r"(?i:\b(?:ik\s+ben|mijn\s+naam\s+is|ik\s+heet|my\s+name\s+is|i\s+am|namens)\s+)"
    r"((?:[A-Z][a-zà-ÿ'-]+)(?:\s+(?:van|de|der|den|het|ter|ten|la|le|[A-Z][a-zà-ÿ'-]+)){0,4}"
    r"(?:\s+[A-Z][a-zà-ÿ'-]+))"
)


@dataclass
class Redaction:
    text: str
    found: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.found)


def _count(found: dict[str, int], kind: str) -> None:
    found[kind] = found.get(kind, 0) + 1


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def redact(text: str) -> Redaction:
    """Replace personal data in ``text`` by placeholders such as ``[BSN]``."""
    if not text:
        return Redaction(text)
    found: dict[str, int] = {}

    def sub(pattern: re.Pattern[str], kind: str, keep: Callable[[str], bool] | None = None) -> None:
        nonlocal text

        def replace(match: re.Match[str]) -> str:
            if keep is not None and not keep(match.group(0)):
                return match.group(0)
            _count(found, kind)
            return PLACEHOLDERS[kind]

        text = pattern.sub(replace, text)

    sub(_EMAIL, "email")
    text = _redact_ibans(text, found)

    def _bsn_after_keyword(match: re.Match[str]) -> str:
        digits = _digits(match.group(1))
        if 8 <= len(digits) <= 9:
            _count(found, "bsn")
            return match.group(0).replace(match.group(1), PLACEHOLDERS["bsn"])
        return match.group(0)

    text = _BSN_KEYWORD.sub(_bsn_after_keyword, text)
    sub(_NINE_DIGITS, "bsn", lambda value: len(_digits(value)) == 9 and stdnum_bsn.is_valid(_digits(value)))
    text = _redact_phones(text, found)
    sub(_STREET_WITH_NUMBER, "address")
    sub(_POSTCODE_WITH_NUMBER, "address")

    def _name(match: re.Match[str]) -> str:
        _count(found, "name")
        return match.group(0).replace(match.group(1), PLACEHOLDERS["name"])

    text = _SELF_NAME.sub(_name, text)
    return Redaction(text, found)


_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
    rf"|(?i:\b\d{{1,2}}\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?\b)"
)
# a case, client or licence number: five or more digits, or letters and digits with dashes
_NUMBER = re.compile(
    r"(?<![€\d.,])(?<!€ )\b\d{5,}\b(?![.,]\d)"
    r"|\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]{1,4}(?:-[A-Za-z0-9]{1,4}){2,}\b"
)
_CAPITALISED = re.compile(
    r"(?<![.!?:]\s)(?<!^)(?<![\[\w\n(\"'-])([A-Z][a-zà-ÿ']+(?:-[A-Za-zà-ÿ']+)*)\b", re.M
)


def pseudonymise(text: str, known: set[str], names: set[str] | None = None) -> str:
    """Beyond ``redact``: also dates, long numbers and names replaced, for a conversation that has
    ended in a municipality that keeps pseudonymised texts. A capitalised word inside a sentence counts
    as a name unless ``known`` (lower case: the words of the municipality's own answers in the
    conversation, its name and places) holds it. ``names`` collects the names found, so that the same
    name is replaced at the start of a sentence too, in this text and the conversation's next ones."""
    names = set() if names is None else names
    text = redact(text).text
    text = _DATE.sub("[DATUM]", text)
    text = _NUMBER.sub("[NUMMER]", text)

    def name(match: re.Match[str]) -> str:
        word = match.group(1)
        if word.lower() in known or any(part in known for part in word.lower().split("-")):
            return word
        names.add(word)
        return PLACEHOLDERS["name"]

    text = _CAPITALISED.sub(name, text)
    for word in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", PLACEHOLDERS["name"], text)
    return text


def _redact_ibans(text: str, found: dict[str, int]) -> str:
    """IBANs are written in groups of four; a match may run into the next word, so shorten it."""

    def replace(match: re.Match[str]) -> str:
        value = match.group(0)
        while len(re.sub(r"\s", "", value)) >= 15:
            if stdnum_iban.is_valid(value):
                _count(found, "iban")
                return PLACEHOLDERS["iban"] + match.group(0)[len(value) :]
            value = value[:-1].rstrip()
        return match.group(0)

    return _IBAN.sub(replace, text)


def _redact_phones(text: str, found: dict[str, int]) -> str:
    spans: list[tuple[int, int]] = []
    try:
        for match in phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID):
            spans.append((match.start, match.end))
    except Exception:  # the matcher must never take a conversation down
        return text
    for start, end in reversed(spans):
        _count(found, "phone")
        text = text[:start] + PLACEHOLDERS["phone"] + text[end:]
    return text


def redact_text(text: str) -> str:
    return redact(text).text


def contains_personal_data(text: str) -> bool:
    return redact(text).changed


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value).text if len(value) < 20000 else redact(value[:20000]).text
    if depth > 4:
        return value
    if isinstance(value, dict):
        return {k: _redact_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v, depth + 1) for v in value]
    return value


_SAFE_KEYS = frozenset({"timestamp", "level", "logger", "request_id", "tenant", "conversation_id"})
# An identifier the platform made (a job id, a worker's host:pid:nonce): one token of letters and
# digits together. Its end can look like a postcode ("...92584ab"); redacting it would leave an id that
# finds nothing. A value without a letter or without a digit (a BSN, a name) is redacted as text.
_ID_KEY = re.compile(r"^(id|worker|.+_ids?)$")
_ID_VALUE = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9:._-]{8,128}$")


def _is_identifier(key: str, value: Any) -> bool:
    """An id whose only "personal data" is a postcode-like run inside it; an IBAN, BSN, e-mail
    address or phone number under an id's key is still redacted."""
    if not (_ID_KEY.match(key) and isinstance(value, str) and _ID_VALUE.match(value)):
        return False
    return set(redact(value).found) <= {"address"}


def structlog_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """A structlog processor: no log line carries personal data, whoever wrote the event."""
    for key, value in list(event_dict.items()):
        if key in _SAFE_KEYS or _is_identifier(key, value):
            continue
        if key == "exc_info" or key == "exception":
            continue
        event_dict[key] = _redact_value(value)
    if isinstance(event_dict.get("exception"), str):
        event_dict["exception"] = redact(event_dict["exception"]).text
    return event_dict
