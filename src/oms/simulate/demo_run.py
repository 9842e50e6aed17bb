"""The live demo: simulated partners working the demo warehouses against a running Item OMS.

`start_demo(database, base_url)` sets up, in the database, what the partners need (a
warehouse-role API key per demo warehouse scoped to it, an admin key, and a push WMS
connection per warehouse pointing at its simulator), then runs, over HTTP only:

- a WMS simulator per warehouse (`wms.WmsSimulator`, on a free port): it takes the
  fulfillment orders Item OMS releases to it and sends ack, picking, packed and shipments;
- the carrier simulator (`carrier.CarrierSimulator`): it walks every shipped package to
  the door with EasyPost tracking webhooks, signed with EasyPost's secret (the admin's,
  else one the demo sets for its run and clears after);
- the shop (`shop.ShopSimulator`), when asked for orders per minute: new orders on the
  demo channels, so the board keeps moving.

Set-up is idempotent: the demo's keys are found by name, revoked and issued afresh (their
secrets are never stored, so a second run cannot reuse them), and each warehouse keeps one
connection, pointed at the new simulator with its secret rotated. `DemoRun.stop()`
pauses the connections (released work then waits to be pulled) and revokes the keys.

Release needs the worker: inside `oms serve` on SQLite, `oms worker` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx
import structlog
from sqlalchemy.orm import Session

from oms import demo
from oms.auth import repository as auth_repository
from oms.auth import service as auth
from oms.auth.permissions import Role
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.db import Database
from oms.errors import NotFound
from oms.fulfillment import connections
from oms.fulfillment import tracking as tracking_service
from oms.fulfillment import tracking_repository as tracking
from oms.fulfillment.models import ReleaseMode, ShortShipPolicy
from oms.fulfillment.schemas import ConnectionIn, TrackingProviderIn
from oms.simulate.carrier import CarrierCounters, CarrierSimulator, CarrierSimulatorConfig
from oms.simulate.journey import Delays
from oms.simulate.shop import ShopCounters, ShopSimulator, ShopSimulatorConfig
from oms.simulate.wms import WmsCounters, WmsSimulator, WmsSimulatorConfig

log = structlog.get_logger(__name__)
progress = structlog.get_logger("oms.demo_progress")
"""The serve-side summary line: its own logger, so the simulators' may be quieted."""

DEMO = Principal(kind="system", id=0, name="demo", roles=frozenset({Role.ADMIN}))
"""Who the demo's set-up acts as, in the audit trail."""
DEMO_WAREHOUSES: tuple[str, ...] = tuple(w["code"] for w in demo.WAREHOUSES)
ADMIN_KEY_NAME = "demo: simulators (admin)"
EASYPOST = "easypost"
HEALTH_WAIT_S = 0.5


def wms_key_name(warehouse: str) -> str:
    """The name of the demo's API key for a warehouse's simulated WMS."""
    return f"demo: WMS simulator {warehouse}"


@dataclass(frozen=True)
class DemoOptions:
    """How fast and how busy the demo is."""

    speed: float = 1.0
    """Every simulated delay divided by this: 2.0 runs twice as fast."""
    orders_per_minute: float = 6.0
    """New orders sent on the demo channels; 0: none."""
    warehouses: tuple[str, ...] = DEMO_WAREHOUSES
    host: str = "127.0.0.1"
    """Where the WMS simulators listen (Item OMS must reach them there)."""
    short_rate: float = 0.05
    reject_rate: float = 0.02
    exception_rate: float = 0.05
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.orders_per_minute < 0:
            raise ValueError("orders_per_minute may not be negative")
        if not self.warehouses:
            raise ValueError("the demo needs one warehouse at least")


WMS_DELAYS = (2.0, 4.0, 4.0, 4.0)
"""Seconds before a simulated warehouse's ack, picking, packed and shipment at speed 1."""
CARRIER_DELAYS = Delays(in_transit=6.0, hub=6.0, out_for_delivery=6.0, delivered=6.0, exception=12)
"""Seconds between a package's scans at speed 1: an order is delivered about a minute after
it is placed."""
POLL_INTERVAL_S = 2.0


@dataclass(frozen=True)
class DemoKeys:
    """The secrets of the demo's API keys, as issued for this run."""

    admin: str
    warehouses: Mapping[str, str]


class NoDemoWarehouses(NotFound):
    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__("warehouse", ", ".join(codes), code="demo.no_warehouses")


# -- set-up and tear-down, in the database ------------------------------------------------


def demo_warehouses(session: Session, wanted: Sequence[str]) -> list[str]:
    """The wanted warehouses that exist, in the order asked; NoDemoWarehouses if none
    does (load the demo first)."""
    found = catalog.warehouses_by_codes(session, wanted)
    codes = [code for code in wanted if code in found]
    if not codes:
        raise NoDemoWarehouses(wanted)
    return codes


