"""A small municipal test website on 127.0.0.1 with the traps a crawler meets in the wild."""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
import zlib
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def page(title: str, body: str, links: list[str] = (), head: str = "", charset: str = "utf-8") -> bytes:  # type: ignore[assignment]
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    html = (
        f'<!DOCTYPE html><html lang="nl"><head><meta charset="{charset}"><title>{title}</title>{head}</head>'
        f"<body><nav><ul>{anchors}</ul></nav><main><h1>{title}</h1>{body}</main></body></html>"
    )
    return html.encode(charset)


def tiny_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF with a line of text (Helvetica), xref offsets computed."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def tiny_docx(title: str, text: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


PASPOORT = "<p>Een paspoort voor volwassenen kost € 84,50. U vraagt het aan bij de balie in het stadhuis.</p>"


class TestSite:
    __test__ = False
    """Pages live in ``self.pages`` (path -> (content type, bytes)); tests change them between crawls."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.headers_seen: dict[str, dict[str, str]] = {}
        self.flaky_left: dict[str, int] = {"/drukte.html": 1, "/te-vaak.html": 1}
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.build()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TestSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def html(self, path: str, title: str, body: str, links: list[str] = (), **kw: Any) -> None:  # type: ignore[assignment]
        self.pages[path] = ("text/html; charset=utf-8", page(title, body, list(links), **kw))

    def build(self) -> None:
        b = self.base
        self.html(
            "/",
            "Gemeente Teststad",
            "<p>Welkom bij de gemeente Teststad. Hier vindt u informatie over producten en diensten.</p>",
            [
                "/paspoort.html#kosten",
                "/paspoort.html?utm_source=nieuwsbrief&utm_medium=email",
                "rijbewijs.html",
                "/afval/",
                "/geheim/notulen.html",
                "/agenda?maand=1",
                "/lus-a",
                "/groot.html",
                "/nog-groter.html",
                "/traag.html",
                "/latin1.html",
                "/kapot.html",
                "/drukte.html",
                "/te-vaak.html",
                "/folder.pdf",
                "/formulier.docx",
                "/kopie.html",
                "/verdwijnt.html",
                "/naar-intern",
                "/foto.jpg",
                "http://example.org/elders",
                "mailto:info@teststad.nl",
            ],
        )
        self.html("/paspoort.html", "Paspoort aanvragen", PASPOORT, ["/"])
        self.html(
            "/rijbewijs.html",
            "Rijbewijs verlengen",
            "<p>Uw rijbewijs verlengen kost € 52,40. Vraag het online aan met DigiD.</p>",
            ["/", "/oud.html"],
        )
        self.html(
            "/afval/",
            "Afval en grofvuil",
            "<p>Grofvuil laat u gratis ophalen. Maak een afspraak via de website of bel 14 0123.</p>",
            ["/afval/index.html", "../"],
        )
        self.html("/oud.html", "Oude regeling", "<p>Deze regeling voor hondenbelasting geldt tot 2027.</p>")
        self.html(
            "/verdwijnt.html", "Tijdelijke pagina", "<p>De tijdelijke parkeerregeling voor de markt.</p>"
        )
        self.html("/geheim/notulen.html", "Geheim", "<p>Deze pagina mag niet gecrawld worden.</p>")
        self.html(
            "/kopie.html",
            "Paspoort aanvragen (kopie)",
            PASPOORT,
            head=f'<link rel="canonical" href="{b}/paspoort.html">',
        )
        latin = page(
            "Hondenbelasting",
            "<p>De hondenbelasting is € 120 per jaar. Ook voor een tweede hond betaalt u belasting.</p>",
            charset="cp1252",
        ).replace(b'<meta charset="cp1252">', b"")
        self.pages["/latin1.html"] = ("text/html", latin)
        self.pages["/kapot.html"] = (
            "text/html; charset=utf-8",
            b"<html><body><main><h1>Parkeren<p>Een parkeervergunning voor bewoners kost "
            b"\xe2\x82\xac 60 per jaar"
            b"<div><table><tr><td>zone A<td>zone B</table><a href='/paspoort.html'>paspoort<a href=/afval/>",
        )
        self.pages["/drukte.html"] = (
            self.pages["/paspoort.html"][0],
            page("Drukte", "<p>Op maandag is het druk aan de balie van het stadhuis van Teststad.</p>"),
        )
        self.pages["/te-vaak.html"] = (
            self.pages["/paspoort.html"][0],
            page("Bijstand", "<p>Bijstand vraagt u aan als u niet genoeg inkomen heeft om van te leven.</p>"),
        )
        self.pages["/folder.pdf"] = (
            "application/pdf",
            tiny_pdf("Folder over de afvalkalender van Teststad 2026"),
        )
        self.pages["/formulier.docx"] = (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            tiny_docx(
                "Aanvraagformulier evenement", "Vul dit formulier in om een evenementenvergunning te vragen."
            ),
        )
        self.pages["/robots.txt"] = (
            "text/plain",
            f"User-agent: *\nDisallow: /geheim/\n\nSitemap: {b}/sitemap_index.xml\n".encode(),
        )
        self.pages["/sitemap_index.xml"] = (
            "application/xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{b}/sitemap-paginas.xml</loc></sitemap>"
                f"<sitemap><loc>{b}/sitemap-extra.xml.gz</loc></sitemap></sitemapindex>"
            ).encode(),
        )
        self.pages["/sitemap-paginas.xml"] = (
            "application/xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{b}/paspoort.html</loc><lastmod>2026-01-10</lastmod></url>"
                f"<url><loc>{b}/alleen-sitemap.html</loc></url></urlset>"
            ).encode(),
        )
        self.pages["/sitemap-extra.xml.gz"] = (
            "application/gzip",
            gzip_bytes(
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{b}/wijzigt.html</loc></url></urlset>".encode()
            ),
        )
        self.html(
            "/alleen-sitemap.html",
            "Verhuizing doorgeven",
            "<p>Geef uw verhuizing binnen 5 dagen door aan de gemeente Teststad.</p>",
        )
        self.html(
            "/wijzigt.html", "Openingstijden", "<p>Het stadhuis is op maandag open van 9:00 tot 17:00.</p>"
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self,
                status: int,
                body: bytes = b"",
                ctype: str = "text/html",
                extra: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                query = self.path.partition("?")[2]
                site.requests[path] += 1
                site.headers_seen[path] = {k.lower(): v for k, v in self.headers.items()}
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._route(path, query)

            def _route(self, path: str, query: str) -> None:
                if path == "/agenda":
                    month = int((query.split("=")[1] if "=" in query else "1") or 1)
                    body = page(
                        f"Agenda maand {month}",
                        f"<p>Evenementen in maand {month} in Teststad: markt, concert en braderie.</p>",
                        [f"/agenda?maand={month + 1}", f"/agenda?maand={month - 1}"],
                    )
                    return self._send(200, body)
                if path in ("/lus-a", "/lus-b"):
                    target = "/lus-b" if path == "/lus-a" else "/lus-a"
                    return self._send(302, extra={"Location": target})
                if path == "/naar-intern":
                    return self._send(302, extra={"Location": f"http://127.0.0.2:{site.port}/intern"})
                if path in ("/groot.html", "/nog-groter.html"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    if path == "/nog-groter.html":
                        self.send_header("Content-Length", str(50 * 1024 * 1024))
                    else:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"<p>" + b"x" * 65536 + b"</p>"
                    for _ in range(800):  # 50 MB, unless the client hangs up first
                        self.wfile.write(chunk)
                    return None
                if path == "/traag.html":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100):  # one byte now and then: a slow-loris answer
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        time.sleep(0.25)
                    return None
                if path in site.flaky_left and site.flaky_left[path] > 0:
                    site.flaky_left[path] -= 1
                    status = 503 if path == "/drukte.html" else 429
                    return self._send(status, b"even geduld", extra={"Retry-After": "1"})
                if path not in site.pages:
                    return self._send(404, b"<h1>Niet gevonden</h1>")
                ctype, body = site.pages[path]
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                headers = {"ETag": etag, "Last-Modified": formatdate(1767225600, usegmt=True)}
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._send(200, body, ctype, headers)

        return Handler


def gzip_bytes(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()
