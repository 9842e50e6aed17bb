"""Before/after differences of flat records, as the audit trail stores them."""

from __future__ import annotations

from typing import Any


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Each key whose value differs, as `{key: [old, new]}`."""
    old = before or {}
    new = after or {}
    return {
        key: [old.get(key), new.get(key)]
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    }
