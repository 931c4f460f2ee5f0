"""The broker this process uses: Redis when ``CONVVIZ_REDIS_URL`` is set, else memory."""

from __future__ import annotations

import os

from app.rooms.broker import Broker, MemoryBroker

REDIS_URL_ENV = "CONVVIZ_REDIS_URL"

_broker: Broker | None = None


def broker() -> Broker:
    """One broker per process, chosen on first use."""
    global _broker
    if _broker is None:
        url = os.environ.get(REDIS_URL_ENV, "").strip()
        if url:
            from app.rooms.redis_broker import RedisBroker  # redis only when asked for

            _broker = RedisBroker(url)
        else:
            _broker = MemoryBroker()
    return _broker


def use(new: Broker | None) -> None:
    """Replace the process's broker (tests)."""
    global _broker
    _broker = new
