"""Safety stock rules and reorder settings.

Safety stock may be set per item, per warehouse, or per item × warehouse; the
most specific rule wins. The winning figure is kept on each balance row, so
that a reservation checks it within its one conditional statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import items, warehouses
from oms.errors import Problem, ValidationFailed
from oms.inventory import availability
from oms.inventory import repository as stock
from oms.inventory.models import ReorderSetting


def set_safety_stock(
    session: Session,
    *,
    quantity: int | None,
    sku: str | None = None,
    warehouse: str | None = None,
    actor: Principal,
) -> int:
    """Set (or, with `quantity=None`, remove) a safety stock rule; returns balances touched."""
    problems = []
    if sku is None and warehouse is None:
        problems.append(Problem("sku", "name an item, a warehouse, or both"))
    if quantity is not None and quantity < 0:
        problems.append(Problem("quantity", "must be zero or more"))
    if problems:
        raise ValidationFailed(problems)
    item_id = warehouse_id = None
    if sku is not None:
        item_id = items.get_item(session, sku).id
    if warehouse is not None:
        warehouse_id = warehouses.get_warehouse(session, warehouse, actor=actor).id
    stock.put_safety_rule(session, item_id=item_id, warehouse_id=warehouse_id, quantity=quantity)
    touched = stock.balances_under_rule(session, item_id=item_id, warehouse_id=warehouse_id)
    for balance in touched:
        effective = stock.effective_safety_stock(session, balance.item_id, balance.warehouse_id)
        stock.set_safety_stock(session, balance_ids=[balance.id], quantity=effective)
    availability.mark_changed(session, {b.item_id for b in touched})
    audit.record(
        session,
        actor=actor.label,
        action="inventory.safety_stock_set",
        entity_type="safety_stock",
        entity_id=f"{sku or '*'}@{warehouse or '*'}",
        after={"quantity": quantity},
    )
    return len(touched)


@dataclass(frozen=True)
class ReorderInput:
    reorder_point: int | None = None
    reorder_quantity: int | None = None
    min_quantity: int | None = None
    max_quantity: int | None = None


def set_reorder(
    session: Session, *, sku: str, warehouse: str, values: ReorderInput, actor: Principal
) -> ReorderSetting:
    """Reorder point and quantity, or min/max, for one item at one warehouse."""
    problems = []
    for name in ("reorder_point", "reorder_quantity", "min_quantity", "max_quantity"):
        value = getattr(values, name)
        if value is not None and value < 0:
            problems.append(Problem(name, "must be zero or more"))
    point_style = values.reorder_point is not None or values.reorder_quantity is not None
    minmax_style = values.min_quantity is not None or values.max_quantity is not None
    if point_style and minmax_style:
        problems.append(Problem("min_quantity", "use reorder point/quantity or min/max, not both"))
    if point_style and (values.reorder_point is None or values.reorder_quantity is None):
        problems.append(
            Problem("reorder_quantity", "reorder_point and reorder_quantity go together")
        )
    if minmax_style and (values.min_quantity is None or values.max_quantity is None):
        problems.append(Problem("max_quantity", "min_quantity and max_quantity go together"))
    if (
        values.min_quantity is not None
        and values.max_quantity is not None
        and values.max_quantity < values.min_quantity
    ):
        problems.append(Problem("max_quantity", "must be at least min_quantity"))
    if problems:
        raise ValidationFailed(problems)
    item = items.get_item(session, sku)
    found = warehouses.get_warehouse(session, warehouse, actor=actor)
    setting = stock.put_reorder(
        session,
        item_id=item.id,
        warehouse_id=found.id,
        reorder_point=values.reorder_point,
        reorder_quantity=values.reorder_quantity,
        min_quantity=values.min_quantity,
        max_quantity=values.max_quantity,
    )
    audit.record(
        session,
        actor=actor.label,
        action="inventory.reorder_set",
        entity_type="reorder_setting",
        entity_id=f"{item.sku}@{found.code}",
        after=values.__dict__,
    )
    return setting
