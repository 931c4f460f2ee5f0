"""Give memory back to the system after a large answer.

glibc's allocator keeps freed memory for reuse: after one 700 MiB answer a worker
stayed at 2.4 GB. Blocks over its mmap threshold go back at once, but the threshold
grows (up to 32 MiB) each time such a block is freed, so the pieces of later large
answers land in the heap and stay there. ``malloc_trim(0)`` returns the free pages
of every heap (glibc 2.8 and later); it costs a few milliseconds, so it runs only
after answers of ``TRIM_AFTER_BYTES`` or more. Elsewhere (musl, macOS) it does nothing.
A request's objects sit in reference cycles (the request, its scope, the framework's
exit stacks), which only the cyclic collector frees: with their tensors that was a
further 60-130 MiB kept until the next full collection, so it runs first.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from typing import Final

TRIM_AFTER_BYTES: Final = 8 * 1024 * 1024


def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back() -> bool:
    """Free what only reference cycles still hold, and return free heap memory to the
    system; False where the C library cannot."""
    gc.collect()
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
