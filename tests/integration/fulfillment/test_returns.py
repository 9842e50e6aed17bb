"""Returns (RMA) from request to restock: quantities, the WMS's receipt, inspection with
its ledger movements, refunds under each shipping policy, and the transition table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.audit import AuditEntry
from oms.auth.principal import SYSTEM
from oms.catalog import repository as catalog
from oms.db import Database
from oms.errors import Conflict, InvalidTransition, ValidationFailed
from oms.fulfillment import returns, returns_receiving, returns_repository
from oms.fulfillment.models import (
    MessageOutcome,
    Return,
    ReturnLine,
    ReturnStatus,
    Shipment,
    WmsMessage,
)
from oms.fulfillment.returns_schemas import InspectionIn, ReceiptIn, ReturnIn
from oms.inventory import repository as stock
from oms.inventory.models import Movement, MovementKind
from oms.orders import backorders
from oms.orders import repository as orders
from oms.orders.lifecycle import OrderNotFound
from oms.orders.models import OrderEvent
from oms.outbox.models import OutboxEvent
from tests.conftest import AuthHeaders
from tests.integration.fulfillment import factories
from tests.integration.orders import factories as order_data
from tests.integration.routing import factories as network

ONE_WAREHOUSE = {("ABC-1", "DAL"): 10, ("XYZ-9", "DAL"): 10}
"""Stock only at DAL, so every line ships from there."""


@pytest.fixture
def shipped(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> Any:  # a maker of shipped orders
    def make(
        lines: list[dict[str, Any]] | None = None,
        *,
        shipping_charge: str = "0",
        on_hand: dict[tuple[str, str], int] | None = None,
    ) -> int:
        return factories.shipped_order(
            db,
            client,
            auth_headers("warehouse"),
            lines=lines or [{"sku": "ABC-1", "quantity": 3, "unit_price": "20"}],
            shipping_charge=shipping_charge,
            on_hand=on_hand or ONE_WAREHOUSE,
        )

    return make


def request(session: Session, order_id: int, *lines: tuple[int, int], **options: Any) -> Return:
    """A return of (line number, units) of the order, by SYSTEM."""
    body = ReturnIn.model_validate(
        {
            "order_id": order_id,
            "lines": [{"line_number": n, "quantity": q} for n, q in lines],
            "reason": "too small",
            **options,
        }
    )
    return returns.request_return(session, body, actor=SYSTEM)


def receive(session: Session, rma: Return, message_id: str, *lines: tuple[int, int]) -> Any:
    body = ReceiptIn.model_validate(
        {"message_id": message_id, "lines": [{"line_number": n, "quantity": q} for n, q in lines]}
    )
    return returns_receiving.receive(session, rma.id, body, actor=SYSTEM, inbox_id=None)


def inspect(session: Session, rma: Return, *lines: tuple[int, int, int]) -> Return:
    body = InspectionIn.model_validate(
        {"lines": [{"line_number": n, "resellable": r, "damaged": d} for n, r, d in lines]}
    )
    return returns_receiving.inspect(session, rma.id, body, actor=SYSTEM)


def authorized(db: Database, order_id: int, *lines: tuple[int, int], **options: Any) -> int:
    with db.transaction() as session:
        rma = request(session, order_id, *lines, **options)
        returns.authorize(session, rma.id, actor=SYSTEM)
        return rma.id


def received(db: Database, order_id: int, *lines: tuple[int, int], **options: Any) -> int:
    rma_id = authorized(db, order_id, *lines, **options)
    with db.transaction() as session:
        receive(session, returns.get_return(session, rma_id, actor=SYSTEM), "r1", *lines)
    return rma_id


def the_return(session: Session, rma_id: int) -> Return:
    return returns.get_return(session, rma_id, actor=SYSTEM)


def on_hand(session: Session, sku: str, warehouse: str) -> int:
    item = catalog.item_by_sku(session, sku)
    found = catalog.warehouse_by_code(session, warehouse)
    assert item is not None
    assert found is not None
    balance = stock.balance(session, item.id, found.id)
    return balance.on_hand if balance else 0


def movements(session: Session, number: str) -> list[tuple[str, int, str | None]]:
    rows = session.scalars(
        select(Movement)
        .where(Movement.reference_type == "return", Movement.reference_id == number)
        .order_by(Movement.id)
    )
    return [(m.kind, m.on_hand_delta, m.reason) for m in rows]


def topics(session: Session, prefix: str) -> list[str]:
    found = session.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id))
    return [t for t in found if t.startswith(prefix)]


def returns_lines(session: Session, rma_id: int) -> list[ReturnLine]:
    return returns_repository.lines_of(session, [rma_id])


def refund_due(session: Session) -> dict[str, Any]:
    [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "return.refund_due"))
    return dict(event.payload)


# -- from request to restock ----------------------------------------------------------------


def test_an_rma_from_request_to_restock_puts_the_units_back_on_hand_through_the_ledger(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()
    with db.transaction() as session:
        before = on_hand(session, "ABC-1", "DAL")
        rma = request(session, order_id, (1, 2))
        returns.authorize(session, rma.id, actor=SYSTEM)
        receive(session, rma, "rcv-1", (1, 2))

        inspect(session, rma, (1, 2, 0))

        now = the_return(session, rma.id)
        assert now.status == ReturnStatus.RESTOCKED
        assert movements(session, now.number) == [("return_restock", 2, "resellable")]
        assert on_hand(session, "ABC-1", "DAL") == before + 2
        assert order_data.ledger_holds(session)
        [line] = orders.lines_of(session, order_id)
        assert (line.shipped, line.returned) == (3, 2)

        closed = returns.close(session, rma.id, actor=SYSTEM)
        assert closed.status == ReturnStatus.CLOSED
        assert closed.closed_at is not None


def test_every_action_is_audited_announced_and_on_the_orders_timeline(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()
    rma_id = received(db, order_id, (1, 1))

    with db.transaction() as session:
        inspect(session, the_return(session, rma_id), (1, 1, 0))
        returns.close(session, rma_id, actor=SYSTEM)

        steps = ["requested", "authorized", "received", "inspected", "closed"]
        assert topics(session, "return.") == [
            "return.requested",
            "return.authorized",
            "return.received",
            "return.inspected",
            "return.refund_due",
            "return.closed",
        ]
        events = session.scalars(
            select(OrderEvent.type).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        assert [e for e in events if e.startswith("return_")] == [f"return_{s}" for s in steps]
        audited = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "return")
            .order_by(AuditEntry.id)
        )
        assert list(audited) == [f"return.{s}" for s in steps]


def test_damaged_units_are_counted_in_and_written_off_at_once(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = received(db, order_id, (1, 3))

    with db.transaction() as session:
        before = on_hand(session, "ABC-1", "DAL")
        inspect(session, the_return(session, rma_id), (1, 2, 1))

        rma = the_return(session, rma_id)
        assert rma.status == ReturnStatus.RESTOCKED
        assert movements(session, rma.number) == [
            (MovementKind.RETURN_RESTOCK, 2, "resellable"),
            (MovementKind.RECEIPT, 1, "return_damaged"),
            (MovementKind.WRITE_OFF, -1, "damaged"),
        ]
        assert on_hand(session, "ABC-1", "DAL") == before + 2
        assert order_data.ledger_holds(session)


def test_a_return_with_nothing_resellable_is_scrapped(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = received(db, order_id, (1, 2))

    with db.transaction() as session:
        before = on_hand(session, "ABC-1", "DAL")
        inspect(session, the_return(session, rma_id), (1, 0, 2))

        assert the_return(session, rma_id).status == ReturnStatus.SCRAPPED
        assert on_hand(session, "ABC-1", "DAL") == before
        assert order_data.ledger_holds(session)
        [line] = orders.lines_of(session, order_id)
        assert line.returned == 2


def test_restocked_units_serve_a_backorder_of_the_item(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    order_id = factories.shipped_order(
        db, client, auth_headers("warehouse"), on_hand={("ABC-1", "DAL"): 3}
    )
    with db.transaction() as session:
        waiting = factories.priced_order(
            session, "1002", lines=[{"sku": "ABC-1", "quantity": 2, "unit_price": "20"}]
        )
        [line] = orders.lines_of(session, waiting)
        assert line.backordered == 2
    rma_id = received(db, order_id, (1, 2))
    with db.transaction() as session:
        inspect(session, the_return(session, rma_id), (1, 2, 0))

    with db.transaction() as session:
        done = backorders.reallocate_backorders(session, actor=SYSTEM)

        assert done.units == 2
        [line] = orders.lines_of(session, waiting)
        assert (line.backordered, line.allocated) == (0, 2)
        assert order_data.ledger_holds(session)


def test_a_return_comes_back_by_default_to_the_warehouse_that_shipped_it(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()

    with db.transaction() as session:
        rma = request(session, order_id, (1, 1))

        [shipment] = session.scalars(select(Shipment).where(Shipment.order_id == order_id))
        assert rma.warehouse_id == shipment.warehouse_id
        assert returns.view(session, [rma])[0].warehouse == "DAL"


def test_a_return_may_name_another_warehouse(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = received(db, order_id, (1, 1), warehouse="EDI")

    with db.transaction() as session:
        before = on_hand(session, "ABC-1", "EDI")
        inspect(session, the_return(session, rma_id), (1, 1, 0))

        assert on_hand(session, "ABC-1", "EDI") == before + 1
        assert order_data.ledger_holds(session)


# -- quantities -----------------------------------------------------------------------------


def test_asking_back_more_than_was_shipped_is_refused_naming_the_line_and_the_units_allowed(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        request(session, order_id, (1, 4))

    [problem] = refused.value.problems
    assert problem.path == "lines[0].quantity"
    assert problem.code == "return.too_many_units"
    assert "at most 3 units" in problem.message


def test_units_on_an_open_return_cannot_be_asked_back_again_until_it_is_rejected(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()
    with db.transaction() as session:
        first = request(session, order_id, (1, 2))

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        request(session, order_id, (1, 2))
    with db.transaction() as session:
        returns.reject(session, first.id, reason="outside the return window", actor=SYSTEM)
        again = request(session, order_id, (1, 3))

    assert "at most 1 units" in refused.value.problems[0].message
    assert again.status == ReturnStatus.REQUESTED


def test_units_already_returned_cannot_come_back_twice(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = received(db, order_id, (1, 2))
    with db.transaction() as session:
        inspect(session, the_return(session, rma_id), (1, 2, 0))

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        request(session, order_id, (1, 2))

    assert "at most 1 units" in refused.value.problems[0].message


def test_units_authorized_but_never_received_are_freed_by_the_inspection(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()
    rma_id = authorized(db, order_id, (1, 3))
    with db.transaction() as session:
        receive(session, the_return(session, rma_id), "r1", (1, 1))
        inspect(session, the_return(session, rma_id), (1, 1, 0))

    with db.transaction() as session:
        again = request(session, order_id, (1, 2))

        assert again.status == ReturnStatus.REQUESTED


def test_an_unshipped_or_unknown_line_cannot_be_returned(
    db: Database, client: TestClient, auth_headers: AuthHeaders
) -> None:
    with db.transaction() as session:
        network.network(session, on_hand=ONE_WAREHOUSE)
        order_id = factories.priced_order(session)

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        request(session, order_id, (1, 1), (7, 1))

    assert [(p.path, p.code) for p in refused.value.problems] == [
        ("lines[0].quantity", "return.too_many_units"),
        ("lines[1].line_number", "return.unknown_line"),
    ]


# -- the receipt ----------------------------------------------------------------------------


def test_a_duplicate_receipt_message_changes_nothing(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = authorized(db, order_id, (1, 2))
    with db.transaction() as session:
        first = receive(session, the_return(session, rma_id), "rcv-1", (1, 1))
        version = the_return(session, rma_id).version

    with db.transaction() as session:
        again = receive(session, the_return(session, rma_id), "rcv-1", (1, 1))

        assert (first.outcome, again.outcome) == (MessageOutcome.APPLIED, MessageOutcome.DUPLICATE)
        rma = the_return(session, rma_id)
        assert rma.version == version
        assert [line.received for line in returns_lines(session, rma_id)] == [1]
        kept = session.scalars(select(WmsMessage).where(WmsMessage.return_id == rma_id))
        assert len(list(kept)) == 1
        assert topics(session, "return.received") == ["return.received"]


def test_receipts_add_up_and_never_beyond_what_was_authorized(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = authorized(db, order_id, (1, 2))
    with db.transaction() as session:
        receive(session, the_return(session, rma_id), "rcv-1", (1, 1))

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        receive(session, the_return(session, rma_id), "rcv-2", (1, 2))
    with db.transaction() as session:
        receive(session, the_return(session, rma_id), "rcv-3", (1, 1))
        [line] = returns_lines(session, rma_id)

    [problem] = refused.value.problems
    assert problem.path == "lines[0].quantity"
    assert "at most 1 more" in problem.message
    assert line.received == 2


def test_the_inspection_accounts_for_every_received_unit(db: Database, shipped: Any) -> None:
    order_id = shipped()
    rma_id = received(db, order_id, (1, 2))

    with db.transaction() as session, pytest.raises(ValidationFailed) as refused:
        inspect(session, the_return(session, rma_id), (1, 1, 0))

    [problem] = refused.value.problems
    assert (problem.path, problem.code) == ("lines[0]", "return.inspection_mismatch")


# -- refunds --------------------------------------------------------------------------------

PRICED = [
    {"sku": "ABC-1", "quantity": 4, "unit_price": "25.00", "discount": "10.00", "tax": "7.00"},
    {"sku": "XYZ-9", "quantity": 2, "unit_price": "15.00"},
]
"""Shipped value: ABC-1 100 − 10 + 7 = 97; XYZ-9 30; 127 in all."""


def test_a_lines_refund_is_its_price_less_its_discount_share_plus_its_tax_share(
    db: Database, shipped: Any
) -> None:
    order_id = shipped(PRICED)
    rma_id = authorized(db, order_id, (1, 1))

    with db.transaction() as session:
        rma = the_return(session, rma_id)
        [line] = returns_lines(session, rma_id)

        # 25 − 10 × 1/4 + 7 × 1/4 = 24.25
        assert line.refund_amount == Decimal("24.25")
        assert rma.refund_amount == Decimal("24.25")


def test_a_refund_is_rounded_to_the_currencys_precision(db: Database, shipped: Any) -> None:
    order_id = shipped([{"sku": "ABC-1", "quantity": 3, "unit_price": "10.00", "tax": "1.00"}])
    rma_id = authorized(db, order_id, (1, 1))

    with db.transaction() as session:
        # 10 + 1/3 = 10.333… → 10.33
        assert the_return(session, rma_id).refund_amount == Decimal("10.33")


def test_no_shipping_is_refunded_under_policy_none(db: Database, shipped: Any) -> None:
    order_id = shipped(PRICED, shipping_charge="12.70")
    rma_id = authorized(db, order_id, (1, 4), (2, 2), shipping_refund="none")

    with db.transaction() as session:
        shown = returns.view(session, [the_return(session, rma_id)])[0]

        assert shown.shipping_refund_amount == Decimal(0)
        assert shown.refund_amount == Decimal("127.00")


def test_the_full_shipping_charge_comes_back_only_with_the_last_shipped_unit(
    db: Database, shipped: Any
) -> None:
    order_id = shipped(PRICED, shipping_charge="12.70")
    part = received(db, order_id, (1, 4), shipping_refund="full")
    with db.transaction() as session:
        inspect(session, the_return(session, part), (1, 4, 0))
        first = returns.view(session, [the_return(session, part)])[0]

    rest = authorized(db, order_id, (2, 2), shipping_refund="full")

    with db.transaction() as session:
        last = returns.view(session, [the_return(session, rest)])[0]
        assert first.shipping_refund_amount == Decimal(0)
        assert last.shipping_refund_amount == Decimal("12.70")
        assert last.refund_amount == Decimal("42.70")


def test_a_prorated_shipping_refund_follows_the_value_returned(db: Database, shipped: Any) -> None:
    order_id = shipped(PRICED, shipping_charge="12.70")
    rma_id = authorized(db, order_id, (2, 2), shipping_refund="prorated")

    with db.transaction() as session:
        shown = returns.view(session, [the_return(session, rma_id)])[0]

        # 12.70 × 30 / 127 = 3.00
        assert shown.shipping_refund_amount == Decimal("3.00")
        assert shown.refund_amount == Decimal("33.00")


def test_the_refund_is_priced_again_on_the_units_received_and_announced_as_due(
    db: Database, shipped: Any
) -> None:
    order_id = shipped(PRICED, shipping_charge="12.70")
    rma_id = authorized(db, order_id, (1, 4), (2, 2), shipping_refund="full")
    with db.transaction() as session:
        assert the_return(session, rma_id).refund_amount == Decimal("139.70")
        receive(session, the_return(session, rma_id), "r1", (2, 1))

    with db.transaction() as session:
        inspect(session, the_return(session, rma_id), (2, 1, 0))

        order = orders.order_by_id(session, order_id)
        assert order is not None
        due = refund_due(session)
        assert the_return(session, rma_id).refund_amount == Decimal("15.00")
        assert due["amount"] == "15.00"
        assert due["shipping_amount"] == "0.00"
        assert due["currency"] == "USD"
        assert due["order_number"] == order.number
        assert due["channel_order_id"] == order.external_id
        assert due["channel"] == "web"
        assert due["lines"] == [
            {
                "line_number": 2,
                "sku": "XYZ-9",
                "quantity": 1,
                "resellable": 1,
                "damaged": 0,
                "amount": "15.00",
            }
        ]


# -- the transition table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "action", "code"),
    [
        ([], "receive", "return.cannot_receive_requested"),
        ([], "inspect", "return.cannot_inspect_requested"),
        ([], "close", "return.cannot_close_requested"),
        (["authorize"], "authorize", "return.cannot_authorize_authorized"),
        (["authorize"], "reject", "return.cannot_reject_authorized"),
        (["authorize"], "inspect", "return.cannot_inspect_authorized"),
        (["reject"], "authorize", "return.cannot_authorize_rejected"),
        (["reject"], "close", "return.cannot_close_rejected"),
        (["authorize", "receive"], "close", "return.cannot_close_received"),
        (["authorize", "receive", "inspect"], "receive", "return.cannot_receive_restocked"),
        (["authorize", "close"], "receive", "return.cannot_receive_closed"),
    ],
)
def test_an_action_its_status_does_not_allow_is_refused_with_a_stable_code(
    db: Database, shipped: Any, steps: list[str], action: str, code: str
) -> None:
    order_id = shipped()
    with db.transaction() as session:
        rma_id = request(session, order_id, (1, 1)).id
    for step in steps:
        with db.transaction() as session:
            act(session, rma_id, step, "first")

    with db.transaction() as session, pytest.raises(InvalidTransition) as refused:
        act(session, rma_id, action, "second")

    assert refused.value.code == code


def act(session: Session, rma_id: int, action: str, message_id: str) -> None:
    rma = the_return(session, rma_id)
    if action == "authorize":
        returns.authorize(session, rma_id, actor=SYSTEM)
    elif action == "reject":
        returns.reject(session, rma_id, reason="no", actor=SYSTEM)
    elif action == "receive":
        receive(session, rma, message_id, (1, 1))
    elif action == "inspect":
        inspect(session, rma, (1, 1, 0))
    else:
        returns.close(session, rma_id, actor=SYSTEM)


# -- scope ----------------------------------------------------------------------------------


def test_an_order_of_a_channel_outside_the_scope_does_not_exist(db: Database, shipped: Any) -> None:
    order_id = shipped()
    outsider = order_data.scoped("b2b")
    body = ReturnIn.model_validate(
        {"order_id": order_id, "lines": [{"line_number": 1, "quantity": 1}]}
    )

    with db.transaction() as session, pytest.raises(OrderNotFound):
        returns.request_return(session, body, actor=outsider)


def test_a_message_id_the_warehouse_used_for_a_shipment_is_refused_for_a_receipt(
    db: Database, shipped: Any
) -> None:
    order_id = shipped()
    rma_id = authorized(db, order_id, (1, 1))
    with db.transaction() as session:
        [used] = session.scalars(select(WmsMessage.message_id))

    with db.transaction() as session, pytest.raises(Conflict) as refused:
        receive(session, the_return(session, rma_id), used, (1, 1))

    assert refused.value.code == "return.message_id_reused"
