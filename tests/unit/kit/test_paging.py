"""Cursors are opaque, round-trip, and refuse what this API did not give out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.errors import ValidationFailed
from oms.kit.paging import decode_cursor, encode_cursor


@given(st.one_of(st.text(), st.integers(), st.none()), st.integers(min_value=1))
def test_a_cursor_decodes_to_what_was_encoded(value: object, row_id: int) -> None:
    assert decode_cursor(encode_cursor([value, row_id])) == [value, row_id]


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "e30", "WzFd"])
def test_a_foreign_cursor_is_a_validation_problem_on_the_cursor_field(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        decode_cursor(cursor)

    assert raised.value.problems[0].path == "cursor"
