"""PDF -> Markdown-style text: headings from font sizes, list items, title and dates from metadata."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

from virtuele_assistent.extract.model import ExtractedDocument, ExtractionError

_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·\-–*]|\d{1,2}[.)])\s+")
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")
_GENERATOR_TITLE = re.compile(r"^(microsoft (word|powerpoint)|untitled|naamloos|document\d*)\b", re.I)


@dataclass
class _Line:
    text: str
    size: float


def extract_pdf(data: bytes, url: str) -> ExtractedDocument:
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("versleuteld PDF-bestand")
        lines: list[_Line] = []
        for page in reader.pages:
            lines.extend(_page_lines(page))
        metadata = reader.metadata
        catalog_lang = reader.root_object.get("/Lang")
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise ExtractionError(f"beschadigd PDF-bestand ({type(error).__name__})") from None
    text, first_heading = _to_markdown(lines)
    if len(text.split()) < 4:
        raise ExtractionError("geen tekst in PDF (gescand document?)")
    meta_title = str(metadata.title).strip() if metadata and metadata.title else ""
    if _GENERATOR_TITLE.match(meta_title) or meta_title.lower().endswith((".doc", ".docx", ".pdf")):
        meta_title = ""
    modified = metadata.get("/ModDate") if metadata else None
    return ExtractedDocument(
        url=url,
        title=meta_title or first_heading or _first_line(text) or url,
        text=text,
        language=str(catalog_lang).split("-")[0].lower() if catalog_lang else None,
        last_modified=_pdf_date(str(modified)) if modified else None,
    )


def _page_lines(page) -> list[_Line]:  # type: ignore[no-untyped-def]
    fragments: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text:
            scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
            fragments.append((text, float(size or 0) * scale))

    page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    current, sizes = "", Counter[float]()
    for text, size in fragments:
        pieces = text.split("\n")
        for number, piece in enumerate(pieces):
            if number > 0:
                lines.append(_Line(current, _dominant(sizes)))
                current, sizes = "", Counter()
            current += piece
            if piece.strip():
                sizes[round(size, 1)] += len(piece.strip())
    lines.append(_Line(current, _dominant(sizes)))
    return [_Line(" ".join(line.text.split()), line.size) for line in lines]


def _dominant(sizes: Counter[float]) -> float:
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _to_markdown(lines: list[_Line]) -> tuple[str, str | None]:
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = _dominant(weights)
    heading_sizes = sorted(
        {
            line.size
            for line in lines
            if line.text and body and line.size >= body * 1.15 and _looks_like_heading(line.text)
        },
        reverse=True,
    )
    level_of = {size: min(index + 1, 4) for index, size in enumerate(heading_sizes)}
    blocks: list[str] = []
    paragraph: list[str] = []
    first_heading: str | None = None

    def flush() -> None:
        if paragraph:
            blocks.append(_join(paragraph))
            paragraph.clear()

    for line in lines:
        text = line.text
        if not text:
            flush()
            continue
        if line.size in level_of and _looks_like_heading(text):
            flush()
            first_heading = first_heading or text
            blocks.append("#" * level_of[line.size] + " " + text)
            continue
        bullet = _BULLET.match(text)
        if bullet:
            flush()
            blocks.append("- " + text[bullet.end() :])
            continue
        if blocks and blocks[-1].startswith("- ") and not paragraph and text[:1].islower():
            blocks[-1] = _join([blocks[-1], text])  # continuation of a wrapped list item
            continue
        paragraph.append(text)
    flush()
    # Consecutive list items form one block; other blocks are separated by a blank line.
    out: list[str] = []
    for block in blocks:
        if out and block.startswith("- ") and out[-1].split("\n")[-1].startswith("- "):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out).strip(), first_heading


def _looks_like_heading(text: str) -> bool:
    return 0 < len(text.split()) <= 14 and not text.rstrip().endswith((".", ",", ";"))


def _join(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        if text.endswith("-") and line[:1].islower():
            text = text[:-1] + line  # word hyphenated at the end of a line
        else:
            text += " " + line
    return text


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return line.lstrip("#- ").strip()[:200]
    return None


def _pdf_date(value: str) -> str | None:
    match = _PDF_DATE.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (
        g or default for g, default in zip(match.groups(), [None, "01", "01", "00", "00", "00"], strict=True)
    )
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}"
