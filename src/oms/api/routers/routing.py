"""Routing: rule sets `/api/v1/routing/rule-sets` (versions per channel or the default, one
active each) and the explanation of an order's routing, `/api/v1/orders/{id}/routing`.

A rule set version never changes: its `version` is its ETag. POST makes the scope's next
version; an If-Match naming the newest version the client read (`"0"` when there was
none) refuses it with 412 when someone made another meanwhile.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from oms.api.deps import IfMatchDep, PageDep, SessionDep, require, set_etag
from oms.api.schemas import ListOf
from oms.auth.permissions import Permission
from oms.auth.principal import Principal
from oms.orders import lifecycle
from oms.routing import rule_sets
from oms.routing import service as routing
from oms.routing.rules import RuleSetIn
from oms.routing.schemas import PlanOut, RuleSetOut

router = APIRouter(tags=["routing"])

Reader = Annotated[Principal, Depends(require(Permission.ROUTING_READ))]
Manager = Annotated[Principal, Depends(require(Permission.ROUTING_MANAGE))]
OrderReader = Annotated[Principal, Depends(require(Permission.ORDERS_READ))]
RuleSetId = Annotated[int, Path(description="the rule set version's id")]

RULE_SETS = "/api/v1/routing/rule-sets"


@router.post(RULE_SETS, status_code=status.HTTP_201_CREATED)
def create_rule_set(
    body: RuleSetIn,
    tx: SessionDep,
    actor: Manager,
    version: IfMatchDep,
    response: Response,
    activate: Annotated[bool, Query(description="make it the active version at once")] = True,
) -> RuleSetOut:
    """Make the next version of a channel's rule set (`channel`), or of the default one
    (no channel); fields left out take the built-in default's value. 412 when If-Match names
    a version other than the newest; 422 naming each bad filter, ranking or policy."""
    made = rule_sets.create_rule_set(
        tx, body, actor=actor, activate=activate, expected_version=version
    )
    set_etag(response, made.version)
    response.headers["Location"] = f"{RULE_SETS}/{made.id}"
    return rule_sets.view(tx, made)


@router.get(RULE_SETS)
def list_rule_sets(
    tx: SessionDep,
    actor: Reader,
    page: PageDep,
    channel: Annotated[str | None, Query(description="one channel's versions")] = None,
    default: Annotated[bool, Query(description="the default rule set's versions")] = False,
    active: bool | None = None,
) -> ListOf[RuleSetOut]:
    """Rule set versions, oldest first; `active=true` lists the one in force per scope."""
    found = rule_sets.search_rule_sets(
        tx, page, actor=actor, channel=channel, default=default, active=active
    )
    return ListOf(items=rule_sets.views(tx, found.items), next_cursor=found.next_cursor)


@router.get(RULE_SETS + "/{rule_set_id}")
def get_rule_set(
    rule_set_id: RuleSetId, tx: SessionDep, actor: Reader, response: Response
) -> RuleSetOut:
    """One rule set version, its version number as the ETag."""
    found = rule_sets.get_rule_set(tx, rule_set_id, actor=actor)
    set_etag(response, found.version)
    return rule_sets.view(tx, found)


@router.post(RULE_SETS + "/{rule_set_id}/activate")
def activate_rule_set(
    rule_set_id: RuleSetId, tx: SessionDep, actor: Manager, response: Response
) -> RuleSetOut:
    """Make this version the active one of its channel (or of the default); activating an
    older version rolls back to it. Orders routed from now on use it."""
    found = rule_sets.activate_rule_set(tx, rule_set_id, actor=actor)
    set_etag(response, found.version)
    return rule_sets.view(tx, found)


@router.get("/api/v1/orders/{order_id}/routing")
def explain_order_routing(
    order_id: Annotated[int, Path(description="the order's id")],
    tx: SessionDep,
    actor: OrderReader,
) -> list[PlanOut]:
    """Every routing plan made for the order, oldest first: the rules used, what was
    reserved where, what was backordered, and per line each warehouse eligible or not and
    why, its scores, chosen or not and why."""
    order = lifecycle.get_order(tx, order_id, actor=actor)
    return routing.plans_of_order(tx, order.id)
