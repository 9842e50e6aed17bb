"""Settings and their documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from oms.config import Settings, settings_markdown

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_documents_every_setting() -> None:
    assert settings_markdown() in README.read_text(), "regenerate the README's settings table"


def test_settings_come_from_oms_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PORT", "9001")
    monkeypatch.setenv("OMS_DATABASE_URL", "postgresql+psycopg://x@y/z")

    settings = Settings()

    assert settings.port == 9001
    assert not settings.runs_embedded_worker


def test_the_embedded_worker_defaults_on_with_sqlite() -> None:
    assert Settings(database_url="sqlite:///x.db").runs_embedded_worker


def test_settings_come_from_a_dot_env_file_under_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("OMS_PORT=9002\nOMS_LOG_FORMAT=json\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMS_LOG_FORMAT", raising=False)
    monkeypatch.setenv("OMS_PORT", "9003")

    settings = Settings()

    assert settings.log_format == "json"
    assert settings.port == 9003
