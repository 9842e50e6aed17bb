"""A simulated carrier: follows Item OMS's shipped packages to the door and says so by
EasyPost tracking webhooks.

It plays the tracking provider's side over HTTP only. It polls `GET /api/v1/shipments`
for shipments still on their way (`pre_transit`, `in_transit`, `out_for_delivery`,
`exception`) with an API key that may read them (viewer or admin), takes each package
once by its tracking number, and walks it on its own asyncio task through the scans of
`journey.plan_journey` (label, origin scan, a hub, the destination facility, out for
delivery, delivered; now and then an exception first), each after its delay. After every
scan it posts an EasyPost `tracker.updated` Event carrying all the scans so far to
`POST /api/v1/tracking/webhooks/easypost`, signed with the provider's secret when it has
one. A POST that meets a connection error, a 429 or a 5xx is sent again with backoff,
the same Event each time.

Where a package starts and ends comes from Item OMS too: the warehouse's address
(`GET /api/v1/warehouses/{code}`) and the order's ship-to (`GET /api/v1/orders/{id}`),
each read once.

One background thread runs one event loop: the poller and the journeys. `start()`
returns once it runs; `stop()` ends it all (journeys in flight are dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import structlog

from oms.fulfillment import tracking_formats
from oms.kit import clock
from oms.simulate import journey
from oms.simulate.journey import Delays, Journey, Place, Scan, Scanned

log = structlog.get_logger(__name__)

SHIPMENTS = "/api/v1/shipments"
WEBHOOK = "/api/v1/tracking/webhooks/easypost"
PROVIDER = "easypost"
POLLED = ("pre_transit", "in_transit", "out_for_delivery", "exception")
"""Shipment statuses that still have a package on its way."""
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CarrierSimulatorConfig:
    """How the simulated carrier reaches Item OMS, and how fast its packages travel."""

    api_key: str
    """An API key that may read shipments, orders and warehouses (viewer or admin)."""
    oms_url: str = "http://127.0.0.1:8000"
    secret: str | None = None
    """The EasyPost webhook secret Item OMS checks; None: webhooks go unsigned."""
    delays: Delays = field(default_factory=Delays)
    exception_rate: float = 0.05
    """Probability that a package meets an exception (then is delivered all the same)."""
    seed: int | None = None
    """The same seed walks the same package the same way; None: a random one."""
    poll_interval: float = 2.0
    page_size: int = 100
    retry_attempts: int = 8
    retry_delay: float = 0.5
    """The first wait before a webhook is sent again; doubled each time up to retry_max_delay."""
    retry_max_delay: float = 30.0
    timeout: float = 10.0
    max_connections: int = 4
    """Requests to Item OMS at once: many packages scanned in the same second queue here
    rather than arriving together."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.exception_rate <= 1.0:
            raise ValueError("exception_rate is a probability, between 0 and 1")
        if min(self.poll_interval, self.retry_attempts, self.page_size, self.max_connections) <= 0:
            raise ValueError(
                "poll_interval, retry_attempts, page_size and max_connections must be positive"
            )
        if self.retry_delay < 0:
            raise ValueError("retry_delay may not be negative")


@dataclass
class CarrierCounters:
    """What the carrier has done since it started; a package counts once per milestone."""

    packages: int = 0
    """Packages taken (each once)."""
    in_transit: int = 0
    out_for_delivery: int = 0
    exceptions: int = 0
    delivered: int = 0
    webhooks: int = 0
    """Tracking webhooks Item OMS took (2xx)."""
    unmatched: int = 0
    """Webhooks Item OMS answered `unmatched`: it knows no package by that number."""
    failed: int = 0
    """Journeys given up: Item OMS refused a webhook or never answered."""


@dataclass(frozen=True)
class Parcel:
    """A package of a shipment, as the shipments list shows it."""

    tracking_code: str
    carrier: str
    service: str | None
    status: str
    warehouse: str | None
    order_id: int | None
    shipment: str | None


def parcels_of(shipment: Mapping[str, Any]) -> list[Parcel]:
    """The packages of a shipment from `GET /api/v1/shipments` still on their way (their own
    status, else the shipment's, is one the carrier works from)."""
    found = []
    for package in shipment.get("packages") or []:
        code = package.get("tracking_number")
        status = package.get("status") or shipment.get("status")
        if not isinstance(code, str) or not code or status not in journey.RESUMABLE:
            continue
        order_id = shipment.get("order_id")
        found.append(
            Parcel(
                tracking_code=code,
                carrier=str(package.get("carrier") or shipment.get("carrier") or "UPS"),
                service=shipment.get("service"),
                status=str(status),
                warehouse=shipment.get("warehouse"),
                order_id=order_id if isinstance(order_id, int) else None,
                shipment=shipment.get("number"),
            )
        )
    return found


