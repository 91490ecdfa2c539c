"""Property-based fuzzing of every operation in chatkeep's own OpenAPI document (schemathesis).

Each generated request, valid or deliberately invalid, goes over real HTTP to the scripted app and must
get an answer that is not a 5xx, whose status code, content type, headers and body are the ones the
document promises, and that accepts what the schema allows and refuses what it forbids (the checks are
listed in tests/security/fuzzing.py). A failure means a server bug or a wrong document: fix whichever is
wrong, at its source.
"""

from __future__ import annotations

import httpx
from schemathesis import Case

from chatkeep.app import create_app
from chatkeep.settings import Settings
from tests.security import fuzzing
from tests.security.fuzzing import FuzzWorld
from tests.security.route_matrix import flat_routes
from tests.security.served_app import ServedApp

EXAMPLES = 8  # per operation and generation mode, after the coverage phase's deterministic cases
DOCUMENT = fuzzing.document()
# Deterministic, so CI runs the same cases every time; bench/fuzz.py explores with fresh random ones.
schema = fuzzing.load_schema(DOCUMENT, fuzzing.config(max_examples=EXAMPLES, deterministic=True))


def test_fuzzed_document_is_the_one_the_server_serves(served_app: ServedApp) -> None:
    served = httpx.get(f"{served_app.url}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


def test_every_documented_route_is_fuzzed() -> None:
    """Every route the app documents is an operation here (Quant's spec family stands for all three)."""
    operations = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    app = create_app(Settings(database_url="sqlite+aiosqlite://"))
    documented = {
        (method, str(route.path_format))
        for route in flat_routes(app)
        if getattr(route, "include_in_schema", False)  # mounts (the console's static files) have none
        for method in route.methods or ()
    }
    assert operations == documented
    assert {path for _, path in operations} >= {
        "/api/v3/organizations/{organisation}/ai/chat/stream",
        "/api/chat-threads/",
        "/api/chat/stream/",
    }


@schema.parametrize()
def test_generated_requests_get_documented_answers(
    case: Case, served_app: ServedApp, fuzz_world: FuzzWorld
) -> None:
    headers = fuzzing.prepare(case, fuzz_world)
    case.call_and_validate(base_url=served_app.url, headers=headers)
