"""A computation runs on the event loop only when it is known to be tiny."""

from __future__ import annotations

import asyncio
import threading

from app.api import offload


def _thread_of(macs: int) -> threading.Thread:
    async def run() -> threading.Thread:
        return await offload.compute(macs, threading.current_thread)

    return asyncio.run(run())


def test_tiny_computations_run_on_the_event_loop() -> None:
    assert _thread_of(offload.INLINE_MACS) is threading.current_thread()


def test_larger_computations_run_in_the_thread_pool() -> None:
    assert _thread_of(offload.INLINE_MACS + 1) is not threading.current_thread()
