"""Where a py-spy recording of chatkeep went: shares of samples by request phase and by library.

    .venv/bin/python -m bench.profile_shares bench/results/profile-….txt [more files]

Reads py-spy's raw format (`--format raw`: one collapsed stack per line, root first, then a count). A
sample's phase is the deepest phase marker on its stack (the authentication dependency inside dependency
resolution inside routing, …); its library is that of its innermost frame, where the time was spent.
SQLAlchemy's async layer runs the ORM in greenlets, whose stacks py-spy shows without the request above
them: those samples are a phase of their own, database work of the authentication and the handler alike.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.figures import table

# (phase, file fragment, function pattern or None for any function of the file); the deepest match wins.
PHASES: tuple[tuple[str, str, str | None], ...] = (
    ("uvicorn (HTTP parsing and writing)", "uvicorn/protocols/", None),
    ("uvicorn (HTTP parsing and writing)", "chatkeep/http_deadlines.py", None),
    ("middleware", "uvicorn/middleware/", None),
    ("middleware", "starlette/middleware/", None),
    ("middleware", "starlette/_exception_handler.py", None),
    ("middleware", "fastapi/middleware/", None),
    ("middleware", "fastapi/telemetry/", None),
    ("middleware", "fastapi/_body_limit.py", None),
    ("middleware", "fastapi/applications.py", None),
    ("middleware", "starlette/applications.py", None),
    ("middleware", "chatkeep/body_limit.py", None),
    ("middleware", "chatkeep/dialects/closing_turns.py", None),
    ("middleware", "chatkeep/dialects/console/security.py", None),
    ("middleware: request metrics and ids", "chatkeep/observability/http.py", None),
    ("middleware: request metrics and ids", "prometheus_client/", None),
    ("routing", "starlette/routing.py", None),
    ("routing", "fastapi/routing.py", r"APIRouter\.|_IncludedRouter|_EffectiveRouteContext|matches"),
    ("routing", "fastapi/routing.py", r"APIRoute\.handle|request_response"),
    ("endpoint wrapper (body read, response object)", "fastapi/routing.py", r"get_request_handler"),
    ("endpoint wrapper (body read, response object)", "chatkeep/dialects/json_body.py", None),
    ("endpoint wrapper (body read, response object)", "starlette/responses.py", None),
    ("dependency resolution and validation", "fastapi/dependencies/", None),
    ("dependency resolution and validation", "chatkeep/dialects/deps.py", r"get_db|get_limits|get_registry"),
    ("storable-input check", "chatkeep/dialects/storable_input.py", None),
    ("authentication and rate limit", "chatkeep/dialects/deps.py", r"_authenticate|in_organisation|anywhere"),
    ("handler (use case, rendering)", "fastapi/routing.py", r"run_endpoint_function"),
    ("response validation and serialisation", "fastapi/routing.py", r"serialize_response"),
)  # fmt: skip
LIBRARIES: tuple[tuple[str, str], ...] = (
    ("sqlite3 driver (aiosqlite, one-trip cursor)", "aiosqlite/"),
    ("sqlite3 driver (aiosqlite, one-trip cursor)", "chatkeep/storage/sqlite_driver.py"),
    ("asyncpg", "asyncpg/"),
    ("SQLAlchemy", "sqlalchemy/"),
    ("pydantic", "pydantic"),
    ("FastAPI", "fastapi/"),
    ("Starlette", "starlette/"),
    ("uvicorn", "uvicorn/"),
    ("prometheus_client", "prometheus_client/"),
    ("asyncio", "asyncio/"),
    ("chatkeep", "chatkeep/"),
)
_COMPILED = [
    (phase, fragment, re.compile(pattern) if pattern else None) for phase, fragment, pattern in PHASES
]
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]*)(?::\d+)?\)$")
GREENLET = "database work in SQLAlchemy greenlets (authentication and handler)"
LOOP = "event loop, tasks, scheduling"
THREADS = "other threads (aiosqlite's, the metrics' …)"


def read(path: Path) -> Counter[str]:
    """py-spy's raw output: collapsed stack -> samples."""
    stacks: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def _parse(frame: str) -> tuple[str, str]:
    found = _FRAME.match(frame)
    return (found["function"], found["file"]) if found else (frame, "")


def phase_of(frames: list[tuple[str, str]]) -> str:
    """The deepest phase marker on a stack (root first), or what kind of stack it is without one."""
    for function, file in reversed(frames):
        for phase, fragment, pattern in _COMPILED:
            if fragment in file and (pattern is None or pattern.search(function)):
                return phase
    root = frames[0][1] if frames else ""
    if "threading.py" in root:
        return THREADS
    if "sqlalchemy/" in root:
        return GREENLET
    return LOOP


def library_of(frames: list[tuple[str, str]]) -> str:
    file = frames[-1][1] if frames else ""
    for library, fragment in LIBRARIES:
        if fragment in file:
            return library
    return "Python's standard library and others"


def shares(stacks: Counter[str]) -> dict[str, Any]:
    """Samples by phase (with each phase's libraries) and by library, as shares of all samples."""
    total = sum(stacks.values())
    phases: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    within: dict[str, Counter[str]] = {}
    for stack, count in stacks.items():
        frames = [_parse(f) for f in stack.split(";") if f]
        phase, library = phase_of(frames), library_of(frames)
        phases[phase] += count
        libraries[library] += count
        within.setdefault(phase, Counter())[library] += count

    def share(counter: Counter[str]) -> dict[str, float]:
        return {name: n / total for name, n in counter.most_common()} if total else {}

    return {
        "samples": total,
        "phases": share(phases),
        "libraries": share(libraries),
        "phase_libraries": {phase: share(counter) for phase, counter in within.items()},
    }


def render(found: dict[str, Any]) -> str:
    """Two Markdown tables: by phase (with its top libraries) and by library."""
    rows = []
    for phase, part in found["phases"].items():
        top = list(found["phase_libraries"][phase].items())[:3]
        detail = ", ".join(f"{name} {value:.0%}" for name, value in top)
        rows.append([phase, f"{part:.1%}", detail])
    by_phase = table(["phase (deepest marker on the stack)", "share", "of which (innermost frame)"], rows)
    by_library = table(
        ["library (innermost frame)", "share"],
        [[name, f"{part:.1%}"] for name, part in found["libraries"].items()],
    )
    return f"{by_phase}\n\n{by_library}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    for path in args.files:
        found = shares(read(path))
        print(f"\n{path} ({found['samples']} samples)\n")
        print(render(found))


if __name__ == "__main__":
    main()