def issue_keys(session: Session, warehouses: Sequence[str]) -> DemoKeys:
    """Revoke the demo's keys still active (found by name) and issue them afresh: an
    admin key, and a warehouse-role key per warehouse scoped to it."""
    revoke_keys(session, warehouses)
    admin = auth.create_api_key(session, name=ADMIN_KEY_NAME, roles=[Role.ADMIN], actor=DEMO)
    keys = {
        code: auth.create_api_key(
            session,
            name=wms_key_name(code),
            roles=[Role.WAREHOUSE],
            warehouses=[code],
            actor=DEMO,
        ).secret
        for code in warehouses
    }
    return DemoKeys(admin=admin.secret, warehouses=keys)


def revoke_keys(session: Session, warehouses: Sequence[str]) -> int:
    """Revoke every active key of the demo's names; how many."""
    names = {ADMIN_KEY_NAME, *(wms_key_name(code) for code in warehouses)}
    revoked = 0
    for key in auth_repository.list_api_keys(session):
        if key.name in names and key.is_active:
            auth.revoke_api_key(session, key_id=key.id, actor=DEMO)
            revoked += 1
    return revoked


def connect(session: Session, urls: Mapping[str, str]) -> dict[str, str]:
    """Point each warehouse's WMS connection at its simulator's webhook URL (push, released
    at once, short picks re-routed), with a fresh secret; the secrets by warehouse."""
    found = {}
    for code, url in urls.items():
        shown = connections.configure(
            session,
            code,
            ConnectionIn.model_validate(
                {
                    "url": url,
                    "release_mode": ReleaseMode.IMMEDIATE,
                    "short_ship": ShortShipPolicy.REROUTE,
                    "active": True,
                    "rotate_secret": True,
                }
            ),
            actor=DEMO,
        )
        if shown.secret is None:  # made or rotated: configure always shows it then
            raise RuntimeError(f"the WMS connection of {code} came back without its secret")
        found[code] = shown.secret
    return found


def pause_connections(session: Session, warehouses: Sequence[str]) -> None:
    """Switch the warehouses' connections off (their URL and rules kept), so released work
    waits to be pulled instead of being pushed to a simulator that is gone."""
    for code in warehouses:
        try:
            current = connections.get_connection(session, code, actor=DEMO)
        except NotFound:
            continue
        if not current.active:
            continue
        connections.configure(
            session,
            code,
            ConnectionIn.model_validate(
                {
                    "url": current.url,
                    "release_mode": current.release_mode,
                    "wave_times": current.wave_times,
                    "short_ship": current.short_ship,
                    "active": False,
                }
            ),
            actor=DEMO,
        )


def tracking_secret(session: Session) -> tuple[str, bool]:
    """EasyPost's webhook secret, for the carrier to sign with, and whether the demo set it:
    the one an admin set, else a new one the demo sets (so its webhooks are checked, and
    not each logged as unsigned) and clears when it stops."""
    found = tracking.provider(session, EASYPOST)
    if found is not None and found.secret:
        return found.secret, False
    secret = f"demo_{secrets.token_urlsafe(24)}"
    configure_tracking(session, secret)
    return secret, True


def configure_tracking(session: Session, secret: str | None) -> None:
    """Set (or clear, with None) EasyPost's webhook secret, as the demo."""
    tracking_service.configure_provider(
        session, EASYPOST, TrackingProviderIn(secret=secret), actor=DEMO
    )


# -- the run -------------------------------------------------------------------------------


@dataclass
class DemoCounters:
    """What every simulated partner has done since the demo started."""

    wms: dict[str, WmsCounters]
    carrier: CarrierCounters
    shop: ShopCounters | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def summary(self) -> str:
        """One line: orders sent, what the warehouses did, where the packages are."""
        wms = self.wms.values()
        c = self.carrier
        parts = []
        if self.shop is not None:
            parts.append(f"orders sent {self.shop.sent}")
        parts.append(
            f"WMS received {sum(w.received for w in wms)}, shipped {sum(w.shipped for w in wms)}"
            f" ({sum(w.short for w in wms)} short), rejected {sum(w.rejected for w in wms)}"
        )
        parts.append(
            f"carrier took {c.packages} packages, in transit {c.in_transit}, out for delivery "
            f"{c.out_for_delivery}, exceptions {c.exceptions}, delivered {c.delivered}"
        )
        failed = sum(w.failed for w in wms) + c.failed
        if failed:
            parts.append(f"failed {failed}")
        return "; ".join(parts)


