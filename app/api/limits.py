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
"""Largest full step trace (steps x taps) sent back with ``"trace": true`` (or drawn
by an export); past it the trace is left out. The answers' ``geometry`` has no such
limit: the page derives each step from it."""

MAX_TRACE_STEPS: Final = 20_000
"""Most steps in a trace sent back: the explained loop costs about 10 us a step, and a
backward request builds three traces."""

MAX_OUTPUT_ELEMENTS: Final = 16 * 1024 * 1024
"""Largest output tensor, in numbers (transposed convolutions grow their input)."""

MAX_POOL_READS: Final = 200_000_000
"""Largest number of window reads in a pooling (output cells x kernel cells)."""

MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
"""Largest image upload, in bytes."""

# --- whole requests (enforced by app.middleware before a route runs) -----------

MAX_JSON_BODY_BYTES: Final = 36 * 1024 * 1024
"""Largest body of a JSON request under /api/.

Two tensors at ``MAX_TENSOR_ELEMENTS`` in base64 (16 MiB each: an input and its
``grad_output``) and the rest of the request fit, so no request within the tensor
limits is refused for its size when sent compactly. As nested lists the same
numbers take 30 to 60 MiB. FastAPI parses JSON on the event loop: a body at this
limit blocks the worker for about 0.1 s as base64 and 1 s as nested lists of
floats, which is why the limit is not higher.
"""

MAX_UPLOAD_BODY_BYTES: Final = MAX_UPLOAD_BYTES + 64 * 1024
"""Largest body of POST /api/images: the file plus multipart framing and two fields."""

MAX_OTHER_BODY_BYTES: Final = 64 * 1024
"""Largest body anywhere else (pages and GET routes take none)."""

BODY_IDLE_TIMEOUT_SECONDS: Final = 15.0
"""Longest pause between two pieces of a body before the request is dropped (408)."""

BODY_TOTAL_TIMEOUT_SECONDS: Final = 60.0
"""Longest time a whole body may take to arrive (a 10 MiB photo at 2 Mbit/s: 42 s)."""

MAX_FORM_FILES: Final = 1
MAX_FORM_FIELDS: Final = 2
"""The image upload has one file (``file``) and two fields (``mode``, ``max_side``)."""

MAX_FORM_FIELD_BYTES: Final = 1024
"""Largest non-file form field; ours hold a word or a number."""

# --- concurrency (per worker process; run one worker per core) -----------------

COMPUTE_SLOTS: Final = 2
"""Computations (POST /api/...) in flight per worker.

With one worker per core this is two per core: enough to overlap one request's
parsing and serialising with another's numpy work, few enough that the largest
requests cannot exhaust memory (each costs at most a few hundred MiB).
"""

COMPUTE_QUEUE: Final = 64
"""Requests per worker that may wait for a slot; past it they get 503 at once.

A waiting request costs only its connection (its body is not read until it has a
slot), so the queue can absorb a class's burst: 64 lecture-size requests are about
half a second of work for two slots. ``COMPUTE_WAIT_SECONDS`` bounds the wait."""

COMPUTE_WAIT_SECONDS: Final = 1.0
"""Longest wait for a slot before 503; a lecture-size request takes milliseconds."""

RETRY_AFTER_SECONDS: Final = 1
"""Sent with 503 in ``Retry-After``."""

ANSWER_CACHE_BYTES: Final = 32 * 1024 * 1024
"""Memory per worker for answers kept to repeat (app/middleware/response_cache.py):
about 700 X-glyph answers with their traces, or 10,000 padding-slide ones."""

ANSWER_CACHE_MAX_BODY_BYTES: Final = 64 * 1024
"""Largest request body looked up in the answer cache: lecture-size requests (the X
glyph with three filters is 600 bytes, a 64x64 drawing as lists about 20 KiB)."""

ANSWER_CACHE_MAX_ANSWER_BYTES: Final = 1024 * 1024
"""Largest answer kept in the cache."""

# --- backprop, gradient descent and the X/O network (app/api/routes/training.py, network.py)

MAX_DESCENT_ITERATIONS: Final = 1000
"""Most updates one gradient-descent request may run (streamed or not); a page that
wants more continues from the last step's weight and velocity."""

MAX_DESCENT_INPUTS: Final = 8
"""Most inputs (glyphs) one descent loss may average over."""

