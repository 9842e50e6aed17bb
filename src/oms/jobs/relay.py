"""The outbox relay: fan new events out to subscriptions, then deliver due webhooks over HTTP.

One pass (`relay_once`) runs three kinds of short transactions: the fan-out,
the claim (deliveries go in flight under a lease, committed before any call
goes out), and one per delivery to record how its attempt went. No
transaction is open while a receiver is being called. Several relays may run
at once against PostgreSQL: claims use `FOR UPDATE SKIP LOCKED`, and an
outcome is only applied while the relay still holds the delivery's lease.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

import httpx
import structlog

from oms import __version__
from oms.config import Settings
from oms.db import Database
from oms.kit import clock
from oms.outbox import dispatch, signing
from oms.outbox.dispatch import Claim, Outcome, Result

log = structlog.get_logger("oms.relay")

FAN_OUT_LIMIT = 500
CLAIM_LIMIT = 20
LEASE_MARGIN_SECONDS = 30.0
RESPONSE_SNIPPET_BYTES = 300
USER_AGENT = f"ItemOMS-Webhooks/{__version__}"


@dataclass(frozen=True)
class RelayCounts:
    """What one relay pass did."""

    events: int = 0
    deliveries_created: int = 0
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0
    lease_lost: int = 0

    @property
    def did_work(self) -> bool:
        return bool(self.events or self.claimed)


def default_relay_name() -> str:
    """How the attempt log names this process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_seconds(settings: Settings, claim_limit: int) -> float:
    """Long enough to send a whole batch one by one, each up to the timeout."""
    return settings.webhook_timeout_seconds * (claim_limit + 1) + LEASE_MARGIN_SECONDS


def new_client(settings: Settings) -> httpx.Client:
    """The HTTP client webhooks go out with: no redirects followed, the configured timeout."""
    return httpx.Client(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )


def relay_once(
    database: Database,
    settings: Settings,
    *,
    relay_name: str,
    client: httpx.Client | None = None,
    fan_out_limit: int = FAN_OUT_LIMIT,
    claim_limit: int = CLAIM_LIMIT,
) -> RelayCounts:
    """One pass: fan out new events, then claim and send one batch of due deliveries."""
    with database.transaction() as session:
        fanned = dispatch.fan_out(session, limit=fan_out_limit)
    with database.transaction() as session:
        claims = dispatch.claim_due(
            session, limit=claim_limit, lease_seconds=lease_seconds(settings, claim_limit)
        )
    results: dict[Result, int] = {}
    if claims:
        http = client or new_client(settings)
        try:
            for claim in claims:
                result = _deliver(database, settings, http, claim, relay_name=relay_name)
                results[result] = results.get(result, 0) + 1
        finally:
            if client is None:
                http.close()
    return RelayCounts(
        events=fanned.events,
        deliveries_created=fanned.deliveries,
        claimed=len(claims),
        delivered=results.get(Result.DELIVERED, 0),
        retrying=results.get(Result.RETRY, 0),
        dead=results.get(Result.DEAD, 0),
        released=results.get(Result.RELEASED, 0),
        lease_lost=results.get(Result.LEASE_LOST, 0),
    )


def _deliver(
    database: Database,
    settings: Settings,
    http: httpx.Client,
    claim: Claim,
    *,
    relay_name: str,
) -> Result:
    context = {
        "event_id": claim.message_id,
        "delivery_id": claim.delivery_id,
        "subscription_id": claim.subscription_id,
        "attempt": claim.attempt,
        "topic": claim.topic,
        "relay": relay_name,
    }
    if clock.now().timestamp() + settings.webhook_timeout_seconds >= claim.lease_until.timestamp():
        # Sending now could outlive the lease and let another relay send it too.
        with database.transaction() as session:
            dispatch.release(session, claim)
        log.info("webhook_released", **context)
        return Result.RELEASED
    outcome = send(http, claim, timeout=settings.webhook_timeout_seconds)
    with database.transaction() as session:
        result, delivery = dispatch.record_outcome(
            session,
            claim,
            outcome,
            relay=relay_name,
            max_attempts=settings.webhook_max_attempts,
            backoff_seconds=settings.webhook_backoff_seconds,
        )
    fields = {**context, "status": outcome.status_code, "latency_ms": round(outcome.latency_ms, 1)}
    if result == Result.DELIVERED:
        log.info("webhook_delivered", **fields)
    elif result == Result.RETRY:
        assert delivery is not None
        log.warning(
            "webhook_failed_will_retry",
            **fields,
            error=outcome.describe(),
            next_attempt_at=delivery.next_attempt_at.isoformat(),
        )
    elif result == Result.DEAD:
        log.error("webhook_dead_lettered", **fields, error=outcome.describe())
    else:
        log.warning("webhook_lease_lost", **fields)
    return result


def send(http: httpx.Client, claim: Claim, *, timeout: float) -> Outcome:
    """POST one signed message; the outcome says what the receiver answered, and how fast."""
    timestamp = int(clock.now().timestamp())
    headers = {
        "content-type": "application/json",
        **signing.headers(
            claim.secret, message_id=claim.message_id, timestamp=timestamp, body=claim.body
        ),
    }
    started = time.perf_counter()
    try:
        with http.stream(
            "POST", claim.url, content=claim.body, headers=headers, timeout=timeout
        ) as response:
            latency_ms = _since(started)
            if 200 <= response.status_code < 300:
                return Outcome(response.status_code, latency_ms)
            snippet = _read_some(response)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        return Outcome(None, _since(started), error=f"{type(exc).__name__}: {exc}".strip())
    error = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")
    return Outcome(response.status_code, latency_ms, error=error)


def _read_some(response: httpx.Response) -> str:
    # A receiver's error page may be huge; the log keeps its start only.
    taken = b""
    for chunk in response.iter_bytes():
        taken += chunk
        if len(taken) >= RESPONSE_SNIPPET_BYTES:
            break
    return taken[:RESPONSE_SNIPPET_BYTES].decode("utf-8", "replace").strip()


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
