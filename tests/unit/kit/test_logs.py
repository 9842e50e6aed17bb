"""Secrets never reach the logs; events below the level are dropped."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from oms.kit.logs import configure_logging, redact_secrets


def test_values_under_secret_names_are_redacted() -> None:
    event = redact_secrets(None, "info", {"event": "x", "password": "hunter2", "api_key": "k"})

    assert event == {"event": "x", "password": "[redacted]", "api_key": "[redacted]"}


def test_an_api_key_inside_a_message_keeps_only_its_prefix() -> None:
    event = redact_secrets(None, "info", {"event": "saw Bearer oms_abcd1234_s3cr3tS3cr3tS3cr3t"})

    assert event["event"] == "saw Bearer oms_abcd1234_[redacted]"


def test_an_event_below_the_level_is_not_written(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    configure_logging(json=True, level="WARNING")
    try:
        log = structlog.get_logger("oms.test")
        log.info("quiet", n=1)
        log.warning("loud", n=2)
    finally:
        root.handlers[:], root.level = handlers, level
        structlog.configure(**config)

    written = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["event"], e["n"]) for e in written] == [("loud", 2)]
