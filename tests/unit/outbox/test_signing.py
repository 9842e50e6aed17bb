"""Standard Webhooks signatures: ours verify with the reference library, and the reverse."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from oms.outbox import signing
from oms.outbox.signing import InvalidSignature

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
NOW = 1_700_000_000


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = signing.new_secret()

    assert secret.startswith("whsec_")
    assert len(signing.secret_key(secret)) == 32
    assert secret != signing.new_secret()


def test_our_signature_verifies_with_the_standard_webhooks_library() -> None:
    body = b'{"id":"evt_1","type":"item.created","data":{}}'
    now = int(dt.datetime.now(dt.UTC).timestamp())

    headers = signing.headers(SECRET, message_id="evt_1", timestamp=now, body=body)

    assert Webhook(SECRET).verify(body, headers)["id"] == "evt_1"


def test_a_signature_from_the_standard_webhooks_library_verifies_with_ours() -> None:
    body = b'{"a":1}'
    at = dt.datetime.fromtimestamp(NOW, dt.UTC)
    signature = Webhook(SECRET).sign("msg_1", at, body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": signature}

    signing.verify(SECRET, headers, body, now=NOW)


@given(body=st.binary(max_size=200), message_id=st.text(min_size=1, max_size=30))
def test_any_signed_message_verifies(body: bytes, message_id: str) -> None:
    headers = signing.headers(SECRET, message_id=message_id, timestamp=NOW, body=body)

    signing.verify(SECRET, headers, body, now=NOW)


def test_a_changed_body_fails_verification() -> None:
    headers = signing.headers(SECRET, message_id="evt_1", timestamp=NOW, body=b"{}")

    with pytest.raises(InvalidSignature):
        signing.verify(SECRET, headers, b'{"x":1}', now=NOW)


def test_another_secret_fails_verification() -> None:
    headers = signing.headers(SECRET, message_id="evt_1", timestamp=NOW, body=b"{}")

    with pytest.raises(InvalidSignature):
        signing.verify(signing.new_secret(), headers, b"{}", now=NOW)


def test_a_message_older_than_the_tolerance_fails_verification() -> None:
    headers = signing.headers(SECRET, message_id="evt_1", timestamp=NOW - 301, body=b"{}")

    with pytest.raises(InvalidSignature, match="more than 300 s"):
        signing.verify(SECRET, headers, b"{}", now=NOW)


def test_one_matching_signature_among_several_is_enough() -> None:
    headers = signing.headers(SECRET, message_id="evt_1", timestamp=NOW, body=b"{}")
    headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]

    signing.verify(SECRET, headers, b"{}", now=NOW)


def test_missing_headers_fail_verification() -> None:
    with pytest.raises(InvalidSignature, match="required"):
        signing.verify(SECRET, {"webhook-id": "evt_1"}, b"{}", now=NOW)


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ValueError, match="base64"):
        signing.secret_key("whsec_not base64!")
