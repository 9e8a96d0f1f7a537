"""DOCX -> Markdown-style text with headings, list items and tables (python-docx)."""

from __future__ import annotations

import io
import re
import zipfile

from virtuele_assistent.extract.model import ExtractedDocument, ExtractionError

_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*(\d)$", re.I)
_LIST_STYLE = re.compile(r"^(?:list|lijst)", re.I)


def extract_docx(data: bytes, url: str) -> ExtractedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ExtractionError(f"beschadigd DOCX-bestand ({type(error).__name__})") from None
    except Exception as error:  # python-docx raises its own and lxml errors for broken parts
        raise ExtractionError(f"beschadigd DOCX-bestand ({type(error).__name__})") from None

    blocks: list[str] = []
    title = ""
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text = " ".join(paragraph.text.split())
            if not text:
                continue
            style = paragraph.style.name if paragraph.style is not None else ""
            heading = _HEADING_STYLE.match(style or "")
            if style in ("Title", "Titel"):
                title = title or text
                blocks.append(f"# {text}")
            elif heading:
                blocks.append("#" * min(int(heading.group(1)), 6) + " " + text)
            elif (
                _LIST_STYLE.match(style or "")
                or paragraph._p.pPr is not None
                and paragraph._p.pPr.numPr is not None
            ):
                blocks.append(f"- {text}")
            else:
                blocks.append(text)
        elif tag == "tbl":
            rows = _table_rows(Table(element, document))
            if rows:
                blocks.append("\n".join(rows))
    text = _join_blocks(blocks)
    if len(text.split()) < 4:
        raise ExtractionError("geen tekst in DOCX")
    properties = document.core_properties
    first_heading = next((b.lstrip("#").strip() for b in blocks if b.startswith("#")), None)
    modified = properties.modified or properties.created
    return ExtractedDocument(
        url=url,
        title=(properties.title or "").strip() or title or first_heading or url,
        text=text,
        language=(properties.language or "").split("-")[0].lower() or None,
        last_modified=modified.isoformat() if modified else None,
    )


def _table_rows(table) -> list[str]:  # type: ignore[no-untyped-def]
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            value = " ".join(cell.text.split()).replace("|", "/")
            if not cells or cells[-1] != value:  # merged cells repeat their text
                cells.append(value)
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
            if len(rows) == 1:
                rows.append("|" + "---|" * len(cells))
    return rows


def _join_blocks(blocks: list[str]) -> str:
    out: list[str] = []
    for block in blocks:
        if out and block.startswith("- ") and out[-1].split("\n")[-1].startswith("- "):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out).strip()
