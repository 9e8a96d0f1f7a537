"""Raw files (HTML, Markdown, PDF, DOCX) -> clean text with title, headings and metadata."""

from virtuele_assistent.extract.document import ExtractedDocument, ExtractionError, extract

__all__ = ["ExtractedDocument", "ExtractionError", "extract"]