class WebhookFailed(RuntimeError):
    """A webhook Item OMS refused (4xx) or never answered after every retry."""


class CarrierSimulator:
    """A carrier and its tracking provider, played against Item OMS over HTTP."""

    def __init__(self, config: CarrierSimulatorConfig) -> None:
        self.config = config
        self._seed = config.seed if config.seed is not None else secrets.randbits(32)
        self._counts = CarrierCounters()
        self._taken: set[str] = set()
        self._origins: dict[str, Place | None] = {}
        self._destinations: dict[int, Place | None] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._client: httpx.AsyncClient

    # -- the outside: start, stop, what it did ----------------------------------------------

    @property
    def counters(self) -> CarrierCounters:
        """A copy of the counters as they are now."""
        return replace(self._counts)

    def start(self) -> CarrierSimulator:
        """Start polling and carrying; returns once its loop runs."""
        if self._thread is not None:
            raise RuntimeError("the carrier simulator is already started")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="carrier-simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError("the carrier simulator did not start") from self._failure
        log.info(
            "carrier_sim_started",
            oms=self.config.oms_url,
            signed=self.config.secret is not None,
            seed=self._seed,
        )
        return self

    def stop(self) -> None:
        """Stop polling and carrying (journeys in flight are dropped), and wait for it."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT_S)
            log.info("carrier_sim_stopped", **vars(self._counts))
        self._thread = None

    def __enter__(self) -> CarrierSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the loop: poller and journeys ------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._failure = exc
            log.exception("carrier_sim_crashed")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._client = httpx.AsyncClient(
            base_url=self.config.oms_url,
            timeout=self.config.timeout,
            limits=httpx.Limits(max_connections=self.config.max_connections),
        )
        poller = asyncio.create_task(self._poll_forever())
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            for task in (poller, *self._tasks):
                task.cancel()
            await asyncio.gather(poller, *self._tasks, return_exceptions=True)
            await self._client.aclose()

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_key}"}

    async def _poll_forever(self) -> None:
        while True:
            for status in POLLED:
                try:
                    await self._poll_once(status)
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    log.warning("carrier_sim_poll_failed", status=status, error=str(exc))
            await asyncio.sleep(self.config.poll_interval)

    async def _poll_once(self, status: str) -> None:
        """Take every package not yet taken of the shipments at `status`, page after page."""
        params: dict[str, str | int] = {"status": status, "limit": self.config.page_size}
        while True:
            answer = await self._client.get(SHIPMENTS, params=params, headers=self._auth)
            if not answer.is_success:
                log.warning(
                    "carrier_sim_poll_refused", status=answer.status_code, body=answer.text[:500]
                )
                return
            page = answer.json()
            for shipment in page["items"]:
                for parcel in parcels_of(shipment):
                    self._take(parcel)
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def _take(self, parcel: Parcel) -> None:
        """Start carrying a package, unless it was taken already."""
        if parcel.tracking_code in self._taken:
            return
        self._taken.add(parcel.tracking_code)
        self._counts.packages += 1
        task = asyncio.get_running_loop().create_task(self._carry(parcel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _carry(self, parcel: Parcel) -> None:
        """Plan the package's journey, then scan it step by step, a webhook after each."""
        try:
            origin = await self._origin(parcel.warehouse)
            destination = await self._destination(parcel.order_id)
            trip = journey.plan_journey(
                parcel.tracking_code,
                carrier=parcel.carrier,
                service=parcel.service,
                origin=origin,
                destination=destination,
                delays=self.config.delays,
                exception_rate=self.config.exception_rate,
                seed=self._seed,
                status=parcel.status,
            )
            log.info(
                "carrier_sim_took",
                tracking_number=parcel.tracking_code,
                shipment=parcel.shipment,
                status=parcel.status,
                origin=origin.line if origin else None,
                destination=destination.line if destination else None,
                troubled=trip.has_exception,
            )
            await self._walk(trip, previous=parcel.status)
        except WebhookFailed:
            self._counts.failed += 1
        except Exception:
            self._counts.failed += 1
            log.exception("carrier_sim_journey_crashed", tracking_number=parcel.tracking_code)

    async def _walk(self, trip: Journey, *, previous: str) -> None:
        created = clock.now()
        estimated = journey.estimated_delivery(trip, created)
        scanned: list[Scanned] = []
        reached: set[Scan] = set()
        last_status: str | None = "failure" if previous == "exception" else previous
        for step in trip.steps:
            await asyncio.sleep(step.wait)
            at = journey.scan_time(clock.now(), scanned[-1].at if scanned else None)
            scanned.append(Scanned(step, at))
            event = journey.tracker_event(
                trip, scanned, created_at=created, estimated=estimated, previous_status=last_status
            )
            await self._post(trip, event)
            if step.status not in reached:
                reached.add(step.status)
                self._count(step.status)
            last_status = step.status.value

    def _count(self, status: Scan) -> None:
        counts = self._counts
        if status is Scan.IN_TRANSIT:
            counts.in_transit += 1
        elif status is Scan.OUT_FOR_DELIVERY:
            counts.out_for_delivery += 1
        elif status is Scan.FAILURE:
            counts.exceptions += 1
        elif status is Scan.DELIVERED:
            counts.delivered += 1

    async def _origin(self, warehouse: str | None) -> Place | None:
        """The warehouse's address (read once); None when it cannot be read."""
        if warehouse is None:
            return None
        if warehouse not in self._origins:
            found = await self._read(f"/api/v1/warehouses/{warehouse}") or {}
            address = found.get("address")
            at = {"latitude": found.get("latitude"), "longitude": found.get("longitude")}
            self._origins[warehouse] = (
                journey.place_of({**address, **at}) if isinstance(address, Mapping) else None
            )
        return self._origins[warehouse]

    async def _destination(self, order_id: int | None) -> Place | None:
        """The order's ship-to (read once); None when it cannot be read."""
        if order_id is None:
            return None
        if order_id not in self._destinations:
            found = await self._read(f"/api/v1/orders/{order_id}")
            ship_to = found.get("ship_to") if found else None
            self._destinations[order_id] = (
                journey.place_of(ship_to) if isinstance(ship_to, Mapping) else None
            )
        return self._destinations[order_id]

    async def _read(self, path: str) -> dict[str, Any] | None:
        try:
            answer = await self._client.get(path, headers=self._auth)
        except httpx.HTTPError as exc:
            log.warning("carrier_sim_read_failed", path=path, error=str(exc))
            return None
        if not answer.is_success:
            log.warning("carrier_sim_read_refused", path=path, status=answer.status_code)
            return None
        found = answer.json()
        return found if isinstance(found, dict) else None

    async def _post(self, trip: Journey, event: dict[str, Any]) -> None:
        """POST one webhook (again on connection errors, 429 and 5xx); WebhookFailed if refused."""
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json"}
        if self.config.secret is not None:
            headers.update(tracking_formats.sign(PROVIDER, body, self.config.secret))
        tracker = event["result"]
        fields = {
            "tracking_number": trip.tracking_code,
            "status": tracker["status"],
            "detail": tracker["status_detail"],
        }
        delay = self.config.retry_delay
        for attempt in range(1, self.config.retry_attempts + 1):
            try:
                answer = await self._client.post(WEBHOOK, content=body, headers=headers)
            except httpx.TransportError as exc:
                trouble = f"{type(exc).__name__}: {exc}"
            else:
                if answer.is_success:
                    self._counts.webhooks += 1
                    outcome = _outcome(answer)
                    if outcome == "unmatched":
                        self._counts.unmatched += 1
                    where = tracker["tracking_details"][-1]["tracking_location"]
                    log.info("carrier_sim_scan", outcome=outcome, city=where["city"], **fields)
                    return
                if answer.status_code != 429 and answer.status_code < 500:
                    log.error(
                        "carrier_sim_webhook_refused",
                        http_status=answer.status_code,
                        body=answer.text[:500],
                        **fields,
                    )
                    raise WebhookFailed(f"{WEBHOOK}: HTTP {answer.status_code}")
                trouble = f"HTTP {answer.status_code}"
            if attempt < self.config.retry_attempts:
                log.warning("carrier_sim_retrying", error=trouble, wait_s=delay, **fields)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_delay)
        log.error("carrier_sim_webhook_undelivered", error=trouble, **fields)
        raise WebhookFailed(f"{WEBHOOK}: {trouble}")


def _outcome(answer: httpx.Response) -> str | None:
    try:
        found = answer.json()
    except ValueError:
        return None
    outcome = found.get("outcome") if isinstance(found, dict) else None
    return outcome if isinstance(outcome, str) else None
