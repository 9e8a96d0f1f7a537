"""Raw files (HTML, Markdown, PDF, DOCX) -> clean text with title, headings and metadata."""

from virtuele_assistent.extract.document import MAX_BYTES, extract, file_kind
from virtuele_assistent.extract.model import ExtractedDocument, ExtractionError

__all__ = ["MAX_BYTES", "ExtractedDocument", "ExtractionError", "extract", "file_kind"]
