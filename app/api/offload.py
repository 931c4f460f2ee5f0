"""Where a route's computation runs: on the event loop when it is tiny, else in a thread.

A sync route costs a hand-off to the thread pool and back: two context switches
and a wake-up of the event loop, 0.15-0.3 ms measured here, more than a lecture
slide's whole computation (the padding slide's output and trace: ~0.2 ms). Under
load the hand-off also waits for the scheduler. So a computation whose size is
known to be small runs inline, blocking the loop for at most about a millisecond;
anything larger still goes to the thread pool, as every CPU-heavy request must.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from starlette.concurrency import run_in_threadpool

INLINE_MACS: Final = 16_384
"""Multiply-adds of a request, all its traces counted, up to which it runs inline.

The X glyph with the lecture's three filters is 1,323; a 64x64 drawing with a 3x3
kernel, 35,000 (in a thread).
"""

_T = TypeVar("_T")


async def compute(macs: int, work: Callable[[], _T]) -> _T:
    """``work()`` inline when ``macs <= INLINE_MACS``, else in the thread pool."""
    if macs <= INLINE_MACS:
        return work()
    return await run_in_threadpool(work)
