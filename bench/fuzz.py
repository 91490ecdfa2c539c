"""Fuzz every operation of chatkeep's OpenAPI document for longer than the test suite does (schemathesis).

Run: .venv/bin/python bench/fuzz.py [--max-time 300] [--examples 200] [--seed N]
                                    [--database-url postgresql+asyncpg://…] [--negative-rejection]

The scripted app (no real model) is served over HTTP on 127.0.0.1; its /openapi.json is fetched and every
operation runs through schemathesis' engine (examples, coverage and fuzzing phases; fuzzing repeats until
--max-time is spent), with the same tenants, credentials and checks as tests/security/test_fuzz_openapi.py.
Prints each operation with its example count and failures, then every distinct failure with a curl line to
reproduce it; writes bench/results/fuzz.json. Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import events  # noqa: E402
from tests.security import fuzzing  # noqa: E402
from tests.security.served_app import scripted_settings, served  # noqa: E402

from chatkeep.storage.database import Database  # noqa: E402
from chatkeep.storage.migrate import migrate  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "fuzz.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-time", type=int, default=300, help="seconds for the whole run (default 300)")
    parser.add_argument("--examples", type=int, default=200, help="examples per operation and round")
    parser.add_argument("--seed", type=int, default=None, help="fix the random seed to reproduce a run")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--path-regex", default=None, help="fuzz only the operations whose path matches")
    parser.add_argument(
        "--negative-rejection",
        action="store_true",
        help=f"also run {fuzzing.LENIENCY_CHECK}: lists deliberate leniencies (tests/security/fuzzing.py)",
    )
    return parser.parse_args()


async def seed(database_url: str) -> fuzzing.FuzzWorld:
    db = Database(database_url)
    try:
        await migrate(db)
        return await fuzzing.seed_world(db)
    finally:
        await db.dispose()


def run(base_url: str, world: fuzzing.FuzzWorld, args: argparse.Namespace) -> dict[str, Any]:
    checks = fuzzing.CHECKS + ((fuzzing.LENIENCY_CHECK,) if args.negative_rejection else ())
    settings = {**fuzzing.config(max_examples=args.examples, seed=args.seed, checks=checks)}
    settings["max-time"] = args.max_time
    schema = schemathesis.openapi.from_url(
        f"{base_url}/openapi.json", config=SchemathesisConfig.from_dict(settings)
    )
    if args.path_regex:
        schema = schema.include(path_regex=args.path_regex)

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        case.headers = {**(case.headers or {}), **fuzzing.prepare(case, world)}

    examples: Counter[str] = Counter()
    failing: dict[str, set[str]] = defaultdict(set)
    distinct: dict[tuple[str, str], str] = {}
    started = time.monotonic()
    for event in schemathesis.engine.from_schema(schema).execute():
        recorder = getattr(event, "recorder", None)
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished) and recorder is not None:
            label = recorder.label
            examples[label] += len(recorder.cases)
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    if node.failure_info is None:
                        continue
                    failure = node.failure_info.failure
                    failing[label].add(failure.title)
                    if (label, failure.title) not in distinct:
                        distinct[(label, failure.title)] = _evidence(node.failure_info, recorder, case_id)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            label = getattr(event, "label", "run")
            failing[label].add(f"error: {getattr(event, 'value', getattr(event, 'exception', ''))}")
    return {
        "seconds": round(time.monotonic() - started, 1),
        "examples": dict(examples),
        "failures": {label: sorted(titles) for label, titles in failing.items()},
        "reproduce": [
            {"operation": op, "failure": title, "detail": text} for (op, title), text in distinct.items()
        ],
        "checks": list(checks),
    }


def _evidence(info: Any, recorder: Any, case_id: str) -> str:
    """The failure's explanation, the answer it got, and a curl line to reproduce it."""
    interaction = recorder.interactions.get(case_id)
    response = getattr(interaction, "response", None)
    answer = ""
    if response is not None:
        answer = f"\n  got {response.status_code}: {bytes(response.content or b'')[:300]!r}"
    return f"{info.failure.message.strip()}{answer}\n  {info.code_sample}"


def report(result: dict[str, Any]) -> None:
    width = max(map(len, result["examples"]), default=20)
    print(f"{'operation':<{width}}  examples  failures")
    for label in sorted(result["examples"]):
        print(
            f"{label:<{width}}  {result['examples'][label]:>8}  {len(result['failures'].get(label, [])):>8}"
        )
    total = sum(result["examples"].values())
    print(f"\n{len(result['examples'])} operations, {total} examples in {result['seconds']} s")
    print(f"checks: {', '.join(result['checks'])}")
    if not result["reproduce"]:
        print("no failures")
    for item in result["reproduce"]:
        print(f"\nFAIL {item['operation']}: {item['failure']}\n  {item['detail']}")


def main() -> int:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="chatkeep-fuzz-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{data_dir}/fuzz.db"
    world = asyncio.run(seed(database_url))
    with served(scripted_settings(database_url, data_dir)) as app:
        result = run(app.url, world, args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    report(result)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
