"""Media blocks in the shapes upstream APIs want: MIME types, base64, data URLs, inline text."""

from __future__ import annotations

import base64

from chatkeep.providers.base import MediaBlock, ProviderError

_MIME: dict[str, str] = {
    # images
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    # documents
    "pdf": "application/pdf",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "html": "text/html",
    "json": "application/json",
    "xml": "application/xml",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # video
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "flv": "video/x-flv",
    "mpeg": "video/mpeg",
    "mpg": "video/mpeg",
    "wmv": "video/x-ms-wmv",
    "three_gp": "video/3gpp",
}
TEXT_DOCUMENT_FORMATS = frozenset({"txt", "md", "csv", "html", "json", "xml"})


def normalised_format(block: MediaBlock) -> str:
    """The block's format in lower case, `jpg` spelled `jpeg`."""
    fmt = block.format.lower().lstrip(".")
    return "jpeg" if fmt == "jpg" else fmt


def mime_type(block: MediaBlock) -> str:
    """The MIME type of a block's format; bad_request for a format we do not know."""
    try:
        return _MIME[normalised_format(block)]
    except KeyError:
        raise ProviderError("bad_request", f"unsupported {block.kind} format {block.format!r}") from None


def base64_data(block: MediaBlock) -> str:
    return base64.b64encode(block.data).decode("ascii")


def data_url(block: MediaBlock) -> str:
    """`data:<mime>;base64,<data>`, as OpenAI-style image_url and file parts take it."""
    return f"data:{mime_type(block)};base64,{base64_data(block)}"


def document_text(block: MediaBlock) -> str | None:
    """The text of a plain-text document (txt, md, csv, html, json, xml); None for binary formats."""
    if block.kind != "document" or normalised_format(block) not in TEXT_DOCUMENT_FORMATS:
        return None
    return block.data.decode("utf-8", errors="replace")