MAX_DESCENT_WEIGHT_ELEMENTS: Final = 1024
"""Largest weight descent may train, in numbers: every step sends the weight and its
gradient back, so this times the iterations bounds the answer's size."""

MAX_DESCENT_CONVS: Final = 4000
"""Most (iterations + 1) x inputs of a descent run: each is a forward and a backward
convolution, about 0.25 ms for a glyph (numpy's per-call cost dominates), so a run
stays near a second."""

MAX_DESCENT_MACS: Final = 3 * 10**8
"""Most multiply-adds of a whole descent run: iterations x inputs x (forward +
two backward convolutions). A lecture-size run (3 glyphs, 9x9, 3x3, 1000
iterations) needs about 4 million."""

MAX_STREAM_DELAY_MS: Final = 1000
"""Longest pause a stream may ask for between two events (to pace an animation)."""

MAX_STREAM_SECONDS: Final = 120
"""Longest a paced stream may last: iterations x delay must stay under it."""

MAX_XO_SAMPLES: Final = 4096
"""Most generated glyphs an X/O training run may train on."""

MAX_XO_VALIDATION_SAMPLES: Final = 2048
"""Most held-out glyphs an X/O training run may measure on after each epoch."""

MAX_XO_EPOCHS: Final = 200
"""Most epochs of one X/O training run."""

MAX_XO_SAMPLE_EPOCHS: Final = 40_000
"""Most glyph passes (samples x epochs, validation included) of one training run:
about 2.5 s of one core here (the default run, 768 x 15, takes about 0.35 s)."""

MAX_XO_GLYPHS_PREVIEW: Final = 256
"""Most generated glyphs ``GET /api/xo/samples`` returns."""

MAX_TRAINING_STREAMS: Final = 4
"""Most descent or training streams one server process runs at once; past it a new
one gets 503 with Retry-After, so training never starves everything else."""

STREAM_RETRY_AFTER_SECONDS: Final = 5
"""Sent in ``Retry-After`` with the 503 of a stream past ``MAX_TRAINING_STREAMS``: a
default training run is over in well under that."""

# --- exports (app/api/routes/export.py) ------------------------------------------

MAX_GIF_FRAMES: Final = 256
"""Most frames an exported GIF has: one per step up to this, past it every k-th step
(or, with ``per=row``, one per output row), k the smallest that fits
(``app.export.schedule``)."""

MAX_EXPORT_CELLS: Final = 2500
"""Most grid cells one exported frame may draw (the input channels a window reads,
padding included, plus the kernel and the output): past it the numbers would be
too small to read on a slide anyway."""

MAX_GIF_PIXELS: Final = 160_000_000
"""Most pixels over a whole GIF (frames x width x height): each frame is quantised,
compared with the previous one and compressed, about 10 ms per 1280x720 frame, so
this keeps one export to a couple of seconds of one core (173 frames at 1280 wide,
256 at 960)."""

MAX_GIF_DRAWN_CELLS: Final = 40_000
"""Most grid cells drawn for a whole GIF: a frame's cells are drawn once per output
channel (the frames of one channel share them), so cells x output channels."""

MIN_EXPORT_WIDTH: Final = 480
MAX_EXPORT_WIDTH: Final = 1920
"""Exported frame width in pixels (the height is width * 9/16)."""

MAX_CODE_ELEMENTS: Final = 1024 * 1024
"""Most numbers the generated PyTorch code and curl command may embed."""

# --- hostile clients (app/server.py, app/middleware/, app/api/request_budget.py) ----

MAX_JSON_KEYS: Final = 256
"""Most keys of any one JSON object in a body (a request has a few dozen fields); checked
before validation, so 300,000 unknown keys cost a parse, not 300,000 errors."""

MAX_JSON_DEPTH: Final = 12
"""How deep the key count looks (a 4-D tensor in a list of inputs is 6 deep); validation
reads nothing deeper."""

MAX_JSON_ITEMS: Final = 1024 * 1024
"""Most list items and keys in a JSON body (counted as its commas, before parsing): a
tensor of a million numbers as nested lists parses in about 0.1 s, during which the
worker's event loop waits; larger tensors travel compactly (base64)."""

MAX_VALIDATION_ERRORS: Final = 8
"""Validation errors listed in a 422; past it one more item says how many were left out."""

