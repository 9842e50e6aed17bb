"""Rule sets as admins manage them: versions per channel (or the default), one active each.

A change never edits a version: it makes the scope's next version (1, 2, …),
active at once unless asked otherwise; an older version can be made active
again (a roll-back is an activation). Until the default scope has an active
version, `model.DEFAULT_RULE_SET` applies to every channel without its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oms import audit
from oms.auth.principal import Principal
from oms.catalog import repository as catalog
from oms.catalog.models import Channel
from oms.errors import Conflict, NotFound, PreconditionFailed, Problem, ValidationFailed
from oms.kit import clock
from oms.kit.paging import Page, PageRequest
from oms.routing import repository, rules
from oms.routing.model import DEFAULT_RULE_SET, RuleSet
from oms.routing.models import DEFAULT_SCOPE, RoutingRuleSet
from oms.routing.rules import RuleSetIn, RuleSetRules
from oms.routing.schemas import RuleSetOut


class RuleSetNotFound(NotFound):
    def __init__(self, rule_set_id: int) -> None:
        super().__init__("rule set", rule_set_id, code="routing.rule_set_not_found")


class RuleSetVersionTaken(Conflict):
    def __init__(self, scope: str, version: int) -> None:
        super().__init__(
            f"version {version} of the {scope} rule set was made meanwhile; read and retry",
            code="routing.rule_set_version_taken",
            scope=scope,
            version=version,
        )


def _scope_name(channel: Channel | None) -> str:
    return f"channel {channel.code}" if channel is not None else "default"


def _channel(session: Session, code: str | None, *, actor: Principal) -> Channel | None:
    """The channel a rule set is for (None: the default); outside the actor's scope it is
    unknown."""
    if code is None:
        return None
    channel = catalog.channel_by_code(session, code)
    if channel is None or not actor.sees_channel(channel.code):
        raise ValidationFailed(
            [Problem("channel", f"no channel has the code {code}", "routing.unknown_channel")]
        )
    return channel


def view(session: Session, rule_set: RoutingRuleSet) -> RuleSetOut:
    """A rule set version as the API shows it."""
    return views(session, [rule_set])[0]


def views(session: Session, found: list[RoutingRuleSet]) -> list[RuleSetOut]:
    """Rule set versions as the API shows them (one query for their channels' codes)."""
    codes = {
        c.id: c.code
        for c in catalog.channels_by_ids(session, {r.channel_id for r in found if r.channel_id})
    }
    shown = []
    for rule_set in found:
        given = RuleSetRules.model_validate(rule_set.rules)
        shown.append(
            RuleSetOut(
                id=rule_set.id,
                channel=codes.get(rule_set.channel_id) if rule_set.channel_id else None,
                version=rule_set.version,
                active=rule_set.active,
                rules=given,
                description=list(rules.describe(given.to_rule_set())),
                note=rule_set.note,
                created_by=rule_set.created_by,
                created_at=rule_set.created_at,
                activated_by=rule_set.activated_by,
                activated_at=rule_set.activated_at,
            )
        )
    return shown


def create_rule_set(
    session: Session,
    data: RuleSetIn,
    *,
    actor: Principal,
    activate: bool = True,
    expected_version: int | None = None,
) -> RoutingRuleSet:
    """Make the next version of a channel's rule set (or the default's), active unless told
    otherwise; with `expected_version`, only if the newest version is still that one (0: none)."""
    channel = _channel(session, data.channel, actor=actor)
    scope_id = channel.id if channel is not None else DEFAULT_SCOPE
    last = repository.last_version(session, scope_id)
    if expected_version is not None and expected_version != last:
        raise PreconditionFailed(
            f"the {_scope_name(channel)} rule set is at version {last}, not {expected_version}: "
            "read it again and retry",
            code="routing.rule_set_version_mismatch",
            expected=expected_version,
            current=last,
        )
    now = clock.now()
    rule_set = RoutingRuleSet(
        scope_id=scope_id,
        channel_id=channel.id if channel is not None else None,
        version=last + 1,
        active=False,
        rules=RuleSetRules.model_validate(
            data.model_dump(include=set(RuleSetRules.model_fields))
        ).model_dump(mode="json"),
        note=data.note,
        created_by=actor.label,
        created_at=now,
        activated_by=None,
        activated_at=None,
    )
    try:
        with session.begin_nested():
            repository.add_rule_set(session, rule_set)
    except IntegrityError as exc:
        raise RuleSetVersionTaken(_scope_name(channel), last + 1) from exc
    audit.record(
        session,
        actor=actor.label,
        action="routing.rule_set_created",
        entity_type="routing_rule_set",
        entity_id=str(rule_set.id),
        after=_audited(rule_set, channel),
        note=data.note,
    )
    if activate:
        _activate(session, rule_set, channel, actor=actor)
    return rule_set


def activate_rule_set(session: Session, rule_set_id: int, *, actor: Principal) -> RoutingRuleSet:
    """Make this version its scope's active one (a roll-back, when it is an older one)."""
    rule_set = get_rule_set(session, rule_set_id, actor=actor)
    channel = None
    if rule_set.channel_id is not None:
        [channel] = catalog.channels_by_ids(session, [rule_set.channel_id])
    if not rule_set.active:
        _activate(session, rule_set, channel, actor=actor)
    return rule_set


def _activate(
    session: Session, rule_set: RoutingRuleSet, channel: Channel | None, *, actor: Principal
) -> None:
    before = repository.active_rule_sets(session).get(rule_set.scope_id)
    repository.activate(session, rule_set.scope_id, rule_set.id)
    rule_set.active = True
    rule_set.activated_by = actor.label
    rule_set.activated_at = clock.now()
    if before is not None and before.id != rule_set.id:
        before.active = False
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="routing.rule_set_activated",
        entity_type="routing_rule_set",
        entity_id=str(rule_set.id),
        before={"active_version": before.version if before is not None else None},
        after={"scope": _scope_name(channel), "active_version": rule_set.version},
    )


