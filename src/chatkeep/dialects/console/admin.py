"""Administration pages (admin tokens only): the organisation's AI config and its API tokens."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chatkeep.core import org_config
from chatkeep.core.api_tokens import IssuedToken
from chatkeep.core.errors import ChatkeepError
from chatkeep.core.use_cases import api_tokens
from chatkeep.core.use_cases import org_config as config_use_cases
from chatkeep.dialects.console.deps import Acting, SignedIn, Visitor
from chatkeep.dialects.console.security import PREFIX
from chatkeep.dialects.console.templating import page
from chatkeep.dialects.deps import DB, Registry
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.providers.registry import ModelRegistry
from chatkeep.storage.database import Database

router = APIRouter(route_class=OffLoopJSONRoute, prefix="/admin")
NUMBER_FIELDS = {
    "max_tokens": int,
    "requests_per_minute": int,
    "monthly_token_quota": int,
    "temperature": float,
}
CONFIG_FIELDS = (
    "enabled_models",
    "default_model",
    "max_tokens",
    "temperature",
    "system_prompt",
    "guard_policy",
    "requests_per_minute",
    "monthly_token_quota",
)


def _forbidden(request: Request, visitor: Visitor) -> HTMLResponse:
    return page(
        request,
        "error.html",
        {"visitor": visitor, "title": "Admins only", "message": "Administration needs an admin token."},
        status_code=403,
    )


def _config_form(config: org_config.AIConfig) -> dict[str, str]:
    values = config.model_dump()
    form = {name: "" if values.get(name) is None else str(values[name]) for name in CONFIG_FIELDS}
    form["guard_policy"] = json.dumps(config.guard_policy, indent=2) if config.guard_policy else ""
    return form


def _config_page(
    request: Request,
    registry: ModelRegistry,
    visitor: Visitor,
    form: dict[str, str],
    enabled: list[str],
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "section": "config",
        "visitor": visitor,
        "form": form,
        "enabled": set(enabled),
        "models": registry.models(),
        "errors": errors or {},
        "saved": saved,
    }
    return page(request, "admin_config.html", context, status_code=status_code)


@router.get("/config", response_class=HTMLResponse)
async def config_page(
    request: Request, visitor: SignedIn, registry: Registry, saved: bool = False
) -> HTMLResponse:
    """The organisation's AI config as a form."""
    if not visitor.is_admin:
        return _forbidden(request, visitor)
    config = config_use_cases.get(visitor.caller)
    return _config_page(request, registry, visitor, _config_form(config), config.enabled_models, saved=saved)


def _parse_config(form: dict[str, str], enabled: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The changes the form asks for, and per-field errors for values that are not even numbers or JSON."""
    changes: dict[str, Any] = {"enabled_models": enabled}
    errors: dict[str, str] = {}
    for name in ("default_model", "system_prompt"):
        changes[name] = form.get(name, "").strip() or None
    for name, kind in NUMBER_FIELDS.items():
        text = form.get(name, "").strip()
        try:
            changes[name] = kind(text) if text else None
        except ValueError:
            errors[name] = f"must be {'a whole number' if kind is int else 'a number'}"
    policy = form.get("guard_policy", "").strip()
    try:
        changes["guard_policy"] = json.loads(policy) if policy else None
    except ValueError as exc:
        errors["guard_policy"] = f"not valid JSON: {exc}"
    if changes.get("guard_policy") is not None and not isinstance(changes["guard_policy"], dict):
        errors["guard_policy"] = "must be a JSON object"
    return changes, errors


@router.post("/config", response_model=None)
async def save_config(request: Request, visitor: Acting, db: DB, registry: Registry) -> Response:
    """Validate and store the config; errors are shown next to their field."""
    if not visitor.is_admin:
        return _forbidden(request, visitor)
    submitted = await request.form()
    form = {name: str(submitted.get(name, "")) for name in CONFIG_FIELDS if name != "enabled_models"}
    enabled = [str(v) for v in submitted.getlist("enabled_models")]
    changes, errors = _parse_config(form, enabled)
    if not errors:
        try:
            await config_use_cases.update(
                db, visitor.caller, changes=changes, known_models={m.id for m in registry.models()}
            )
        except ChatkeepError as exc:
            field = (exc.field or "").split(".")[0]
            errors[field if field in CONFIG_FIELDS else "form"] = exc.message
    if errors:
        # 200, as any form shown again with its mistakes marked: the page itself loaded fine.
        return _config_page(request, registry, visitor, form, enabled, errors=errors)
    return RedirectResponse(f"{PREFIX}/admin/config?saved=true", status_code=303)


async def _tokens_page(
    request: Request,
    db: Database,
    visitor: Visitor,
    *,
    issued: IssuedToken | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = await api_tokens.get_all(db, visitor.caller)
    context = {"section": "tokens", "visitor": visitor, "tokens": listed, "issued": issued, "error": error}
    return page(request, "admin_tokens.html", context, status_code=status_code)


@router.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, visitor: SignedIn, db: DB) -> HTMLResponse:
    """The organisation's API tokens, and a form to issue one."""
    if not visitor.is_admin:
        return _forbidden(request, visitor)
    return await _tokens_page(request, db, visitor)


@router.post("/tokens", response_class=HTMLResponse)
async def create_token(request: Request, visitor: Acting, db: DB) -> HTMLResponse:
    """Issue a token and show its secret, this once."""
    if not visitor.is_admin:
        return _forbidden(request, visitor)
    form = await request.form()
    try:
        issued = await api_tokens.create(
            db,
            visitor.caller,
            user_id=str(form.get("user_id", "")),
            role=str(form.get("role", "member")),
            name=str(form.get("name", "")).strip() or None,
        )
    except ChatkeepError as exc:
        return await _tokens_page(request, db, visitor, error=exc.message)
    return await _tokens_page(request, db, visitor, issued=issued)


@router.post("/tokens/{token_id}/revoke", response_model=None)
async def revoke_token(request: Request, visitor: Acting, db: DB, token_id: uuid.UUID) -> Response:
    """Revoke a token: it, and every console session opened with it, stop working at once."""
    if not visitor.is_admin:
        return _forbidden(request, visitor)
    try:
        await api_tokens.revoke(db, visitor.caller, token_id)
    except ChatkeepError as exc:
        return await _tokens_page(request, db, visitor, error=exc.message, status_code=404)
    return RedirectResponse(f"{PREFIX}/admin/tokens", status_code=303)
