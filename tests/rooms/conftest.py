"""Fixtures of tests/live.py: a real Redis and two app processes joined by it."""

from tests.live import redis_url, two_servers

__all__ = ["redis_url", "two_servers"]