class DemoRun:
    """The simulated partners of one demo run. `start()` sets up and starts them; `stop()`
    stops them and undoes the set-up's access (paused connections, revoked keys)."""

    def __init__(self, database: Database, base_url: str, options: DemoOptions) -> None:
        self.database = database
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.wms: dict[str, WmsSimulator] = {}
        self.carrier: CarrierSimulator | None = None
        self.shop: ShopSimulator | None = None
        self.warehouses: list[str] = []
        self.tracking_secret_set = False
        """Whether this run set EasyPost's secret (and so clears it when it stops)."""
        self._started_at = dt.datetime.now(dt.UTC)

    def start(self) -> DemoRun:
        """Set up and start every simulator; on any failure, undo what was done and raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        log.info("demo_started", oms=self.base_url, warehouses=self.warehouses)
        return self

    def _start(self) -> None:
        options = self.options
        with self.database.transaction() as session:
            self.warehouses = demo_warehouses(session, options.warehouses)
            keys = issue_keys(session, self.warehouses)
            signing, self.tracking_secret_set = tracking_secret(session)
        for code in self.warehouses:
            simulator = WmsSimulator(self._wms_config(code, keys.warehouses[code]))
            self.wms[code] = simulator.start()
        with self.database.transaction() as session:
            found = connect(session, {code: sim.url for code, sim in self.wms.items()})
        for code, secret in found.items():
            self.wms[code].use_secret(secret)
        self.carrier = CarrierSimulator(
            CarrierSimulatorConfig(
                api_key=keys.admin,
                oms_url=self.base_url,
                secret=signing,
                delays=CARRIER_DELAYS.scaled(options.speed),
                exception_rate=options.exception_rate,
                seed=options.seed,
                poll_interval=max(0.2, POLL_INTERVAL_S / options.speed),
            )
        ).start()
        if options.orders_per_minute > 0:
            self.shop = ShopSimulator(
                ShopSimulatorConfig(
                    api_key=keys.admin,
                    oms_url=self.base_url,
                    orders_per_minute=options.orders_per_minute,
                    seed=options.seed,
                )
            ).start()

    def _wms_config(self, warehouse: str, api_key: str) -> WmsSimulatorConfig:
        speed = self.options.speed
        ack, pick, pack, ship = (delay / speed for delay in WMS_DELAYS)
        return WmsSimulatorConfig(
            warehouse=warehouse,
            api_key=api_key,
            oms_url=self.base_url,
            host=self.options.host,
            port=0,
            short_rate=self.options.short_rate,
            reject_rate=self.options.reject_rate,
            seed=self.options.seed,
            poll_interval=max(0.2, POLL_INTERVAL_S / speed),
            ack_delay=ack,
            pick_delay=pick,
            pack_delay=pack,
            ship_delay=ship,
        )

    def counters(self) -> DemoCounters:
        """A copy of every simulator's counters as they are now."""
        return DemoCounters(
            wms={code: sim.counters for code, sim in self.wms.items()},
            carrier=self.carrier.counters if self.carrier else CarrierCounters(),
            shop=self.shop.counters if self.shop else None,
            started_at=self._started_at,
        )

    def stop(self) -> None:
        """Stop the simulators (work in flight is dropped), pause the connections and
        revoke the keys; a second call does nothing more."""
        if self.shop is not None:
            self.shop.stop()
        if self.carrier is not None:
            self.carrier.stop()
        for simulator in self.wms.values():
            simulator.stop()
        if self.warehouses:
            try:
                with self.database.transaction() as session:
                    pause_connections(session, self.warehouses)
                    revoke_keys(session, self.warehouses)
                    if self.tracking_secret_set:
                        configure_tracking(session, None)
            except Exception:
                log.exception("demo_teardown_failed")
            else:
                log.info("demo_stopped", **self._totals())
        self.warehouses = []
        self.tracking_secret_set = False

    def _totals(self) -> dict[str, int]:
        counts = self.counters()
        return {
            "shipped": sum(w.shipped for w in counts.wms.values()),
            "delivered": counts.carrier.delivered,
            "orders_sent": counts.shop.sent if counts.shop else 0,
        }

    def __enter__(self) -> DemoRun:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_demo(database: Database, base_url: str, options: DemoOptions | None = None) -> DemoRun:
    """Set up and start the demo against the Item OMS serving at `base_url` (it must be up);
    returns the run, to read its counters and `stop()` it."""
    return DemoRun(database, base_url, options or DemoOptions()).start()


def wait_until_healthy(base_url: str, stop: threading.Event) -> bool:
    """Wait until `GET /healthz` answers 200 (True) or `stop` is set (False)."""
    url = base_url.rstrip("/") + "/healthz"
    while not stop.is_set():
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(HEALTH_WAIT_S)
    return False


def run_beside_server(
    database: Database,
    base_url: str,
    stop: threading.Event,
    *,
    options: DemoOptions | None = None,
    summary_every: float = 15.0,
) -> None:
    """What `oms serve --demo-simulate` runs in a background thread: once the server
    answers, start the demo, log a summary line now and then, and stop it when `stop` is
    set. A demo that cannot start (no demo warehouses) is logged and left out."""
    if not wait_until_healthy(base_url, stop):
        return
    try:
        run = start_demo(database, base_url, options)
    except Exception as exc:
        log.warning("demo_not_started", error=str(exc))
        return
    try:
        while not stop.wait(summary_every):
            progress.info("demo_progress", summary=run.counters().summary())
    finally:
        run.stop()
