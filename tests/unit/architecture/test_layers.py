"""The layers point one way and speak their own vocabulary; read from the source, so a new module that
breaks a rule fails here.

- core imports no dialect and no web framework, names no wire field and no HTTP status;
- guards and storage import nothing from core;
- no module imports another that imports it back at run time (imports only for type checking don't count).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import chatkeep

PACKAGE = Path(chatkeep.__file__).parent

# Field names of the Quant, Waldur and OpenAI wire formats (the first ones the core once used for its own
# errors).
WIRE_NAMES = (
    "previous_response_id",
    "safety_identifier",
    "max_output_tokens",
    "sessionId",
    "tokensUsed",
    "modelId",
    "toolConfig",
    "userId",
    "edit_message_uuid",
    "thread_uuid",
)
WEB_FRAMEWORKS = ("fastapi", "starlette", "sse_starlette", "uvicorn")
# The statuses a dialect answers with; a core constant equal to one of them is almost surely one.
HTTP_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 502, 503, 504})


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(under: str = "") -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted((PACKAGE / under).rglob("*.py")):
        yield _module_name(path), path, ast.parse(path.read_text(), filename=str(path))


def _runtime_imports(name: str, tree: ast.Module) -> set[str]:
    """Modules imported at import time: top-level statements, not under `if TYPE_CHECKING`."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import (the project imports absolutely)"
            base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _all_imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_imports_no_dialect_and_no_web_framework() -> None:
    for name, _, tree in _modules("core"):
        for imported in _all_imports(tree):
            assert not imported.startswith("chatkeep.dialects"), f"{name} imports {imported}"
            assert imported.split(".")[0] not in WEB_FRAMEWORKS, f"{name} imports {imported}"


def test_guards_storage_and_providers_import_nothing_from_core() -> None:
    for under in ("guards", "storage", "providers"):
        for name, _, tree in _modules(under):
            core = [i for i in _all_imports(tree) if i.startswith("chatkeep.core")]
            assert not core, f"{name} imports {core}"


def test_core_names_no_wire_field_and_no_http_status() -> None:
    for name, _, tree in _modules("core"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                used = [w for w in WIRE_NAMES if w in node.value]
                assert not used, f"{name}:{node.lineno} names {used}"
            if isinstance(node, ast.Constant) and type(node.value) is int:
                assert node.value not in HTTP_STATUSES, f"{name}:{node.lineno} has {node.value}"


def test_no_import_cycles_at_run_time() -> None:
    modules = {name: tree for name, _, tree in _modules()}
    graph = {
        name: {i for i in _runtime_imports(name, tree) if i in modules and i != name}
        for name, tree in modules.items()
    }
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    for name in graph:
        graph[name] = {i for i in graph[name] if not name.startswith(i + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
