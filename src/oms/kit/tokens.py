"""Random secrets and their fingerprints."""

from __future__ import annotations

import hashlib
import secrets


def random_token(nbytes: int = 24) -> str:
    """A URL-safe random secret."""
    return secrets.token_urlsafe(nbytes)


def sha256_hex(text: str) -> str:
    """The SHA-256 fingerprint of `text`, hex encoded."""
    return hashlib.sha256(text.encode()).hexdigest()
