"""The live demo's set-up in the database (keys and WMS connections, idempotent over runs),
its tear-down, and a run started in-process and stopped."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
from typer.testing import CliRunner

from oms import demo
from oms.auth import repository as auth_repository
from oms.auth import service as auth
from oms.auth.permissions import Role
from oms.auth.principal import SYSTEM
from oms.catalog import warehouses
from oms.catalog.schemas import WarehouseCreate
from oms.cli import app
from oms.db import Database
from oms.errors import Unauthenticated
from oms.fulfillment import connections, tracking
from oms.fulfillment.schemas import ConnectionOut, TrackingProviderIn
from oms.kit.paging import PageRequest
from oms.outbox import subscriptions
from oms.simulate import demo_run
from oms.simulate.demo_run import ADMIN_KEY_NAME, DEMO_WAREHOUSES, DemoKeys, DemoOptions

FIRST = {code: f"http://127.0.0.1:{9101 + n}/hooks/oms" for n, code in enumerate(DEMO_WAREHOUSES)}
SECOND = {code: f"http://127.0.0.1:{9201 + n}/hooks/oms" for n, code in enumerate(DEMO_WAREHOUSES)}
NOWHERE = "http://127.0.0.1:9"
"""No Item OMS answers there: the simulators' calls fail, which these tests do not need."""


@pytest.fixture
def db_with_warehouses(db: Database) -> Database:
    with db.transaction() as session:
        for values in demo.WAREHOUSES:
            warehouses.create_warehouse(
                session, WarehouseCreate.model_validate(values), actor=SYSTEM
            )
    return db


def set_up(db: Database, urls: dict[str, str]) -> tuple[DemoKeys, dict[str, str]]:
    """What `oms demo run` does in the database before and after starting its simulators."""
    with db.transaction() as session:
        codes = demo_run.demo_warehouses(session, DEMO_WAREHOUSES)
        keys = demo_run.issue_keys(session, codes)
        secrets = demo_run.connect(session, urls)
    return keys, secrets


def active_demo_keys(db: Database) -> Counter[str]:
    with db.transaction() as session:
        return Counter(
            key.name
            for key in auth_repository.list_api_keys(session)
            if key.is_active and key.name.startswith("demo: ")
        )


def demo_connections(db: Database) -> dict[str, ConnectionOut]:
    with db.transaction() as session:
        return {
            code: connections.get_connection(session, code, actor=SYSTEM)
            for code in DEMO_WAREHOUSES
        }


def subscription_count(db: Database) -> int:
    with db.transaction() as session:
        page = subscriptions.search_subscriptions(session, active=None, page=PageRequest(limit=100))
        return len(page.items)


ONE_KEY_EACH = Counter(
    {ADMIN_KEY_NAME: 1, **{demo_run.wms_key_name(code): 1 for code in DEMO_WAREHOUSES}}
)


def test_a_second_set_up_leaves_one_active_key_per_name_and_one_connection_per_warehouse(
    db_with_warehouses: Database,
) -> None:
    set_up(db_with_warehouses, FIRST)

    set_up(db_with_warehouses, SECOND)

    assert active_demo_keys(db_with_warehouses) == ONE_KEY_EACH
    found = demo_connections(db_with_warehouses)
    assert {code: c.url for code, c in found.items()} == SECOND
    assert all(c.active and c.release_mode == "immediate" for c in found.values())
    assert subscription_count(db_with_warehouses) == len(DEMO_WAREHOUSES)


def test_a_second_set_up_rotates_every_secret_and_revokes_the_first_keys(
    db_with_warehouses: Database,
) -> None:
    first_keys, first_secrets = set_up(db_with_warehouses, FIRST)

    second_keys, second_secrets = set_up(db_with_warehouses, SECOND)

    assert set(second_secrets) == set(DEMO_WAREHOUSES)
    assert all(s.startswith("whsec_") for s in second_secrets.values())
    assert not set(first_secrets.values()) & set(second_secrets.values())
    with db_with_warehouses.transaction() as session:
        with pytest.raises(Unauthenticated):
            auth.authenticate_api_key(session, first_keys.admin)
        assert auth.authenticate_api_key(session, second_keys.admin).roles == {Role.ADMIN}


def test_each_wms_key_is_a_warehouse_key_scoped_to_its_warehouse(
    db_with_warehouses: Database,
) -> None:
    keys, _ = set_up(db_with_warehouses, FIRST)

    with db_with_warehouses.transaction() as session:
        found = {
            code: auth.authenticate_api_key(session, secret)
            for code, secret in keys.warehouses.items()
        }
        admin = auth.authenticate_api_key(session, keys.admin)

    assert {code: (p.roles, p.warehouses) for code, p in found.items()} == {
        code: (frozenset({Role.WAREHOUSE}), frozenset({code})) for code in DEMO_WAREHOUSES
    }
    assert admin.warehouses is None


