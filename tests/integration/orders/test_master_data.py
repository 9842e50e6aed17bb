"""The master data kept in memory: reading it again never makes two intakes of one
process wait on each other (SQLite: one holds the write lock and wants the copy, the
other reads the copy and wants the write lock). Run in a child process, killed if it
hangs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import BACKEND

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    from sqlalchemy import text
    from oms import migrate
    from oms.auth.principal import SYSTEM
    from oms.db import Database
    from oms.orders import intake, master_data
    from tests.integration.orders import factories
    from tests.integration.orders.deliveries import payload

    url = "sqlite:///" + sys.argv[1]
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        factories.master_data(session)
    bodies = [json.dumps(payload(f"o-{n}")) for n in range(2)]
    with db.transaction() as session:
        ids = intake.store(session, bodies, source="test", actor=SYSTEM)
    master_data._snapshots.clear()  # as after any change of master data (`forget`)
    done = []

    def first_statement_of_its_transaction():
        # B: a new transaction whose first statement is the snapshot's (API, CLI import)
        with db.transaction() as session:
            intake.receive(session, ids[1], bodies[1], actor=SYSTEM)
        done.append("B")

    # A: a transaction that has written already (a bulk chunk, the demo loader) ...
    with db.transaction() as session:
        session.execute(text("UPDATE inbox_messages SET attempts = attempts WHERE id = 0"))
        b = threading.Thread(target=first_statement_of_its_transaction, daemon=True)
        b.start()
        time.sleep(0.5)  # B holds the snapshot's lock, waiting for the write lock
        # ... then takes in an order
        intake.receive(session, ids[0], bodies[0], actor=SYSTEM)
        done.append("A")  # before the commit lets B go on
    b.join()
    print("DONE", done, flush=True)
    """
)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write lock")
def test_two_intakes_of_one_process_do_not_wait_on_each_other_forever(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root}"}
    try:
        ran = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path / "oms.db")],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("two intakes still waiting on each other after 60 s (killed)")
    assert "DONE ['A', 'B']" in ran.stdout, (ran.stdout[-300:], ran.stderr[-600:])
