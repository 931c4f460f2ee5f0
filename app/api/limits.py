"""Documented limits on what one request may ask for.

Each is checked before anything large is allocated, and each has a message that
says which limit was hit and how to stay under it. They are sized for a 2-core,
24 GiB machine serving a class: the largest allowed request costs well under a
second of CPU and a few hundred MiB at most.
"""

from typing import Final

MAX_TENSOR_ELEMENTS: Final = 3 * 1024 * 1024
"""Largest tensor in a request (input, weight or grad_output), in numbers."""

MAX_SIDE: Final = 1024
"""Largest height or width of any tensor."""

MAX_CHANNELS: Final = 256
"""Largest number of channels (input or output)."""

MAX_KERNEL_SIDE: Final = 31
"""Largest kernel height or width."""

MAX_STRIDE: Final = 64
MAX_DILATION: Final = 32
MAX_PADDING: Final = 64

MAX_IM2COL_ELEMENTS: Final = 48 * 1024 * 1024
"""Largest unfolded input (taps x output cells): the fast path's working memory."""

MAX_MACS: Final = 10**9
"""Largest number of multiply-adds (output cells x taps x filters)."""

MAX_TRACE_TAPS: Final = 250_000
"""Largest step trace (steps x taps) sent back; past it the trace is left out."""

MAX_TRACE_STEPS: Final = 20_000
"""Most steps in a trace sent back: the explained loop costs about 10 us a step, and a
backward request builds three traces."""

MAX_OUTPUT_ELEMENTS: Final = 16 * 1024 * 1024
"""Largest output tensor, in numbers (transposed convolutions grow their input)."""

MAX_POOL_READS: Final = 200_000_000
"""Largest number of window reads in a pooling (output cells x kernel cells)."""

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
"""Largest image upload, in bytes."""
