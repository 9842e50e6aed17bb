"""What every master record shares: a unique insert, merged updates, versions, audit, events."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oms import audit, outbox
from oms.auth.principal import Principal
from oms.catalog import repository
from oms.errors import Conflict, PreconditionFailed
from oms.kit import clock
from oms.kit.validation import parse

M = TypeVar("M", bound=BaseModel)


class VersionedRecord(Protocol):
    """A master record with an optimistic version (its ETag)."""

    version: int
    updated_at: Any


def add_new(session: Session, record: object, *, exists: Callable[[], Conflict]) -> None:
    """Insert `record` in a savepoint; a uniqueness clash raises `exists()`, the transaction
    staying usable."""
    try:
        with session.begin_nested():
            repository.add(session, record)
    except IntegrityError as exc:
        raise exists() from exc


def shape(out: type[M], record: object, **given: Any) -> M:
    """`out` filled from the record's attributes of the same names; `given` fills the rest."""
    fields = {name: getattr(record, name) for name in out.model_fields.keys() - given.keys()}
    return out.model_validate({**fields, **given})


def merge(
    record: object,
    changes: dict[str, Any],
    *,
    schema: type[M],
    exclude: Collection[str] = (),
) -> tuple[M, dict[str, Any]]:
    """Validate the record as it would read after `changes` against its create `schema`.

    Returns the whole merged record and the new values of the changed fields, so an
    update is checked as strictly as a create (a cross-field rule sees both sides).
    """
    stored = {
        name: value
        for name in schema.model_fields.keys() - set(exclude)
        if (value := getattr(record, name)) is not None
    }
    merged = parse(schema, {**stored, **changes})
    values = merged.model_dump()
    return merged, {name: values[name] for name in changes}


def check_version(record: VersionedRecord, expected: int | None, *, entity: str) -> None:
    """Refuse an update made against an older version than the stored one (If-Match)."""
    if expected is not None and expected != record.version:
        raise PreconditionFailed(
            f"{entity} has changed since version {expected}; it is now at version "
            f"{record.version}: read it again and retry",
            code="catalog.version_mismatch",
            expected=expected,
            current=record.version,
        )


def record_created(
    session: Session,
    *,
    entity: str,
    key: str,
    view: dict[str, Any],
    actor: Principal,
) -> None:
    """Audit row and `<entity>.created` event for a new master record."""
    audit.record(
        session,
        actor=actor.label,
        action=f"{entity}.created",
        entity_type=entity,
        entity_id=key,
        after=view,
    )
    outbox.record(session, f"{entity}.created", view, key=f"{entity}:{key}")


def apply_update(
    session: Session,
    record: VersionedRecord,
    changes: dict[str, Any],
    *,
    entity: str,
    key: str,
    view: Callable[[], dict[str, Any]],
    actor: Principal,
    expected_version: int | None,
) -> bool:
    """Set `changes` on `record`, then `record_change`: version, audit row, `<entity>.updated`.

    Returns False (and writes nothing) when no value actually changes.
    """
    check_version(record, expected_version, entity=f"{entity} {key}")
    before = view()
    for name, value in changes.items():
        setattr(record, name, value)
    return record_change(session, record, before, entity=entity, key=key, view=view, actor=actor)


def record_change(
    session: Session,
    record: VersionedRecord,
    before: dict[str, Any],
    *,
    entity: str,
    key: str,
    view: Callable[[], dict[str, Any]],
    actor: Principal,
) -> bool:
    """Raise the version, audit and emit `<entity>.updated` if the record now reads differently.

    `apply_update` ends here; so does a change made in several steps (a record and
    its links): the caller takes `before`, changes the record, then calls this.
    """
    if view() == before:
        return False
    record.version += 1
    record.updated_at = clock.now()
    session.flush()
    after = view()
    action = f"{entity}.updated"
    if before.get("active") is True and after.get("active") is False:
        action = f"{entity}.deactivated"
    elif before.get("active") is False and after.get("active") is True:
        action = f"{entity}.reactivated"
    audit.record(
        session,
        actor=actor.label,
        action=action,
        entity_type=entity,
        entity_id=key,
        before=before,
        after=after,
    )
    outbox.record(session, f"{entity}.updated", after, key=f"{entity}:{key}")
    return True
