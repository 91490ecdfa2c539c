"""The admin CLI and the first-start bootstrap, run as a user would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

pytestmark = pytest.mark.integration
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def chatkeep(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKEEP_")}
    env["CHATKEEP_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "chatkeep", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_token_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    assert chatkeep(tmp_path, "org", "create", "acme").returncode == 0
    created = chatkeep(tmp_path, "token", "create", "--org", "acme", "--user", "alice", "--role", "member")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("ck_") and len(secret) > 40
    listing = chatkeep(tmp_path, "token", "list", "--org", "acme")
    assert "alice" in listing.stdout and secret not in listing.stdout
    token_id = next(UUID.search(line).group(0) for line in listing.stdout.splitlines() if "alice" in line)
    revoked = chatkeep(tmp_path, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stdout
    assert "revoked" in chatkeep(tmp_path, "token", "list").stdout
    duplicate = chatkeep(tmp_path, "org", "create", "acme")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stdout
    missing = chatkeep(tmp_path, "token", "create", "--org", "nope", "--role", "service")
    assert missing.returncode == 1 and "does not exist" in missing.stdout


def _serve_once(data_dir: Path) -> tuple[str, str | None]:
    """Start `chatkeep serve`, wait until ready, stop it; return its output and the token line if any."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKEEP_")}
    env.update(CHATKEEP_DATA_DIR=str(data_dir), CHATKEEP_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatkeep", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        token = None
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
        for line in output.splitlines():
            if "CHATKEEP_TOKEN=" in line:
                token = line.split("=", 1)[1].strip()
        return output, token
    finally:
        if proc.poll() is None:
            proc.kill()


def test_first_serve_bootstraps_an_admin_token_once(tmp_path: Path) -> None:
    output, token = _serve_once(tmp_path)
    assert token is not None, output
    assert (tmp_path / "chatkeep.db").exists()
    listing = chatkeep(tmp_path, "token", "list")
    assert "default" in listing.stdout and "admin" in listing.stdout
    again, second = _serve_once(tmp_path)
    assert second is None, again
