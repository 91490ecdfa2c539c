"""`chatkeep token create/revoke` leave audit entries that `chatkeep audit` lists, as run by a user."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def chatkeep(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKEEP_")}
    env["CHATKEEP_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "chatkeep", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_token_lifecycle_is_in_the_audit_trail(tmp_path: Path) -> None:
    assert chatkeep(tmp_path, "org", "create", "acme").returncode == 0
    assert chatkeep(tmp_path, "org", "create", "other").returncode == 0
    created = chatkeep(tmp_path, "token", "create", "--org", "acme", "--user", "alice")
    secret = created.stdout.strip().splitlines()[-1]
    token_id = re.search(r"token ([0-9a-f-]{36})", created.stdout)
    assert token_id is not None
    assert chatkeep(tmp_path, "token", "revoke", token_id.group(1)).returncode == 0
    assert chatkeep(tmp_path, "token", "create", "--org", "other", "--role", "service").returncode == 0

    listed = chatkeep(tmp_path, "audit", "--org", "acme")
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if "token." in line]
    assert len(lines) == 2, listed.stdout
    assert "token.revoke" in lines[0] and "token.create" in lines[1]
    assert all(
        f"token:{token_id.group(1)}" in line and "operator" in line and "cli" in line for line in lines
    )
    assert "role=member" in lines[1] and "user=alice" in lines[1]
    assert secret not in listed.stdout
    everything = chatkeep(tmp_path, "audit")
    assert everything.stdout.count("token.create") == 2
    missing = chatkeep(tmp_path, "audit", "--org", "nope")
    assert missing.returncode == 1 and "does not exist" in missing.stdout
