"""Waldur's `/api/chat-system-prompts/`: staff keep several prompts; the active one reaches every turn."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from chatkeep.core.use_cases import system_prompts as prompt_use
from chatkeep.dialects.deps import DB, WaldurCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.pagination import page_request, paginated
from chatkeep.dialects.waldur.params import path_uuid
from chatkeep.dialects.waldur.schemas import (
    BadRequest,
    ErrorOut,
    SystemPromptIn,
    SystemPromptOut,
    SystemPromptPatch,
)

router = APIRouter(
    route_class=OffLoopJSONRoute,
    tags=["chat-system-prompts"],
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut, "description": "Not staff"}},
)
Text = Annotated[str | None, Query()]
ONE: dict[int | str, dict[str, Any]] = {
    200: {"model": SystemPromptOut},
    400: {"model": BadRequest},
    404: {"model": ErrorOut},
}


@router.get(
    "/chat-system-prompts/",
    operation_id="chat_system_prompts_list",
    response_model=None,
    responses={200: {"model": list[SystemPromptOut]}, 404: {"model": ErrorOut}},
)
async def list_prompts(
    request: Request, caller: WaldurCaller, db: DB, page: Text = None, page_size: Text = None
) -> JSONResponse:
    """The organisation's prompts, newest first, a page at a time."""
    paging = page_request(page, page_size)
    rows, total = await prompt_use.get_all(db, caller, limit=paging.size, offset=paging.offset)
    return paginated(request, [render.system_prompt(r) for r in rows], total=total, page=paging)


@router.head(
    "/chat-system-prompts/",
    operation_id="chat_system_prompts_count",
    response_class=Response,
    responses={200: {"description": "The count is in X-Result-Count"}},
)
async def count_prompts(caller: WaldurCaller, db: DB, page: Text = None, page_size: Text = None) -> Response:
    """How many prompts there are, in `X-Result-Count` (a HEAD has no body)."""
    _, total = await prompt_use.get_all(db, caller, limit=1, offset=0)
    return Response(status_code=200, headers={"X-Result-Count": str(total)})


@router.post(
    "/chat-system-prompts/",
    operation_id="chat_system_prompts_create",
    status_code=201,
    response_model=None,
    responses={201: {"model": SystemPromptOut}, 400: {"model": BadRequest}},
)
async def create_prompt(body: SystemPromptIn, caller: WaldurCaller, db: DB) -> JSONResponse:
    """Store a prompt; it is not used until activated."""
    row = await prompt_use.create(db, caller, body.model_dump())
    return JSONResponse(render.system_prompt(row), status_code=201)


@router.get(
    "/chat-system-prompts/{uuid}/",
    operation_id="chat_system_prompts_retrieve",
    response_model=None,
    responses=ONE,
)
async def get_prompt(uuid: str, caller: WaldurCaller, db: DB) -> dict[str, Any]:
    return render.system_prompt(await prompt_use.get(db, caller, path_uuid(uuid)))


@router.put(
    "/chat-system-prompts/{uuid}/",
    operation_id="chat_system_prompts_update",
    response_model=None,
    responses=ONE,
)
async def replace_prompt(uuid: str, body: SystemPromptIn, caller: WaldurCaller, db: DB) -> dict[str, Any]:
    """Replace a prompt's name, description and instructions."""
    return render.system_prompt(await prompt_use.update(db, caller, path_uuid(uuid), body.model_dump()))


@router.patch(
    "/chat-system-prompts/{uuid}/",
    operation_id="chat_system_prompts_partial_update",
    response_model=None,
    responses=ONE,
)
async def patch_prompt(uuid: str, body: SystemPromptPatch, caller: WaldurCaller, db: DB) -> dict[str, Any]:
    """Change only the fields given."""
    values = body.model_dump(exclude_unset=True)
    return render.system_prompt(await prompt_use.update(db, caller, path_uuid(uuid), values))


@router.delete(
    "/chat-system-prompts/{uuid}/",
    operation_id="chat_system_prompts_destroy",
    status_code=204,
    response_class=Response,
    responses={404: {"model": ErrorOut}},
)
async def delete_prompt(uuid: str, caller: WaldurCaller, db: DB) -> Response:
    """Delete a prompt (an active one stops being used)."""
    await prompt_use.delete(db, caller, path_uuid(uuid))
    return Response(status_code=204)


@router.post(
    "/chat-system-prompts/{uuid}/activate/",
    operation_id="chat_system_prompts_activate",
    response_model=None,
    responses=ONE,
)
async def activate_prompt(uuid: str, caller: WaldurCaller, db: DB) -> dict[str, Any]:
    """Make this the prompt every turn uses; any other active prompt is deactivated (a body is ignored)."""
    return render.system_prompt(await prompt_use.set_active(db, caller, path_uuid(uuid), active=True))


@router.post(
    "/chat-system-prompts/{uuid}/deactivate/",
    operation_id="chat_system_prompts_deactivate",
    response_model=None,
    responses=ONE,
)
async def deactivate_prompt(uuid: str, caller: WaldurCaller, db: DB) -> dict[str, Any]:
    """Stop using this prompt (a body is ignored)."""
    return render.system_prompt(await prompt_use.set_active(db, caller, path_uuid(uuid), active=False))