INLINE_PARSE_BYTES: Final = 64 * 1024
"""JSON bodies up to this size are parsed and validated on the event loop (under a
millisecond); larger ones in a worker thread, so the loop keeps serving everyone else."""

MAX_REQUEST_BYTES: Final = 320 * 1024 * 1024
"""Largest memory one computation may take: every stage's tensors (4 bytes a number)
plus the larger of its scratch (the unfolded input) and its answer. A worker's memory
is bounded by its baseline (~80 MiB), two such computations (the slots), the answers
and bodies in flight (below) and the answer cache: about 1.1 GiB."""

MAX_ANSWER_BYTES: Final = 128 * 1024 * 1024
"""Largest answer of one request, counted before computing: 16 bytes per number as JSON
(the longest float32 text with its comma), 16/3 with ?encoding=base64."""

MAX_ANSWERS_IN_FLIGHT_BYTES: Final = 256 * 1024 * 1024
"""Memory a worker may hold for answers whose clients are still reading them (each
answer, plus the one piece of it the server's socket buffer holds). While more is
held, a new computation waits for a slot (then 503): clients that never read cannot
pile answers up in memory."""

ANSWER_STALL_SECONDS: Final = 5.0
"""An answer not moving for this long may be dropped when a new computation needs the
memory of answers in flight (app/middleware/answers.py)."""

MAX_BODIES_IN_FLIGHT_BYTES: Final = 128 * 1024 * 1024
"""Request body bytes a worker may hold while bodies arrive (they are read whole before a
compute slot is taken); past it a body is refused with 503."""

CACHE_WAIT_SECONDS: Final = 2.0
"""Longest wait behind an identical request being computed before computing it again."""

HEAD_TIMEOUT_SECONDS: Final = 10.0
"""Longest time a connection may take to send a request's head (request line and
headers), counted from when it opens or its previous answer was sent."""

MAX_HEAD_BYTES: Final = 256 * 1024
"""Largest request head; the page's state travels in the URL (four tensors of up to
32 KiB of text each). Past it: 431 and the connection is closed."""

KEEP_ALIVE_SECONDS: Final = 5
"""An idle keep-alive connection is closed after this long."""

MAX_CONNECTIONS: Final = 1000
"""Open connections per worker; past it the connection idle the longest (no request in
progress) is closed to make room, so sockets that send nothing cannot lock others out."""

WRITE_TIMEOUT_SECONDS: Final = 30.0
"""Longest a client may leave an answer or a stream unread once the socket's buffers
are full; then the connection is dropped and its memory and slots given back."""

MAX_OPEN_STREAMS: Final = 32
"""Training and descent streams open at once per worker (most of a paced stream's time is
spent waiting); ``MAX_TRAINING_STREAMS`` of them compute at a time."""

# --- layer stacks and the digit network (app/api/routes/stack.py, digits.py) -----

MAX_STACK_LAYERS: Final = 16
"""Most layers one POST /api/stack may run (conv, activation and pooling counted alike)."""

MAX_STACK_FILTERS: Final = 64
"""Most filters (output channels) of one conv layer of a stack: the page offers 32."""

MAX_STACK_MACS: Final = 3 * 10**8
"""Most multiply-adds of a whole stack (every conv layer's output cells x taps): a
4-conv stack on a 128x128 colour photo with 8-16-16-16 filters needs about 40 million."""

MAX_STACK_OUTPUT_ELEMENTS: Final = 4 * 1024 * 1024
"""Most numbers of all layers' outputs together: every one is sent back (16 MiB as
float32, 21 MiB in base64)."""

MAX_DIGIT_STROKES: Final = 64
MAX_DIGIT_POINTS: Final = 4096
"""Most strokes, and points over all strokes, of one drawn digit."""

# --- live rooms (app/api/routes/rooms.py, app/rooms/) ---------------------------

MAX_ROOM_FOLLOWERS: Final = 1000
"""Follower streams (server-sent events) open at once per worker. An idle stream costs
a few KiB and a keep-alive every 15 s; uvicorn's --limit-concurrency 2048 counts them
too, so half of it stays for everything else."""

ROOM_RETRY_AFTER_SECONDS: Final = 5
"""Sent with 503 when every follower stream or room is taken, or Redis is away."""

MAX_ROOM_BODY_BYTES: Final = 64 * 1024
"""Largest body under /api/rooms: a view's query is at most 48 KiB (app/rooms/view.py)."""
