"""Build small real PDF and DOCX files for tests (no binary fixtures in the repository)."""

from __future__ import annotations

import io


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(
    pages: list[list[tuple[str, float]]], title: str | None = None, lang: str | None = "nl-NL"
) -> bytes:
    """A valid PDF: each page is a list of (line, font size) drawn top-down in Helvetica."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    page_ids: list[int] = []
    pages_id = len(objects) + 2 * len(pages) + 1
    for lines in pages:
        stream = b"BT\n"
        y = 800.0
        for text, size in lines:
            y -= size * 1.6
            stream += b"/F1 %.1f Tf 1 0 0 1 60 %.1f Tm " % (size, y) + _pdf_string(text) + b" Tj\n"
        stream += b"ET"
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
            )
        )
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    catalog = b"<< /Type /Catalog /Pages %d 0 R" % pages_id
    if lang:
        catalog += b" /Lang " + _pdf_string(lang)
    root = add(catalog + b" >>")
    info_body = b"<< /ModDate (D:20240315101500+01'00')"
    if title:
        info_body += b" /Title " + _pdf_string(title)
    info = add(info_body + b" >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, root, info, xref)
    )
    return out.getvalue()


def make_docx(build) -> bytes:  # type: ignore[no-untyped-def]
    """A DOCX written by python-docx; ``build(document)`` adds the content."""
    import docx

    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