def _audited(rule_set: RoutingRuleSet, channel: Channel | None) -> dict[str, Any]:
    return {"scope": _scope_name(channel), "version": rule_set.version, "rules": rule_set.rules}


def get_rule_set(session: Session, rule_set_id: int, *, actor: Principal) -> RoutingRuleSet:
    """One version; a channel's version outside the actor's channel scope does not exist."""
    rule_set = repository.rule_set_by_id(session, rule_set_id)
    if rule_set is None:
        raise RuleSetNotFound(rule_set_id)
    if rule_set.channel_id is not None and actor.channels is not None:
        found = catalog.channels_by_ids(session, [rule_set.channel_id])
        if not found or not actor.sees_channel(found[0].code):
            raise RuleSetNotFound(rule_set_id)
    return rule_set


def search_rule_sets(
    session: Session,
    page: PageRequest,
    *,
    actor: Principal,
    channel: str | None = None,
    default: bool = False,
    active: bool | None = None,
) -> Page[RoutingRuleSet]:
    """Versions, oldest first: of one channel, of the default (`default`), or all; `active`
    keeps only the active (or inactive) ones. A channel-scoped principal sees its channels'
    and the default's."""
    scope_id = None
    if default:
        scope_id = DEFAULT_SCOPE
    elif channel is not None:
        found = _channel(session, channel, actor=actor)
        assert found is not None
        scope_id = found.id
    scopes = None
    if actor.channels is not None and scope_id is None:
        visible = catalog.channels_by_codes(session, actor.channels).values()
        scopes = frozenset({DEFAULT_SCOPE, *(c.id for c in visible)})
    filters = repository.RuleSetFilter(scope_id=scope_id, scope_ids=scopes, active=active)
    return repository.search_rule_sets(session, filters, page)


def rules_for(session: Session, channel_id: int) -> tuple[RuleSet, RoutingRuleSet | None]:
    """The rules that plan the channel's orders now, and the stored version they come from
    (None: the built-in default)."""
    found = repository.active_rule_set(session, channel_id)
    if found is None:
        return DEFAULT_RULE_SET, None
    return RuleSetRules.model_validate(found.rules).to_rule_set(), found
