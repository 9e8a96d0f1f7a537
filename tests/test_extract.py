"""Extraction of HTML, PDF and DOCX: main text, title, headings, lists, tables, language, date."""

import pytest

from tests.documents import make_docx, make_pdf
from virtuele_assistent.chunking import chunk_document
from virtuele_assistent.extract import ExtractionError, extract, file_kind

PDF_PAGES = [
    [
        ("Parkeervergunning aanvragen", 20),
        ("Wat kost het?", 14),
        ("Een parkeervergunning voor bewoners kost € 120,00 per jaar. U betaalt per", 10),
        ("kwartaal. De vergunning hoort bij het kenteken van uw eigen auto.", 10),
        ("Wat heeft u nodig?", 14),
        ("• uw DigiD", 10),
        ("• het kenteken van de auto", 10),
    ],
    [
        ("Bezwaar maken", 14),
        ("Bent u het niet eens met een besluit? Dan kunt u binnen zes weken bezwaar maken.", 10),
    ],
]


def test_pdf_keeps_title_headings_lists_language_and_date() -> None:
    data = make_pdf(PDF_PAGES, title="Microsoft Word - parkeren.docx")
    assert file_kind("https://www.meppel.nl/download?id=7", None, data) == "pdf"
    doc = extract(data, "https://www.meppel.nl/parkeren.pdf", "application/pdf")
    assert doc.title == "Parkeervergunning aanvragen"  # the generator's title is ignored
    assert doc.language == "nl"
    assert doc.last_modified == "2024-03-15T10:15:00"
    assert "## Wat kost het?" in doc.text and "## Bezwaar maken" in doc.text
    assert "U betaalt per kwartaal." in doc.text  # wrapped lines joined into one paragraph
    assert "- uw DigiD\n- het kenteken van de auto" in doc.text
    paths = {c.heading_path for c in chunk_document(doc)}
    assert "Parkeervergunning aanvragen > Bezwaar maken" in paths


def test_pdf_title_from_metadata_and_language_detected_when_not_declared() -> None:
    data = make_pdf(
        [[("Moving to Meppel", 18), ("When you move to Meppel you must register at the town hall.", 10)]],
        title="Moving to Meppel",
        lang=None,
    )
    doc = extract(data, "https://www.meppel.nl/moving.pdf")
    assert doc.title == "Moving to Meppel" and doc.language == "en"


def test_docx_keeps_headings_lists_and_tables() -> None:
    def build(document):  # type: ignore[no-untyped-def]
        document.core_properties.title = "Afvalstoffenheffing 2025"
        document.core_properties.language = "nl-NL"
        document.add_heading("Tarieven", 1)
        document.add_paragraph("De afvalstoffenheffing hangt af van het aantal bewoners.")
        table = document.add_table(rows=3, cols=2)
        for row, (who, amount) in enumerate(
            [("Huishouden", "Bedrag"), ("Eenpersoons", "€ 300,00"), ("Meerpersoons", "€ 400,00")]
        ):
            table.cell(row, 0).text, table.cell(row, 1).text = who, amount
        document.add_heading("Kwijtschelding", 1)
        document.add_paragraph("U vraagt kwijtschelding aan als:", style="Normal")
        document.add_paragraph("uw inkomen laag is", style="List Bullet")
        document.add_paragraph("u geen vermogen heeft", style="List Bullet")

    doc = extract(make_docx(build), "https://www.meppel.nl/heffing.docx")
    assert doc.title == "Afvalstoffenheffing 2025" and doc.language == "nl"
    assert doc.last_modified
    assert "# Tarieven" in doc.text and "# Kwijtschelding" in doc.text
    assert "| Eenpersoons | € 300,00 |" in doc.text
    assert "- uw inkomen laag is\n- u geen vermogen heeft" in doc.text
    chunks = chunk_document(doc)
    table_chunk = next(c for c in chunks if "€ 400,00" in c.text)
    assert table_chunk.heading_path == "Afvalstoffenheffing 2025 > Tarieven"
    assert "| Eenpersoons | € 300,00 |" in table_chunk.text  # the table stays whole


def test_html_main_content_language_and_date() -> None:
    html = (
        '<!doctype html><html lang="nl-NL"><head><title>Grofvuil | Gemeente Meppel</title>'
        '<meta name="dcterms.modified" content="2025-01-02"></head><body>'
        "<nav><a href='/'>Home</a> <a href='/contact'>Contact</a></nav>"
        "<main><h1>Grofvuil</h1><p>Grofvuil wordt op afspraak opgehaald. Ophalen kost € 25,00 per keer."
        " U maakt de afspraak online of telefonisch. Zet het grofvuil voor 7.30 uur aan de straat.</p>"
        "<h2>Wat mag mee?</h2><p>De ophaaldienst neemt grote spullen mee die niet in de container"
        " passen.</p><ul><li>meubels en kasten</li><li>matrassen</li></ul></main>"
        "<footer>Cookies en privacy</footer></body></html>"
    ).encode()
    doc = extract(html, "https://www.meppel.nl/grofvuil")
    assert doc.language == "nl" and doc.last_modified == "2025-01-02"
    assert "Grofvuil" in doc.title and "Cookies" not in doc.text and "Contact" not in doc.text
    assert "- meubels en kasten\n- matrassen" in doc.text and "## Wat mag mee?" in doc.text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("leeg.pdf", b"", "leeg"),
        ("kapot.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF", "PDF"),
        ("kapot.docx", b"PK\x03\x04 dit is geen zip", "DOCX"),
        ("plaatje.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binair"),
        ("groot.html", b"<p>a</p>" * (10 * 1024 * 1024 // 8 + 1), "groter dan 10 MB"),
        ("scan.pdf", make_pdf([[(" ", 10)]]), "geen tekst"),
    ],
)
def test_bad_files_raise_a_readable_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract(data, f"https://www.meppel.nl/{name}")
