"""The exception tree of Item OMS. Errors carry a stable `code`, never an HTTP status.

    OmsError
    ├── NotFound                 (code `<package>.<thing>_not_found`)
    ├── Conflict                 a state or uniqueness clash
    │   ├── InvalidTransition    a state machine refused an action
    │   └── IdempotencyConflict  same Idempotency-Key, different request
    ├── PreconditionFailed       If-Match named a version that is no longer current
    ├── ValidationFailed         bad input; carries one Problem per field
    ├── Unauthenticated          no or bad credentials
    └── PermissionDenied         the principal may not do this

`api/problems.py` maps each branch to RFC 9457 problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (`lines[2].sku`), what, and a stable code."""

    path: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "code": self.code}


class OmsError(Exception):
    """Base of every business failure."""

    code: str = "oms.error"
    title: str = "Request failed"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details


class NotFound(OmsError):
    code = "oms.not_found"
    title = "Not found"

    def __init__(self, entity: str, key: object, *, code: str | None = None) -> None:
        super().__init__(
            f"{entity} {key!s} does not exist",
            code=code or f"{entity.split('.')[0]}.not_found",
            entity=entity,
            key=str(key),
        )


class Conflict(OmsError):
    code = "oms.conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    code = "oms.invalid_transition"
    title = "Action not allowed in this state"


class IdempotencyConflict(Conflict):
    code = "idempotency.key_reused"
    title = "Idempotency-Key reused with a different request"


class PreconditionFailed(OmsError):
    code = "oms.precondition_failed"
    title = "Precondition failed"


class Unauthenticated(OmsError):
    code = "auth.unauthenticated"
    title = "Authentication required"


class PermissionDenied(OmsError):
    code = "auth.forbidden"
    title = "Forbidden"


class ValidationFailed(OmsError):
    """Bad input; `problems` names every field that is wrong, not just the first."""

    code = "validation.failed"
    title = "Validation failed"

    def __init__(
        self,
        problems: list[Problem],
        *,
        message: str = "The request is not valid",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.problems = problems

    def __str__(self) -> str:
        listed = "; ".join(f"{p.path}: {p.message}" for p in self.problems)
        return f"{self.message}: {listed}" if listed else self.message
