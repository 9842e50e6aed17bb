"""The principal: who is acting, with which roles and scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oms.auth.permissions import Permission, Role, allows


@dataclass(frozen=True)
class Principal:
    """A user or an API key, as a request or a command sees it.

    `channels` / `warehouses` are `None` when unscoped (everything), else the
    only codes this principal may see and change.
    """

    kind: str
    id: int
    name: str
    roles: frozenset[Role]
    channels: frozenset[str] | None = None
    warehouses: frozenset[str] | None = None

    @property
    def label(self) -> str:
        """How the audit trail and the logs name this principal."""
        return f"{self.kind}:{self.name}"

    def can(self, permission: Permission) -> bool:
        return allows(self.roles, permission)

    def sees_channel(self, code: str) -> bool:
        return self.channels is None or code in self.channels

    def sees_warehouse(self, code: str) -> bool:
        return self.warehouses is None or code in self.warehouses

    def visible_channels(self, codes: Iterable[str]) -> list[str]:
        return [c for c in codes if self.sees_channel(c)]


SYSTEM = Principal(kind="system", id=0, name="system", roles=frozenset({Role.ADMIN}))
"""The principal of the worker, migrations and the demo loader."""
CLI_OPERATOR = Principal(kind="cli", id=0, name="operator", roles=frozenset({Role.ADMIN}))
"""Whoever runs `oms` commands on the server: they hold its database, so they act as an
admin."""