def test_tear_down_pauses_the_connections_and_revokes_the_keys_and_set_up_resumes_them(
    db_with_warehouses: Database,
) -> None:
    set_up(db_with_warehouses, FIRST)

    with db_with_warehouses.transaction() as session:
        demo_run.pause_connections(session, DEMO_WAREHOUSES)
        revoked = demo_run.revoke_keys(session, DEMO_WAREHOUSES)

    assert revoked == len(DEMO_WAREHOUSES) + 1
    assert active_demo_keys(db_with_warehouses) == Counter()
    paused = demo_connections(db_with_warehouses)
    assert not any(c.active for c in paused.values())
    assert {code: c.url for code, c in paused.items()} == FIRST
    set_up(db_with_warehouses, SECOND)
    assert all(c.active for c in demo_connections(db_with_warehouses).values())
    assert subscription_count(db_with_warehouses) == len(DEMO_WAREHOUSES)


def test_without_the_demo_warehouses_the_demo_does_not_start(db: Database) -> None:
    with pytest.raises(demo_run.NoDemoWarehouses):
        demo_run.start_demo(db, NOWHERE, DemoOptions(orders_per_minute=0))

    assert active_demo_keys(db) == Counter()


def test_a_run_started_in_process_points_each_connection_at_its_own_pushed_simulator(
    db_with_warehouses: Database,
) -> None:
    run = demo_run.start_demo(db_with_warehouses, NOWHERE, DemoOptions(orders_per_minute=0))
    try:
        urls = {code: c.url for code, c in demo_connections(db_with_warehouses).items()}
        modes = {
            code: httpx.get(sim.base_url + "/").json()["mode"] for code, sim in run.wms.items()
        }
        counts = run.counters()
    finally:
        run.stop()

    assert urls == {code: sim.url for code, sim in run.wms.items()}
    assert modes == dict.fromkeys(DEMO_WAREHOUSES, "push")
    assert set(counts.wms) == set(DEMO_WAREHOUSES)
    assert counts.shop is None
    assert active_demo_keys(db_with_warehouses) == Counter()
    assert not any(c.active for c in demo_connections(db_with_warehouses).values())


def test_two_runs_one_after_the_other_leave_one_connection_per_warehouse(
    db_with_warehouses: Database,
) -> None:
    for _ in range(2):
        demo_run.start_demo(db_with_warehouses, NOWHERE, DemoOptions(orders_per_minute=0)).stop()

    assert subscription_count(db_with_warehouses) == len(DEMO_WAREHOUSES)
    assert active_demo_keys(db_with_warehouses) == Counter()


def test_the_serve_side_runner_stops_at_once_when_told_to_before_the_server_answers(
    db_with_warehouses: Database,
) -> None:
    stop = threading.Event()
    stop.set()

    demo_run.run_beside_server(db_with_warehouses, NOWHERE, stop)

    assert active_demo_keys(db_with_warehouses) == Counter()


def test_oms_demo_run_without_a_server_says_to_start_one() -> None:
    result = CliRunner().invoke(app, ["demo", "run", "--url", NOWHERE])

    assert result.exit_code == 2
    assert "make run" in result.output


def easypost_signed(db: Database) -> bool:
    with db.transaction() as session:
        return next(p.signed for p in tracking.providers(session) if p.provider == "easypost")


def test_a_run_signs_tracking_webhooks_with_a_secret_it_sets_and_clears_when_none_was_set(
    db_with_warehouses: Database,
) -> None:
    run = demo_run.start_demo(db_with_warehouses, NOWHERE, DemoOptions(orders_per_minute=0))
    try:
        signed_while_running = easypost_signed(db_with_warehouses)
        carrier_secret = run.carrier.config.secret if run.carrier else None
    finally:
        run.stop()

    assert signed_while_running
    assert carrier_secret is not None
    assert not easypost_signed(db_with_warehouses)


def test_a_run_signs_with_the_secret_an_admin_set_and_leaves_it(
    db_with_warehouses: Database,
) -> None:
    with db_with_warehouses.transaction() as session:
        tracking.configure_provider(
            session, "easypost", TrackingProviderIn(secret="admins-secret-1"), actor=SYSTEM
        )

    run = demo_run.start_demo(db_with_warehouses, NOWHERE, DemoOptions(orders_per_minute=0))
    carrier_secret = run.carrier.config.secret if run.carrier else None
    run.stop()

    assert carrier_secret == "admins-secret-1"
    assert easypost_signed(db_with_warehouses)
