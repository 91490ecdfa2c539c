"""`chatkeep export` and `chatkeep import` as a user runs them: stdout is the file, progress and errors
go to stderr, and the file loads into a fresh database of either backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from chatkeep.storage.database import Database
from tests.unit.transfer.org_world import fill_org

pytestmark = pytest.mark.integration


def chatkeep(database_url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKEEP_")}
    env["CHATKEEP_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "chatkeep", *args], env=env, capture_output=True, timeout=120
    )


async def test_export_to_a_file_and_import_into_a_fresh_database(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    org = await fill_org(db)
    exported = chatkeep(database_url, "export", "--org", org)
    assert exported.returncode == 0, exported.stderr.decode()
    lines = [orjson.loads(line) for line in exported.stdout.splitlines()]
    assert lines[0]["record"] == "chatkeep-export" and lines[0]["org"]["name"] == org
    assert [line["record"] for line in lines].count("message") == 18
    assert b"exported" in exported.stderr

    file = tmp_path / "org.jsonl"
    file.write_bytes(exported.stdout)
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    imported = chatkeep(fresh, "import", str(file))
    assert imported.returncode == 0, imported.stderr.decode()
    assert b"18 message" in imported.stdout and b"created the organisation" in imported.stdout
    again = chatkeep(fresh, "export", "--org", org)

    def without_moment(raw: bytes) -> list[dict[str, object]]:
        return [{k: v for k, v in orjson.loads(x).items() if k != "exported_at"} for x in raw.splitlines()]

    assert without_moment(again.stdout) == without_moment(exported.stdout)


def test_bad_arguments_and_files_are_clear_errors(database_url: str, tmp_path: Path) -> None:
    missing = chatkeep(database_url, "export", "--org", "no-such-org")
    assert missing.returncode == 1 and missing.stdout == b"" and b"does not exist" in missing.stderr
    since = chatkeep(database_url, "export", "--org", "x", "--since", "yesterday")
    assert since.returncode == 2 and b"ISO 8601" in since.stderr
    junk = tmp_path / "junk.jsonl"
    junk.write_text(
        '{"record": "chatkeep-export", "version": 1, "org": {"id": "1", "name": "x"}}\nnot json\n'
    )
    broken = chatkeep(database_url, "import", str(junk))
    assert broken.returncode == 1 and b"Traceback" not in broken.stdout + broken.stderr
