"""GET a conversation whole, as JSON (every message version, tree links, verdicts, usage) or Markdown.

Bearer tokens as in the Quant dialect, scoped as its session GET is: the token's organisation must be the
one in the path, and a member token reaches only its own user's conversations.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from chatkeep.dialects.deps import DB, QuantCaller
from chatkeep.transfer.conversation import export_conversation

# Not under /api/chat…: that prefix is how errors are told to render in the Waldur shape.
PREFIX = "/native/v1/organisations/{organisation}"
router = APIRouter(prefix=PREFIX, tags=["chatkeep"])


@router.get(
    "/conversations/{conversation_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "The conversation",
            "content": {"application/json": {"schema": {"type": "object"}}, "text/markdown": {}},
        },
        404: {"description": "No such conversation: absent, expired, another user's or organisation's"},
    },
    operation_id="exportConversation",
)
async def export(
    conversation_id: uuid.UUID,
    caller: QuantCaller,  # Bearer tokens, the organisation in the path: as the Quant dialect
    db: DB,
    format: Annotated[Literal["json", "markdown"], Query(description="json or markdown")] = "json",
) -> Response:
    """Every version of every message with its parent and guard verdict, plus the usage rows (JSON), or the
    visible history for people to read (Markdown)."""
    async with db.read() as session:
        whole = await export_conversation(
            session, principal=caller.principal, conversation_id=conversation_id
        )
    filename = f"conversation-{conversation_id}"
    if format == "markdown":
        return PlainTextResponse(
            whole.as_markdown(),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{filename}.md"'},
        )
    body: dict[str, Any] = whole.as_json()
    return JSONResponse(body, headers={"Content-Disposition": f'inline; filename="{filename}.json"'})
