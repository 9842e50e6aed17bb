"""Settings: one object, read from the environment (prefix `OMS_`) and `.env`."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Every setting of Item OMS; the README's table is generated from these fields."""

    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/oms.db",
        description="SQLAlchemy URL: `sqlite:///path` or `postgresql+psycopg://user@host/db`.",
    )
    host: str = Field(default="127.0.0.1", description="Address `oms serve` binds to.")
    port: int = Field(default=8000, description="Port `oms serve` listens on.")
    admin_password: str | None = Field(
        default=None,
        description="Password of the `admin` user made on first start; generated and printed "
        "once when unset.",
    )
    load_demo: bool = Field(
        default=False,
        description="Load the demo dataset on first start (`make run` sets it to true).",
    )
    demo_simulate: bool = Field(
        default=False,
        description="Run the demo's simulated WMS per warehouse, carrier and shop inside "
        "`oms serve` once it answers, so orders move on their own (`make run` sets it to true).",
    )
    embedded_worker: bool | None = Field(
        default=None,
        description="Run the outbox relay inside `oms serve`; default: on with SQLite, off "
        "with PostgreSQL (run `oms worker` there).",
    )
    request_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Requests one API process works on at once (more wait their turn); "
        "default: 8 with SQLite, which has one writer, and the connection pool's size with "
        "PostgreSQL.",
    )
    log_format: LogFormat = Field(
        default=LogFormat.CONSOLE, description="`console` (readable) or `json` (production)."
    )
    log_level: str = Field(default="INFO", description="Lowest level logged.")
    webhook_max_attempts: int = Field(
        default=8, ge=1, description="Delivery attempts before a webhook is dead-lettered."
    )
    webhook_backoff_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay; doubles with each attempt."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time a webhook receiver has to answer."
    )
    snapshot_approval_threshold: int = Field(
        default=25,
        ge=0,
        description="A WMS stock snapshot difference larger than this many units waits for "
        "approval instead of being booked as a count correction.",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the worker looks for due work."
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_embedded_worker(self) -> bool:
        if self.embedded_worker is None:
            return self.is_sqlite
        return self.embedded_worker


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def settings_markdown() -> str:
    """The settings as a Markdown table, for the README."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(unset)" if default is None else f"`{default}`"
        rows.append(f"| `OMS_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows) + "\n"
