"""Standard Webhooks signatures (https://www.standardwebhooks.com), pure functions.

A secret reads `whsec_<base64 key>`. A message is signed as
`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`; the receiver finds
the id, the timestamp (Unix seconds) and the signatures (space-separated, so a
secret can be rotated without a gap) in the headers `webhook-id`,
`webhook-timestamp` and `webhook-signature`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from oms.errors import OmsError

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(OmsError):
    """A webhook whose headers are missing, too old or too new, or whose signature fails."""

    code = "webhooks.invalid_signature"
    title = "Webhook signature invalid"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret carries (the base64-decoded part after `whsec_`)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is `whsec_` followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one message: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one message."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id=message_id, timestamp=timestamp, body=body),
    }


def verify(
    secret: str,
    received: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check a received webhook's headers against its body; raise InvalidSignature if wrong."""
    lowered = {k.lower(): v for k, v in received.items()}
    message_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (message_id and stamp and signatures):
        raise InvalidSignature("webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise InvalidSignature(f"webhook-timestamp {stamp!r} is not Unix seconds") from exc
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature(
            f"webhook-timestamp {timestamp} is more than {tolerance_seconds} s from now ({now})"
        )
    expected = sign(secret, message_id=message_id, timestamp=timestamp, body=body)
    for candidate in signatures.split():
        if hmac.compare_digest(candidate.encode(), expected.encode()):
            return
    raise InvalidSignature("no signature in webhook-signature matches the body")
