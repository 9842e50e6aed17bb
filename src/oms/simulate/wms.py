"""A simulated WMS: takes released fulfillment orders from Item OMS and works them.

It plays the warehouse's side of docs/WMS.md over HTTP only. Work arrives as signed
webhooks at `POST /hooks/oms` (push), or by polling `GET /api/v1/fulfillment-orders`
(pull: no secret, or `pull=True`). Each fulfillment order is taken once (a re-delivered
webhook or a second poll does not start it again), then worked on its own asyncio task:
ack → status picking → status packed → shipments, each after its delay, so many orders
move at once. A POST that meets a connection error, a 429 or a 5xx is sent again with
backoff under the same message id, which Item OMS answers `duplicate` if the first got
through.

One background thread runs one event loop: the uvicorn server, the poller and the work.
`start()` returns once it listens; `stop()` ends it all. Port 0 picks a free port.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oms.outbox.signing import InvalidSignature, secret_key, verify
from oms.simulate import work
from oms.simulate.work import Step, WorkOrder, WorkPlan

log = structlog.get_logger(__name__)

HOOK_PATH = "/hooks/oms"
FULFILLMENT_ORDERS = "/api/v1/fulfillment-orders"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class WmsSimulatorConfig:
    """How the simulated WMS reaches Item OMS, where it listens, and how it works."""

    warehouse: str
    """The warehouse code it plays (DAL)."""
    api_key: str
    """An API key of role `warehouse` (or `integration` scoped to the warehouse)."""
    oms_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8101
    """0: any free port (see `WmsSimulator.url`)."""
    secret: str | None = None
    """The connection's `whsec_…` secret; None: pull (until `register` gets one)."""
    pull: bool = False
    """Poll for released work even with a secret (and register without a URL)."""
    ack_delay: float = 1.0
    pick_delay: float = 2.0
    pack_delay: float = 2.0
    ship_delay: float = 3.0
    short_rate: float = 0.1
    """Probability that a fulfillment order is picked short (one line, one unit at least)."""
    reject_rate: float = 0.0
    """Probability that a fulfillment order is rejected at ack."""
    choices: tuple[tuple[str, str], ...] = work.DEFAULT_CHOICES
    """(carrier, service) drawn for standard service; expedited and overnight get theirs."""
    seed: int | None = None
    """The same seed works the same fulfillment order the same way; None: a random one."""
    poll_interval: float = 2.0
    page_size: int = 100
    retry_attempts: int = 8
    retry_delay: float = 0.5
    """The first wait before a POST is sent again; doubled each time up to retry_max_delay."""
    retry_max_delay: float = 30.0
    timeout: float = 10.0
    max_connections: int = 4
    """Requests to Item OMS at once, as a WMS's integration sends them: a backlog of
    released work is worked off a few messages at a time, not in one burst."""

    def __post_init__(self) -> None:
        for name in ("short_rate", "reject_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability, between 0 and 1")
        delays = ("ack_delay", "pick_delay", "pack_delay", "ship_delay", "retry_delay")
        for name in delays:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} may not be negative")
        if self.poll_interval <= 0 or self.retry_attempts < 1 or not self.choices:
            raise ValueError("poll_interval, retry_attempts and choices must be positive")
        if self.max_connections < 1:
            raise ValueError("max_connections must be positive")
        if self.secret is not None:
            secret_key(self.secret)


@dataclass
class WmsCounters:
    """What the simulator has done since it started."""

    received: int = 0
    """Fulfillment orders taken (each once)."""
    duplicates: int = 0
    """Webhooks or polls naming a fulfillment order already taken."""
    ignored: int = 0
    """Webhooks of another type or warehouse."""
    acked: int = 0
    rejected: int = 0
    picking: int = 0
    packed: int = 0
    shipped: int = 0
    short: int = 0
    """Shipments of fewer units than the fulfillment order held."""
    failed: int = 0
    """Fulfillment orders given up: Item OMS refused a message or never answered."""


class RegistrationFailed(RuntimeError):
    """Item OMS did not make the WMS connection (or gave no secret for a push one)."""


class StepFailed(RuntimeError):
    """A message Item OMS refused (4xx) or never answered after every retry."""


