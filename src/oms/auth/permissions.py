"""The permission matrix: every permission, and the roles that hold it.

This table is the single source of truth. `docs/PERMISSIONS.md` is generated
from it (`oms permissions --markdown`), and a test walks every route of the
API against it for every role.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SALES_OPS = "sales_ops"
    PURCHASING = "purchasing"
    WAREHOUSE = "warehouse"
    INTEGRATION = "integration"
    VIEWER = "viewer"


class Permission(StrEnum):
    CATALOG_READ = "catalog.read"
    ITEMS_WRITE = "items.write"
    WAREHOUSES_WRITE = "warehouses.write"
    CHANNELS_WRITE = "channels.write"
    SUPPLIERS_WRITE = "suppliers.write"
    CUSTOMERS_WRITE = "customers.write"
    INVENTORY_READ = "inventory.read"
    INVENTORY_ADJUST = "inventory.adjust"
    INVENTORY_RESERVE = "inventory.reserve"
    INVENTORY_SNAPSHOT = "inventory.snapshot"
    INVENTORY_SETTINGS = "inventory.settings"
    AUDIT_READ = "audit.read"
    WEBHOOKS_MANAGE = "webhooks.manage"
    PRINCIPALS_MANAGE = "principals.manage"
    ORDERS_READ = "orders.read"
    ORDERS_MANAGE = "orders.manage"
    ORDERS_WRITE = "orders.write"
    INBOX_READ = "inbox.read"
    INBOX_REPLAY = "inbox.replay"
    ROUTING_READ = "routing.read"
    ROUTING_MANAGE = "routing.manage"
    FULFILLMENT_READ = "fulfillment.read"
    FULFILLMENT_RELEASE = "fulfillment.release"
    FULFILLMENT_CONFIGURE = "fulfillment.configure"
    WMS_REPORT = "fulfillment.wms"
    TRACKING_CONFIGURE = "tracking.configure"
    RETURNS_MANAGE = "returns.manage"
    RETURNS_INSPECT = "returns.inspect"


R = Role
ALL_ROLES = frozenset(Role)

MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.CATALOG_READ: ALL_ROLES,
    Permission.ITEMS_WRITE: frozenset({R.ADMIN, R.PURCHASING, R.INTEGRATION}),
    Permission.WAREHOUSES_WRITE: frozenset({R.ADMIN}),
    Permission.CHANNELS_WRITE: frozenset({R.ADMIN}),
    Permission.SUPPLIERS_WRITE: frozenset({R.ADMIN, R.PURCHASING}),
    Permission.CUSTOMERS_WRITE: frozenset({R.ADMIN, R.SALES_OPS, R.INTEGRATION}),
    Permission.INVENTORY_READ: ALL_ROLES,
    Permission.INVENTORY_ADJUST: frozenset({R.ADMIN, R.WAREHOUSE}),
    Permission.INVENTORY_RESERVE: frozenset({R.ADMIN, R.SALES_OPS, R.INTEGRATION}),
    Permission.INVENTORY_SNAPSHOT: frozenset({R.ADMIN, R.WAREHOUSE, R.INTEGRATION}),
    Permission.INVENTORY_SETTINGS: frozenset({R.ADMIN, R.PURCHASING}),
    Permission.AUDIT_READ: frozenset({R.ADMIN}),
    Permission.WEBHOOKS_MANAGE: frozenset({R.ADMIN}),
    Permission.PRINCIPALS_MANAGE: frozenset({R.ADMIN}),
    Permission.ORDERS_READ: ALL_ROLES,
    Permission.ORDERS_MANAGE: frozenset({R.ADMIN, R.SALES_OPS}),
    Permission.ORDERS_WRITE: frozenset({R.ADMIN, R.SALES_OPS, R.INTEGRATION}),
    Permission.INBOX_READ: frozenset({R.ADMIN, R.SALES_OPS, R.INTEGRATION}),
    Permission.INBOX_REPLAY: frozenset({R.ADMIN, R.SALES_OPS, R.INTEGRATION}),
    Permission.ROUTING_READ: ALL_ROLES,
    Permission.ROUTING_MANAGE: frozenset({R.ADMIN}),
    Permission.FULFILLMENT_READ: ALL_ROLES,
    Permission.FULFILLMENT_RELEASE: frozenset({R.ADMIN, R.SALES_OPS}),
    Permission.FULFILLMENT_CONFIGURE: frozenset({R.ADMIN}),
    Permission.WMS_REPORT: frozenset({R.ADMIN, R.WAREHOUSE, R.INTEGRATION}),
    Permission.TRACKING_CONFIGURE: frozenset({R.ADMIN}),
    Permission.RETURNS_MANAGE: frozenset({R.ADMIN, R.SALES_OPS, R.INTEGRATION}),
    Permission.RETURNS_INSPECT: frozenset({R.ADMIN, R.SALES_OPS, R.WAREHOUSE}),
}

DESCRIPTIONS: dict[Permission, str] = {
    Permission.CATALOG_READ: "read items, warehouses, channels, suppliers, customers",
    Permission.ITEMS_WRITE: "create, update, deactivate and import items",
    Permission.WAREHOUSES_WRITE: "create, update and deactivate warehouses",
    Permission.CHANNELS_WRITE: "create, update and deactivate channels",
    Permission.SUPPLIERS_WRITE: "create, update and deactivate suppliers",
    Permission.CUSTOMERS_WRITE: "create, update and deactivate customers",
    Permission.INVENTORY_READ: "read balances, movements, reservations, channel availability",
    Permission.INVENTORY_ADJUST: "post adjustments and transfers, receive transfers",
    Permission.INVENTORY_RESERVE: "reserve, release and move stock reservations",
    Permission.INVENTORY_SNAPSHOT: "send WMS stock snapshots and decide parked differences",
    Permission.INVENTORY_SETTINGS: "set safety stock and reorder settings",
    Permission.AUDIT_READ: "read the audit trail",
    Permission.WEBHOOKS_MANAGE: "manage webhook subscriptions, read deliveries, redeliver",
    Permission.PRINCIPALS_MANAGE: "manage users and API keys",
    Permission.ORDERS_READ: "read sales orders, their lines, holds and timeline",
    Permission.ORDERS_MANAGE: "hold, release, edit, cancel and close sales orders",
    Permission.ORDERS_WRITE: "send sales orders, one or in bulk (intake)",
    Permission.INBOX_READ: "read inbound payloads as received, with their outcome and errors",
    Permission.INBOX_REPLAY: "run a failed inbound payload again after a fix",
    Permission.ROUTING_READ: "read routing rule sets and their versions",
    Permission.ROUTING_MANAGE: "make and activate routing rule set versions",
    Permission.FULFILLMENT_READ: "read fulfillment orders, shipments, tracking and returns",
    Permission.FULFILLMENT_RELEASE: "release fulfillment orders to their warehouse by hand",
    Permission.FULFILLMENT_CONFIGURE: "configure warehouses' WMS connections and release rules",
    Permission.WMS_REPORT: "send WMS messages: acknowledgements, statuses, shipments, receipts",
    Permission.TRACKING_CONFIGURE: "set tracking providers' webhook secrets",
    Permission.RETURNS_MANAGE: "request, authorize, reject and close returns",
    Permission.RETURNS_INSPECT: "record the inspection of returned goods",
}


def roles_with(permission: Permission) -> frozenset[Role]:
    """The roles that hold `permission`."""
    return MATRIX[permission]


def allows(roles: frozenset[Role], permission: Permission) -> bool:
    """True when any of `roles` holds `permission`."""
    return bool(roles & MATRIX[permission])


def matrix_markdown() -> str:
    """The matrix as a Markdown table, for docs/PERMISSIONS.md."""
    header = "| permission | what it allows | " + " | ".join(r.value for r in Role) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in Role) + " |"
    rows = [
        f"| `{p.value}` | {DESCRIPTIONS[p]} | "
        + " | ".join("✓" if r in MATRIX[p] else "" for r in Role)
        + " |"
        for p in Permission
    ]
    intro = (
        "# Permissions\n\nGenerated from `src/oms/auth/permissions.py` by "
        "`oms permissions --markdown`; do not edit by hand.\n\n"
    )
    return intro + "\n".join([header, rule, *rows]) + "\n"
