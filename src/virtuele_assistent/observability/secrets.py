"""No credential and no conversation id in any log line, whoever writes it.

Tokens reach log lines by accident: the ASGI server logs a WebSocket's path with its query string
(``/ws?token=…``), a client library logs a header, an error message quotes a request. A
conversation id is the handle on a resident's conversation. So every log event is scrubbed:
``token``-like query parameters and JSON Web Tokens become ``[token]``, bearer credentials
``Bearer [token]``, and a conversation id is replaced by a short digest. The digest is a plain
SHA-256: the id is 128 random bits, so the digest cannot be turned back, while staff who know an
id can still find its lines (``va logs-id <id>`` prints the digest).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote

_QUERY_SECRET = re.compile(r"(?i)([?&;](?:token|access_token|resume_token|key|api_key)=)[^&\s\"'<>]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]+=*")
_ID_KEY = re.compile(r"(^|_)conversation_id$")
# an id in a channel name or path (conversation:<id>, /conversations/<id>) or a JSON text
_TEXT_ID = re.compile(r"""(conversations?[:/]|conversation_id\\?["']?\s*[:=]\s*\\?["']?)([0-9a-f]{32})\b""")


def log_digest(conversation_id: str) -> str:
    """What the logs show instead of a conversation id."""
    return "c-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:16]


def scrub_text(text: str) -> str:
    """The text without credentials or conversation ids, in any spelling a URL allows: a text with
    percent-encoding is also read decoded (up to three times, for ``%2574oken``); when that reveals
    a secret, the decoded text is what is logged, scrubbed."""
    scrubbed = _scrub_plain(text)
    if "%" not in text:
        return scrubbed
    decoded = text
    for _ in range(3):
        decoded, before = unquote(decoded), decoded
        if decoded == before:
            break
    clean = _scrub_plain(decoded)
    return clean if clean != decoded else scrubbed


def _scrub_plain(text: str) -> str:
    text = _QUERY_SECRET.sub(r"\1[token]", text)
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1 [token]", text)
    return _TEXT_ID.sub(lambda match: match.group(1) + log_digest(match.group(2)), text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """A structlog processor: removes credentials and replaces conversation ids by their digest."""
    for key, value in list(event_dict.items()):
        if _ID_KEY.search(key) and isinstance(value, str) and value:
            event_dict[key] = log_digest(value)
        else:
            event_dict[key] = _scrub(value)
    return event_dict
