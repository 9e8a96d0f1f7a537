"""Personal data detection and redaction (AVG) and the protocol schema file."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from virtuele_assistent.conversations.privacy import redact


@pytest.mark.parametrize(
    ("text", "kind", "raw"),
    [
        ("Mijn BSN is 123456782.", "bsn", "123456782"),
        ("bsn: 111.222.333 graag", "bsn", "111.222.333"),
        ("burgerservicenummer 12345678 klopt", "bsn", "12345678"),
        ("Rekening NL02ABNA0123456789 en verder", "iban", "NL02ABNA0123456789"),
        ("IBAN NL02 ABNA 0123 4567 89 graag", "iban", "NL02 ABNA 0123 4567 89"),
        ("Bel 06-12345678 terug", "phone", "06-12345678"),
        ("Bel +31 6 12345678", "phone", "+31 6 12345678"),
        ("vast nummer 020 555 1234 ", "phone", "020 555 1234"),
        ("mail j.devries@example.com", "email", "j.devries@example.com"),
        ("Ik woon op 1234 AB 12a", "address", "1234 AB 12a"),
        ("adres Kerkstraat 1 in het dorp", "address", "Kerkstraat 1"),
        ("Lange Nieuwstraat 3b", "address", "Nieuwstraat 3b"),
        ("Hallo, ik ben Jan de Vries", "name", "Jan de Vries"),
    ],
)
def test_personal_data_is_redacted(text: str, kind: str, raw: str) -> None:
    result = redact(text)
    assert result.found.get(kind), (text, result)
    assert raw not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "Een paspoort kost € 84,50 en is 10 jaar geldig.",
        "Bel de gemeente op 14 0522.",  # a municipal number is public, but a match would be harmless
        "In 2024 en 2025 gelden andere tarieven.",
        "Het kost 123456789 euro",  # nine digits failing the 11-proef
        "Binnen de weg 5 keer per jaar",
        "Wat kost een parkeervergunning voor 2 auto's?",
    ],
)
def test_ordinary_text_keeps_its_numbers(text: str) -> None:
    result = redact(text)
    assert result.found.get("bsn") is None and result.found.get("iban") is None
    assert result.found.get("address") is None
    if "14 0522" not in text:
        assert result.text == text


def test_protocol_schema_file_is_current() -> None:
    from virtuele_assistent.conversations.protocol import json_schema

    stored = json.loads((REPO / "docs" / "chat-protocol.schema.json").read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps(json_schema())), "regenerate docs/chat-protocol.schema.json"


def test_a_log_line_keeps_the_platforms_ids_and_redacts_personal_data_under_any_key() -> None:
    from virtuele_assistent.conversations.privacy import structlog_processor

    event = structlog_processor(
        None,
        "info",
        {
            "event": "job.started",
            "job_id": "c58edde1f3e64a2c8d60b92584ab",  # ends like a postcode: still the job's id
            "worker": "va-1:4242:2584ab",
            "detail": "Bezoekadres Stadhuisplein 1, 2584 AB Voorbeeldstad",
            "user_id": "111222333",  # a BSN under an id's key
            "payment_id": "NL91ABNA0417164300",
            "source_id": "jan@example.com",
        },
    )
    assert event["job_id"] == "c58edde1f3e64a2c8d60b92584ab" and event["worker"] == "va-1:4242:2584ab"
    assert "2584 AB" not in event["detail"]
    assert (event["user_id"], event["payment_id"], event["source_id"]) == ("[BSN]", "[IBAN]", "[E-MAILADRES]")