class WmsSimulator:
    """A warehouse's WMS, played against Item OMS over HTTP. Start it, stop it, read counters."""

    def __init__(self, config: WmsSimulatorConfig) -> None:
        self.config = config
        self._secret = config.secret
        self._seed = config.seed if config.seed is not None else secrets.randbits(32)
        self._topic = f"wms.{config.warehouse.lower()}.fulfillment_order.released"
        self._counts = WmsCounters()
        self._taken: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._socket: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._client: httpx.AsyncClient

    # -- the outside: start, stop, register, what it did -----------------------------------

    @property
    def url(self) -> str:
        """The webhook URL to give Item OMS (`http://host:port/hooks/oms`); known once started."""
        return self.base_url + HOOK_PATH

    @property
    def base_url(self) -> str:
        if self._address is None:
            raise RuntimeError("the simulator listens only once started")
        host, port = self._address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def secret(self) -> str | None:
        return self._secret

    @property
    def pulling(self) -> bool:
        """True while it polls for released work: asked to, or no secret to check pushes."""
        return self.config.pull or self._secret is None

    @property
    def counters(self) -> WmsCounters:
        """A copy of the counters as they are now."""
        return replace(self._counts)

    def use_secret(self, secret: str) -> None:
        """Check pushed webhooks with this `whsec_…` secret from now on: the connection was
        made some other way than `register` (the demo makes it in the database)."""
        secret_key(secret)
        self._secret = secret

    def start(self) -> WmsSimulator:
        """Listen and start working; returns once the webhook endpoint answers."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already started")
        self._socket = _bind(self.config.host, self.config.port)
        self._address = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self._app(),
            lifespan="off",
            ws="none",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(self._server, self._socket), name="wms-simulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the WMS simulator did not start") from self._failure
            time.sleep(0.01)
        log.info(
            "wms_sim_started",
            warehouse=self.config.warehouse,
            url=self.url,
            oms=self.config.oms_url,
            mode="pull" if self.pulling else "push",
            seed=self._seed,
        )
        return self

    def stop(self) -> None:
        """Stop listening, polling and working (work in flight is dropped), and wait for it."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        if self._thread is not None:
            log.info("wms_sim_stopped", warehouse=self.config.warehouse, **vars(self._counts))
        self._thread = None
        self._server = None

    def __enter__(self) -> WmsSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def register(
        self,
        admin_api_key: str,
        *,
        release_mode: str = "immediate",
        wave_times: Sequence[str] = (),
        short_ship: str = "reroute",
    ) -> dict[str, Any]:
        """Make (or remake) the warehouse's WMS connection pointing at this simulator, with a
        fresh secret that it keeps; returns Item OMS's answer. In pull mode no URL is given."""
        push = not self.config.pull
        body = {
            "url": self.url if push else None,
            "release_mode": release_mode,
            "wave_times": list(wave_times),
            "short_ship": short_ship,
            "active": True,
            "rotate_secret": push,
        }
        where = f"{self.config.oms_url.rstrip('/')}/api/v1/warehouses/{self.config.warehouse}"
        try:
            answer = httpx.put(
                f"{where}/wms-connection",
                json=body,
                headers={"Authorization": f"Bearer {admin_api_key}"},
                timeout=self.config.timeout,
            )
        except httpx.HTTPError as exc:
            raise RegistrationFailed(f"Item OMS at {self.config.oms_url}: {exc}") from exc
        if not answer.is_success:
            raise RegistrationFailed(f"HTTP {answer.status_code}: {answer.text[:500]}")
        connection: dict[str, Any] = answer.json()
        if push:
            secret = connection.get("secret")
            if not isinstance(secret, str):
                raise RegistrationFailed("the answer carries no secret to check webhooks with")
            secret_key(secret)
            self._secret = secret
        log.info("wms_sim_registered", warehouse=self.config.warehouse, url=body["url"])
        return connection

    # -- the loop: server, poller, work -----------------------------------------------------

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            asyncio.run(self._main(server, sock))
        except BaseException as exc:
            self._failure = exc
            log.exception("wms_sim_crashed")

    async def _main(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._client = httpx.AsyncClient(
            base_url=self.config.oms_url,
            headers={"Authorization": f"Bearer {self.config.api_key}"},
            timeout=self.config.timeout,
            limits=httpx.Limits(max_connections=self.config.max_connections),
        )
        poller = asyncio.create_task(self._poll_forever())
        try:
            await server.serve(sockets=[sock])
        finally:
            for task in (poller, *self._tasks):
                task.cancel()
            await asyncio.gather(poller, *self._tasks, return_exceptions=True)
            await self._client.aclose()

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(HOOK_PATH, self._receive_webhook, methods=["POST"]),
                Route("/", self._show_counters, methods=["GET"]),
            ]
        )

    async def _show_counters(self, _request: Request) -> JSONResponse:
        mode = "pull" if self.pulling else "push"
        return JSONResponse(
            {"warehouse": self.config.warehouse, "mode": mode, **vars(self._counts)}
        )

    async def _receive_webhook(self, request: Request) -> JSONResponse:
        body = await request.body()
        secret = self._secret
        if secret is None:
            return JSONResponse({"error": "no secret to check webhooks with: pulling"}, 401)
        try:
            verify(secret, request.headers, body, now=int(time.time()))
        except InvalidSignature as exc:
            log.warning("wms_sim_webhook_refused", reason=str(exc))
            return JSONResponse({"error": str(exc)}, 401)
        try:
            event = json.loads(body)
            kind = event.get("type")
            order = (
                WorkOrder.from_json(event["data"]["fulfillment_order"])
                if kind == self._topic
                else None
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("wms_sim_webhook_malformed", error=str(exc))
            return JSONResponse({"error": f"not a released fulfillment order: {exc}"}, 400)
        if order is None:
            self._counts.ignored += 1
            log.info("wms_sim_webhook_ignored", type=kind)
            return JSONResponse({"outcome": "ignored"})
        return JSONResponse({"outcome": self._take(order, source="push")})

    async def _poll_forever(self) -> None:
        while True:
            if self.pulling:
                try:
                    await self._poll_once()
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    log.warning("wms_sim_poll_failed", error=str(exc))
            await asyncio.sleep(self.config.poll_interval)

    async def _poll_once(self) -> None:
        """Take every released fulfillment order of the warehouse, page after page."""
        params: dict[str, str | int] = {
            "warehouse": self.config.warehouse,
            "status": "released",
            "limit": self.config.page_size,
        }
        while True:
            answer = await self._client.get(FULFILLMENT_ORDERS, params=params)
            if not answer.is_success:
                log.warning(
                    "wms_sim_poll_refused", status=answer.status_code, body=answer.text[:500]
                )
                return
            page = answer.json()
            for item in page["items"]:
                try:
                    order = WorkOrder.from_json(item)
                except ValueError as exc:
                    log.warning("wms_sim_poll_skipped", error=str(exc))
                    continue
                self._take(order, source="pull")
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def _take(self, order: WorkOrder, *, source: str) -> str:
        """Start working a fulfillment order, unless it was taken already."""
        if order.id in self._taken:
            self._counts.duplicates += 1
            return "duplicate"
        self._taken.add(order.id)
        self._counts.received += 1
        plan = work.plan_work(
            order,
            seed=self._seed,
            warehouse=self.config.warehouse,
            short_rate=self.config.short_rate,
            reject_rate=self.config.reject_rate,
            choices=self.config.choices,
        )
        log.info(
            "wms_sim_received",
            fulfillment_order=order.number,
            source=source,
            units=order.units,
            plan="reject" if not plan.accepted else "short" if plan.short else "ship",
        )
        task = asyncio.get_running_loop().create_task(self._work(plan))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return "accepted"

    async def _work(self, plan: WorkPlan) -> None:
        """Ack, picking, packed, shipments, each after its delay; stop at a rejection."""
        config, counts = self.config, self._counts
        try:
            await asyncio.sleep(config.ack_delay)
            await self._send(plan, Step.ACK, work.ack_body(plan, warehouse=config.warehouse))
            if not plan.accepted:
                counts.rejected += 1
                return
            counts.acked += 1
            await asyncio.sleep(config.pick_delay)
            await self._send(plan, Step.PICKING, work.status_body(plan, Step.PICKING))
            counts.picking += 1
            await asyncio.sleep(config.pack_delay)
            await self._send(plan, Step.PACKED, work.status_body(plan, Step.PACKED))
            counts.packed += 1
            await asyncio.sleep(config.ship_delay)
            await self._send(plan, Step.SHIPMENT, work.shipment_body(plan))
            counts.shipped += 1
            counts.short += int(plan.short)
        except StepFailed:
            counts.failed += 1
        except Exception:
            counts.failed += 1
            log.exception("wms_sim_work_crashed", fulfillment_order=plan.order.number)

    async def _send(self, plan: WorkPlan, step: Step, body: dict[str, Any]) -> None:
        """POST one message (again on connection errors, 429 and 5xx); StepFailed if refused."""
        suffix = {Step.ACK: "ack", Step.SHIPMENT: "shipments"}.get(step, "status")
        path = f"{FULFILLMENT_ORDERS}/{plan.order.id}/{suffix}"
        fields = {"fulfillment_order": plan.order.number, "message_id": body["message_id"]}
        delay = self.config.retry_delay
        for attempt in range(1, self.config.retry_attempts + 1):
            try:
                answer = await self._client.post(path, json=body)
            except httpx.TransportError as exc:
                trouble = f"{type(exc).__name__}: {exc}"
            else:
                if answer.is_success:
                    outcome = answer.json().get("outcome")
                    log.info(f"wms_sim_{step.value}", outcome=outcome, **fields, **_what(body))
                    return
                if answer.status_code != 429 and answer.status_code < 500:
                    log.error(
                        "wms_sim_message_refused",
                        step=step.value,
                        status=answer.status_code,
                        body=answer.text[:500],
                        **fields,
                    )
                    raise StepFailed(f"{path}: HTTP {answer.status_code}")
                trouble = f"HTTP {answer.status_code}"
            if attempt < self.config.retry_attempts:
                log.warning(
                    "wms_sim_retrying", step=step.value, error=trouble, wait_s=delay, **fields
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_delay)
        log.error("wms_sim_message_undelivered", step=step.value, error=trouble, **fields)
        raise StepFailed(f"{path}: {trouble}")


def _what(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a message worth a log line: the decision, the status, what shipped."""
    if "accepted" in body:
        return {"accepted": body["accepted"], "reason": body.get("reason")}
    if "status" in body:
        return {"status": body["status"]}
    return {
        "carrier": body["carrier"],
        "service": body["service"],
        "tracking_numbers": [p["tracking_number"] for p in body["packages"]],
        "units": sum(line["quantity"] for line in body["lines"]),
    }


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (0: a free one), so the URL is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
