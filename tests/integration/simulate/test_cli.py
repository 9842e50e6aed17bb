"""`oms simulate wms`: registers itself, works what is pushed to it, stops on Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
from typer.testing import CliRunner

from oms.cli import app
from oms.outbox import signing
from tests.integration.simulate.stub_oms import StubOms, wait_until
from tests.integration.simulate.test_wms import a_fulfillment_order

OMS = [sys.executable, "-c", "from oms.cli import app; app()"]


def test_a_listen_address_without_a_port_is_refused() -> None:
    result = CliRunner().invoke(
        app, ["simulate", "wms", "--warehouse", "DAL", "--api-key", "k", "--listen", "localhost"]
    )

    assert result.exit_code == 2
    assert "host:port" in result.output


def test_the_command_registers_itself_ships_what_is_pushed_and_stops_on_ctrl_c() -> None:
    with StubOms.running() as stub:
        fast = ["--ack-delay", "0", "--pick-delay", "0", "--pack-delay", "0", "--ship-delay", "0"]
        command = [*OMS, "simulate", "wms", "--warehouse", "DAL", "--api-key", "oms_k_key"]
        command += ["--url", stub.url, "--admin-key", "oms_a_key", "--listen", "127.0.0.1:0"]
        process = subprocess.Popen(
            [*command, *fast, "--short-rate", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until(lambda: stub.calls_of("PUT"), "the connection made")
            hook = stub.calls_of("PUT")[0].body["url"]
            status = hook.removesuffix("/hooks/oms") + "/"
            wait_until(lambda: httpx.get(status).json()["mode"] == "push", "the secret kept")
            body = json.dumps(
                {
                    "id": "evt_1",
                    "type": "wms.dal.fulfillment_order.released",
                    "data": {"fulfillment_order": a_fulfillment_order(7, 2)},
                }
            ).encode()
            headers = signing.headers(
                stub.secret, message_id="evt_1", timestamp=int(time.time()), body=body
            )
            answer = httpx.post(hook, content=body, headers=headers)
            wait_until(lambda: any(c.kind == "shipments" for c in stub.messages(7)), "shipped")
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)

    assert answer.json() == {"outcome": "accepted"}
    assert process.returncode == 0
    assert "received 1, acked 1, rejected 0, shipped 1 (0 short), failed 0" in output
