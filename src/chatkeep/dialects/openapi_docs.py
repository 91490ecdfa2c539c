"""The OpenAPI document as chatkeep really answers: each dialect's auth scheme and error bodies.

FastAPI documents a validation failure as 422 `HTTPValidationError` and the `Authorization` header as a
free-form parameter. chatkeep answers 400 (with each dialect's own body, see dialects.errors), 401 for
missing or bad tokens, 413 for oversized bodies and 429 over a limit, and its tokens are security
schemes. This rewrites every operation accordingly, once, when the document is first built. Route
decorators declare what is specific to a route (404, 502, stream media types) with a description only;
the error body schema is filled in here, by dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from chatkeep.dialects.errors import WALDUR_PREFIX, is_openai

BEARER = "bearerAuth"
TOKEN = "tokenAuth"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "A chatkeep API token: `Authorization: Bearer <token>` (Quant and OpenAI dialects).",
    },
    TOKEN: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A chatkeep API token, DRF style: `Authorization: Token <token>` (Waldur dialect).",
    },
}
QUANT_ERROR = {
    "type": "object",
    "title": "QuantError",
    "description": "Every Quant error; `field` names the offending input, `errors` lists each one.",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable machine-readable code"},
        "message": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"}},
            },
        },
    },
}
OPENAI_ERROR = {
    "type": "object",
    "title": "OpenAIError",
    "description": "Every OpenAI-dialect error, in OpenAI's shape; `param` names the offending input.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
WALDUR_DETAIL = {
    "type": "object",
    "title": "WaldurError",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}
WALDUR_FIELDS = {
    "type": "object",
    "title": "WaldurFieldErrors",
    "description": "DRF's validation body: each invalid field with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
DESCRIPTIONS = {
    400: "Invalid input (malformed JSON, a wrong type, a value out of range, an unstorable character)",
    401: "Missing, malformed, unknown or revoked token",
    403: "The token may not do this (another organisation's path, or a role without the right)",
    413: "The request body is over the size limit",
    415: "The request body is not JSON",
    429: "Over the organisation's request rate or token quota",
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the corrected document."""
    build: Callable[[], dict[str, Any]] = app.openapi
    rewritten: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = build()  # cached by FastAPI until a route is added; rewrite each new one once
        if not rewritten or rewritten[-1] is not document:
            rewrite(document)
            rewritten[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def rewrite(document: dict[str, Any]) -> None:
    """Security schemes, and each operation's error responses in its dialect's shape."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(
        QuantError=QUANT_ERROR,
        OpenAIError=OPENAI_ERROR,
        WaldurError=WALDUR_DETAIL,
        WaldurFieldErrors=WALDUR_FIELDS,
    )
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            dialect = "waldur" if path.startswith(WALDUR_PREFIX) else "openai" if is_openai(path) else "quant"
            _rewrite_operation(dialect, operation)
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _rewrite_operation(dialect: str, operation: dict[str, Any]) -> None:
    waldur = dialect == "waldur"
    params = operation.get("parameters", [])
    authenticated = any(p.get("in") == "header" and p.get("name") == "authorization" for p in params)
    operation["parameters"] = [p for p in params if p.get("name") != "authorization"]
    if not operation["parameters"]:
        del operation["parameters"]
    responses = operation.setdefault("responses", {})
    if "HTTPValidationError" in str(responses.get("422", {})):
        del responses["422"]  # FastAPI's; validation failures are 400 in every dialect
    codes: list[int] = []
    if operation.get("parameters") or "requestBody" in operation:
        codes.append(400)
    if authenticated:
        operation["security"] = [{TOKEN if waldur else BEARER: []}]
        codes += [401, 429] if waldur else [401, 403, 429]
    if "requestBody" in operation:
        codes += [413, 415]
    for code in codes:
        responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
    for status, response in responses.items():
        if status[0] in "45" and not _has_schema(response):
            response["content"] = {"application/json": {"schema": _error_schema(dialect, status)}}


def _has_schema(response: dict[str, Any]) -> bool:
    return any(media.get("schema") for media in response.get("content", {}).values())


def _error_schema(dialect: str, status: str) -> dict[str, Any]:
    if dialect == "openai":
        return {"$ref": "#/components/schemas/OpenAIError"}
    if dialect == "quant":
        return {"$ref": "#/components/schemas/QuantError"}
    detail = {"$ref": "#/components/schemas/WaldurError"}
    if status == "400":
        return {"anyOf": [{"$ref": "#/components/schemas/WaldurFieldErrors"}, detail]}
    return detail
