"""What extraction produces, whatever the file type."""

from __future__ import annotations

from dataclasses import dataclass, field


class ExtractionError(ValueError):
    """The file cannot be used: empty, binary, too large or malformed. The message says why (Dutch)."""


@dataclass
class ExtractedDocument:
    url: str
    title: str
    text: str  # Markdown: '#' headings, '-' list items, '|' table rows
    language: str | None = None  # ISO 639-1
    last_modified: str | None = None  # ISO 8601 date(-time) from the file's own metadata
    meta: dict[str, str] = field(default_factory=dict)
