"""The embedded model's generation loop, run in its worker thread (llama-cpp-python blocks).

Token by token: sample, check for end-of-generation, decode to text (an incremental UTF-8 decoder
joins characters split across tokens), hold back text that may be the start of a stop string, emit.
The stop flag is checked between tokens and between prompt chunks, so a cancel lands within one
token (~20 ms) or one prompt chunk (~0.2 s on two cores).
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chatkeep.providers.threaded import ProducerContext, Stopped

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

# Tokens of prompt evaluated per step; between steps the stop flag is checked.
PROMPT_CHUNK = 32
REPEAT_PENALTY = 1.1


@dataclass(frozen=True, slots=True)
class GenerationJob:
    prompt_tokens: list[int]
    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...] = ()
    grammar: LlamaGrammar | None = None  # structured output: sampling only what the grammar allows


@dataclass(frozen=True, slots=True)
class Generated:
    """The worker's last item: why it ended and the real token counts."""

    reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int


class StopScanner:
    """Finds stop strings in streamed text, holding back a tail that could begin one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._pending = ""
        self.hit = False

    def feed(self, text: str) -> str:
        """Text safe to emit now; after a stop string is found, `hit` is set and the rest is dropped."""
        if self.hit:
            return ""
        self._pending += text
        cut = min((i for i in (self._pending.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.hit = True
            out, self._pending = self._pending[:cut], ""
            return out
        keep = self._longest_stop_prefix_suffix()
        out = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(out) :]
        return out

    def flush(self) -> str:
        """Whatever is still held back, at the end of the stream."""
        out, self._pending = ("" if self.hit else self._pending), ""
        return out

    def _longest_stop_prefix_suffix(self) -> int:
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(self._pending)), best, -1):
                if self._pending.endswith(stop[:n]):
                    best = n
                    break
        return best


def _prefill(llm: Llama, prompt: list[int], stopped: threading.Event) -> None:
    """Evaluate all but the prompt's last token in chunks; generate() then finds them in the KV cache.

    Reuses the longest prefix already evaluated (the previous turn of the same conversation).
    """
    head = prompt[:-1]
    cached = llm.input_ids[: llm.n_tokens]
    prefix = 0
    for a, b in zip(cached, head, strict=False):
        if a != b:
            break
        prefix += 1
    llm.n_tokens = prefix  # eval() drops the KV cache beyond n_tokens before it appends
    for start in range(prefix, len(head), PROMPT_CHUNK):
        if stopped.is_set():
            raise Stopped
        llm.eval(head[start : start + PROMPT_CHUNK])


def run_generation(llm: Llama, job: GenerationJob, ctx: ProducerContext[str | Generated]) -> None:
    """Generate for `job`, emitting text pieces and finally one `Generated`. Runs in the worker thread."""
    import llama_cpp

    _prefill(llm, job.prompt_tokens, ctx.stopped)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    scanner = StopScanner(job.stop)
    generated = 0
    reason: Literal["stop", "length"] = "length"
    tokens = llm.generate(
        job.prompt_tokens,
        temp=job.temperature,
        top_p=job.top_p,
        repeat_penalty=REPEAT_PENALTY,
        reset=True,
        grammar=job.grammar,
    )
    try:
        for token in tokens:
            if ctx.stopped.is_set():
                raise Stopped
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                reason = "stop"
                break
            generated += 1
            text = scanner.feed(decoder.decode(llm.detokenize([token])))
            if text:
                ctx.emit(text)
            if scanner.hit:
                reason = "stop"
                break
            if generated >= job.max_tokens:
                break
    finally:
        tokens.close()
    tail = scanner.feed(decoder.decode(b"", final=True)) + scanner.flush()
    if tail:
        ctx.emit(tail)
    ctx.emit(Generated(reason, len(job.prompt_tokens), generated))
