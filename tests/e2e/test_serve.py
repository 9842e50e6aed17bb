"""`oms serve` as a real process over real HTTP: first start, health, an API key, a call."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKEND

OMS = Path(sys.executable).parent / "oms"
pytestmark = pytest.mark.skipif(
    BACKEND != "sqlite", reason="the served process uses its own SQLite file"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "OMS_DATABASE_URL": f"sqlite:///{tmp_path}/oms.db",
        "OMS_ADMIN_PASSWORD": "an admin password",
        "OMS_LOAD_DEMO": "true",
        "OMS_LOG_FORMAT": "json",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(OMS), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"no /healthz in 60 s:\n{(tmp_path / 'serve.log').read_text()}")
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_served_instance_is_healthy_ready_and_answers_with_an_api_key(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    issued = subprocess.run(
        [str(OMS), "apikeys", "create", "--name", "e2e", "--role", "viewer", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    secret = json.loads(issued.stdout)["secret"]

    ready = httpx.get(f"{base}/readyz", timeout=5)
    items = httpx.get(
        f"{base}/api/v1/items", headers={"Authorization": f"Bearer {secret}"}, timeout=5
    )
    docs = httpx.get(f"{base}/docs", timeout=5)

    assert ready.status_code == 200
    assert items.status_code == 200
    assert items.json()["items"], "the demo dataset was loaded on first start"
    assert docs.status_code == 200
