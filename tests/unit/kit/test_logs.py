"""Secrets never reach the logs."""

from __future__ import annotations

from oms.kit.logs import redact_secrets


def test_values_under_secret_names_are_redacted() -> None:
    event = redact_secrets(None, "info", {"event": "x", "password": "hunter2", "api_key": "k"})

    assert event == {"event": "x", "password": "[redacted]", "api_key": "[redacted]"}


def test_an_api_key_inside_a_message_keeps_only_its_prefix() -> None:
    event = redact_secrets(None, "info", {"event": "saw Bearer oms_abcd1234_s3cr3tS3cr3tS3cr3t"})

    assert event["event"] == "saw Bearer oms_abcd1234_[redacted]"
