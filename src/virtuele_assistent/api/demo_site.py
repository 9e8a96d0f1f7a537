"""Serves the demo municipality's website (demo/site) so the crawler can fetch it like any site.

``{{BASE_URL}}`` in text files (sitemap.xml, robots.txt) becomes the URL the site is served at,
taken from the request. Responses carry ETag and Last-Modified, so re-crawls get 304s.
"""

from __future__ import annotations

import hashlib
import mimetypes
from email.utils import formatdate
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from virtuele_assistent.api.errors import ApiError

PREFIX = "/demo-site"
PLACEHOLDER = b"{{BASE_URL}}"
TEXT_SUFFIXES = (".xml", ".txt", ".html", ".htm", ".css")


def mount_demo_site(app: FastAPI, root: Path) -> None:
    root = root.resolve()

    @app.get(PREFIX, include_in_schema=False)
    def demo_root() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=301)

    @app.get(PREFIX + "/{path:path}", include_in_schema=False)
    def demo_file(path: str, request: Request) -> Response:
        target = (root / (path or "index.html")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            raise ApiError(404, "Deze pagina van de demosite bestaat niet.")
        data = target.read_bytes()
        if target.suffix in TEXT_SUFFIXES and PLACEHOLDER in data:
            base = str(request.base_url).rstrip("/") + PREFIX
            data = data.replace(PLACEHOLDER, base.encode())
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {
            "ETag": etag,
            "Last-Modified": formatdate(target.stat().st_mtime, usegmt=True),
            "Cache-Control": "no-cache",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("xml"):
            media_type += "; charset=utf-8"
        return Response(data, media_type=media_type, headers=headers)
