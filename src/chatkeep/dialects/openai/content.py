"""OpenAI content parts (chat `image_url`/`file`, Responses `input_image`/`input_file`) as provider blocks.

Media arrive as data URLs only (`data:image/png;base64,…`): chatkeep fetches nothing from the network
on a caller's behalf. Sizes count against one budget per request, as in the Quant dialect.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from chatkeep.core.errors import InvalidInput, PayloadTooLarge
from chatkeep.dialects.quant.content import FORMATS, MAX_PART_BYTES, new_budget
from chatkeep.providers.base import ContentBlock, MediaBlock, TextBlock

__all__ = ["Budget", "new_budget", "parse_parts", "text_of"]

Budget = Any  # quant.content's byte budget; only `take(size)` is used
_MIME_FORMATS = {"jpg": "jpeg", "plain": "txt", "markdown": "md"}
# Part types whose text is taken as is (what a client echoes back of earlier answers included).
TEXT_PARTS = frozenset({"text", "input_text", "output_text"})


def parse_parts(content: str | list[Any] | None, where: str, budget: Budget) -> tuple[ContentBlock, ...]:
    """Blocks for one message's content; `where` names it in errors (`messages.2.content`)."""
    if content is None:
        return (TextBlock(""),)
    if isinstance(content, str):
        return (TextBlock(content),)
    if not content:
        raise InvalidInput("content must not be an empty list", field=where)
    return tuple(_part(p, f"{where}.{i}", budget) for i, p in enumerate(content))


def text_of(blocks: tuple[ContentBlock, ...]) -> str:
    return "".join(b.text for b in blocks if isinstance(b, TextBlock))


def _part(part: Any, where: str, budget: Budget) -> ContentBlock:
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        raise InvalidInput("each content part must be an object with a type", field=where)
    kind = part["type"]
    if kind in TEXT_PARTS:
        text = part.get("text")
        if not isinstance(text, str):
            raise InvalidInput("text must be a string", field=f"{where}.text")
        return TextBlock(text)
    if kind == "refusal":
        return TextBlock(str(part.get("refusal") or ""))
    if kind == "image_url":  # chat completions: {"image_url": {"url": …}}
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        return _data_url(url, "image", f"{where}.image_url.url", budget, None)
    if kind == "input_image":  # responses: {"image_url": "data:…"}
        return _data_url(part.get("image_url"), "image", f"{where}.image_url", budget, None)
    if kind in ("file", "input_file"):
        holder = part.get("file") if kind == "file" else part
        holder = holder if isinstance(holder, dict) else {}
        name = holder.get("filename")
        return _data_url(holder.get("file_data"), "document", f"{where}.file_data", budget, name)
    raise InvalidInput(
        f"content part type {kind!r} is not supported (text, images and files as data URLs are)", field=where
    )


def _data_url(
    url: Any, kind: Literal["image", "document"], where: str, budget: Budget, name: Any
) -> MediaBlock:
    """Decode `data:<mime>;base64,<data>`; anything else (an https URL, a file id) is refused."""
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        raise InvalidInput(
            f"{kind}s must be sent as base64 data URLs (data:<type>;base64,…); URLs and file ids are "
            "not fetched",
            field=where,
        )
    mime, _, raw = url[5:].partition(";base64,")
    subtype = mime.rpartition("/")[2].lower()
    fmt = _MIME_FORMATS.get(subtype, subtype)
    if kind == "document" and isinstance(name, str) and "." in name and fmt not in FORMATS[kind]:
        fmt = _MIME_FORMATS.get(name.rpartition(".")[2].lower(), name.rpartition(".")[2].lower())
    if fmt not in FORMATS[kind]:
        allowed = ", ".join(sorted(FORMATS[kind]))
        raise InvalidInput(f"{kind} type must be one of {allowed}", field=where)
    if len(raw) * 3 // 4 > MAX_PART_BYTES + 2:
        raise PayloadTooLarge(f"each {kind} may be at most {MAX_PART_BYTES} bytes")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{kind} data is not valid base64", field=where) from None
    budget.take(len(data))
    if kind == "document" and not (isinstance(name, str) and name):
        name = f"document.{fmt}"
    return MediaBlock(kind=kind, format=fmt, data=data, name=name if isinstance(name, str) else None)
