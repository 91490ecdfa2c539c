"""Attachments picked in the composer: turned into the same content blocks, within the same limits, as the
Quant API's images and documents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, Field

from chatkeep.core.errors import InvalidInput
from chatkeep.dialects.quant.content import (
    FORMATS,
    MAX_PART_BYTES,
    MAX_TOTAL_BYTES,
    new_budget,
    parse_content,
)
from chatkeep.providers.base import ContentBlock

MAX_FILES = 5
# The browser's file type first, the file name's extension second (browsers leave docx and md types empty).
_MIME_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/html": "html",
}
_EXTENSION_FORMATS = {"jpg": "jpeg", "markdown": "md"}


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What the composer tells the user (and checks before sending); the server checks the same."""

    max_files: int
    max_file_bytes: int
    max_total_bytes: int
    accept: str


LIMITS = UploadLimits(
    max_files=MAX_FILES,
    max_file_bytes=MAX_PART_BYTES,
    max_total_bytes=MAX_TOTAL_BYTES,
    accept=",".join(
        sorted({f".{fmt}" for kind in ("image", "document") for fmt in FORMATS[kind]} | {".jpg"})
    ),
)


class Upload(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    type: str = Field(default="", max_length=200)
    data: str = Field(min_length=1, description="The file's bytes, base64")


def _kind_and_format(upload: Upload) -> tuple[str, str]:
    extension = PurePosixPath(upload.name).suffix.lower().lstrip(".")
    fmt = _MIME_FORMATS.get(upload.type.lower()) or _EXTENSION_FORMATS.get(extension, extension)
    for kind in ("image", "document"):
        if fmt in FORMATS[kind]:
            return kind, fmt
    allowed = ", ".join(sorted(FORMATS["image"] | FORMATS["document"]))
    raise InvalidInput(
        f"{upload.name}: this kind of file cannot be attached (allowed: {allowed})", field="files"
    )


def content_blocks(text: str, uploads: list[Upload]) -> tuple[ContentBlock, ...]:
    """The user's text and attachments as content blocks; clear errors for too many, too large or
    unsupported files."""
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"attach at most {MAX_FILES} files to one message", field="files")
    blocks: list[dict[str, Any]] = [{"text": text}] if text else []
    for upload in uploads:
        kind, fmt = _kind_and_format(upload)
        # Document names reach some providers, which allow only plain names: keep the stem's safe part.
        stem = "".join(c if c.isalnum() or c in " -_()[]" else "-" for c in PurePosixPath(upload.name).stem)
        block: dict[str, Any] = {"format": fmt, "source": {"bytes": upload.data}}
        if kind == "document":
            block["name"] = stem.strip() or "document"
        blocks.append({kind: block})
    if not blocks:
        raise InvalidInput("write a message or attach a file", field="text")
    return parse_content(blocks, "files", new_budget())
