"""The outbox: side effects leave Item OMS only through here (ARCHITECTURE.md rule 8).

A service calls `record(session, topic, payload, key=...)` inside its own
transaction; the relay (`oms.jobs.relay`, run by `oms worker` or embedded in
`oms serve`) fans each event out to the webhook subscriptions whose topics
match, and delivers it with retries, keeping the order of events per key.

Modules: `models` (tables and the delivery state machine), `repository` (all
SQL), `dispatch` (the relay's steps: fan-out, claim, outcome), `signing`
(Standard Webhooks, pure), `retries` (backoff, pure), `subscriptions` and
`deliveries` (the admin's use cases: subscriptions, delivery log, redelivery).
"""

from oms.outbox.models import OutboxEvent
from oms.outbox.service import record, row

__all__ = ["OutboxEvent", "record", "row"]
