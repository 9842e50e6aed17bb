"""Every model module, imported so that Alembic and the tests see the whole schema.

Only migrations/env.py and tests import this; business code never does.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from oms import audit, idempotency, sequences
from oms.auth import models as auth_models
from oms.catalog import models as catalog_models
from oms.db import Base
from oms.fulfillment import models as fulfillment_models
from oms.inbox import models as inbox_models
from oms.inventory import models as inventory_models
from oms.orders import models as order_models
from oms.outbox import models as outbox_models
from oms.routing import models as routing_models

_LOADED = (
    audit,
    idempotency,
    sequences,
    inbox_models,
    auth_models,
    catalog_models,
    fulfillment_models,
    inventory_models,
    order_models,
    outbox_models,
    routing_models,
)


def metadata() -> MetaData:
    """The metadata of the whole schema."""
    return Base.metadata
