"""The ASGI app that `oms serve` (uvicorn) loads: `oms.api.main:app`."""

from oms.api.app import create_app
from oms.config import get_settings
from oms.kit import heap
from oms.kit.logs import configure_logging

_settings = get_settings()
configure_logging(json=_settings.log_format == "json", level=_settings.log_level)
app = create_app(_settings)
# What start-up made lives as long as the process: out of the collector's sight.
heap.settle()
