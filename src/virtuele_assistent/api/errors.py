"""Problem details (RFC 9457) for every error: readable Dutch text, never a stack trace."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from virtuele_assistent.validation import dutch_errors, plain_text

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

_DUTCH_TITLES = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    409: "Conflict",
    413: "Verzoek te groot",
    415: "Type niet ondersteund",
    422: "Ongeldige invoer",
    429: "Te veel verzoeken",
    500: "Interne fout",
    503: "Tijdelijk niet beschikbaar",
}


class ApiError(Exception):
    """Raise from routers for a problem response with a Dutch detail."""

    def __init__(
        self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra


def problem(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _DUTCH_TITLES.get(status, HTTPStatus(status).phrase),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    body = _plain(body)  # a detail, a field name or the path may quote what the client sent
    if request_id:  # also on a 500, which is answered outside the request-id middleware
        headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    fields = [
        {"field": item["field"] or "verzoek", "message": item["message"]} for item in dutch_errors(errors)
    ]
    if fields and fields[0]["field"] == "verzoek" and "JSON" in fields[0]["message"]:
        return "De inhoud van het verzoek is geen geldige JSON.", fields
    detail = "; ".join(f"'{f['field']}' {f['message']}" for f in fields[:5])
    return f"Controleer de invoer: {detail}.", fields


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (the router itself names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return problem(request, exc.status, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        if exc.status_code == 404 and detail is None:
            detail = "Deze pagina of dit onderdeel bestaat niet."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            detail = "Deze methode is hier niet toegestaan."
            headers["Allow"] = ", ".join(allowed_methods(request))
        if exc.status_code == 400:
            detail = "Het verzoek kon niet worden gelezen. Stuur geldige JSON in UTF-8."
        return problem(request, exc.status_code, detail or _DUTCH_TITLES.get(exc.status_code, ""), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, fields = describe_validation(list(exc.errors()))
        return problem(request, 422, detail, errors=fields)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("database.unavailable", error=str(exc).splitlines()[0])
        return problem(
            request,
            503,
            "De assistent is tijdelijk niet beschikbaar. Probeer het over een paar minuten opnieuw.",
            {"Retry-After": "30"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.failed", error_type=type(exc).__name__)
        return problem(request, 500, "Er ging iets mis aan onze kant. Probeer het later opnieuw.")
