"""The permission matrix and its generated documentation."""

from __future__ import annotations

from pathlib import Path

from oms.auth.permissions import DESCRIPTIONS, MATRIX, Permission, Role, allows, matrix_markdown

DOC = Path(__file__).parents[3] / "docs" / "PERMISSIONS.md"


def test_every_permission_has_roles_and_a_description() -> None:
    assert set(MATRIX) == set(Permission) == set(DESCRIPTIONS)


def test_admin_holds_every_permission() -> None:
    assert all(Role.ADMIN in roles for roles in MATRIX.values())


def test_a_viewer_may_only_read() -> None:
    granted = {p for p in Permission if allows(frozenset({Role.VIEWER}), p)}

    assert granted == {
        Permission.CATALOG_READ,
        Permission.INVENTORY_READ,
        Permission.ORDERS_READ,
        Permission.ROUTING_READ,
        Permission.FULFILLMENT_READ,
    }


def test_the_permissions_document_is_generated_from_the_matrix() -> None:
    assert DOC.read_text() == matrix_markdown(), (
        "run: oms permissions --markdown > docs/PERMISSIONS.md"
    )
