"""The OpenAPI document says what the API really answers: every error as problem+json.

Routers declare the errors that belong to them (``responses=problems(401, 403)``); the ones any
operation can give are added here: 422 (invalid input), 500 and 503, and for an operation with a
body 400 (unreadable) and 413 (too large), and 404 for every path under a tenant. Error responses
are documented as ``application/problem+json`` with the ``Problem`` schema, as they are sent.
Every string a client sends (body, path, query) carries the pattern that refuses control
characters, because the API refuses them (``validation.NO_CONTROL_CHARACTERS``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from virtuele_assistent.api.errors import PROBLEM_JSON
from virtuele_assistent.validation import NO_CONTROL_CHARACTERS

DESCRIPTIONS = {
    400: "The request body cannot be read",
    401: "No valid token",
    403: "Not allowed for this caller, origin or tenant",
    404: "The tenant or the item does not exist",
    409: "Conflicts with the current state",
    413: "The body or the question is too large",
    422: "Invalid input; `errors` names the fields",
    429: "Too many requests; see Retry-After",
    500: "Unexpected error; `request_id` identifies it in the logs",
    503: "A dependency is unavailable; see Retry-After",
}


class Problem(BaseModel):
    """RFC 9457 problem details, with a Dutch ``detail``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router or route: these error statuses, documented as problem+json."""
    return {code: {"description": DESCRIPTIONS[code]} for code in codes}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                _complete(path, operation)
                _no_control_characters(operation, components)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    common = {422, 500, 503}
    if "requestBody" in operation:
        common |= {400, 413}
    if "{slug}" in path:
        common.add(404)
    for status in sorted(common):
        responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            response.setdefault("description", DESCRIPTIONS.get(int(code), "Error"))


def _no_control_characters(operation: dict[str, Any], components: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") in ("path", "query"):
            _restrict_strings(parameter.get("schema", {}), components, set())
    for media in operation.get("requestBody", {}).get("content", {}).values():
        _restrict_strings(media.get("schema", {}), components, set())


def _restrict_strings(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _restrict_strings(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
        name = reference.rsplit("/", 1)[1]
        if name not in seen and name in components:
            seen.add(name)
            _restrict_strings(components[name], components, seen)
        return
    if schema.get("type") == "string" and not {"format", "enum", "const"} & set(schema):
        if "pattern" not in schema:
            schema["pattern"] = NO_CONTROL_CHARACTERS
        elif schema["pattern"] != NO_CONTROL_CHARACTERS and "allOf" not in schema:
            schema["allOf"] = [{"pattern": NO_CONTROL_CHARACTERS}]  # both patterns hold
    for key, value in schema.items():
        if key in ("properties", "$defs", "patternProperties") and isinstance(value, dict):
            for item in value.values():
                _restrict_strings(item, components, seen)
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties", "not"):
            _restrict_strings(value, components, seen)
