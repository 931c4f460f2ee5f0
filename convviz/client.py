"""A Python client for a convviz server: numpy arrays in, numpy arrays out.

    >>> from convviz.client import Client
    >>> cv = Client("http://127.0.0.1:8000")
    >>> out = cv.conv2d(x, w, padding=1, stride=2, trace=False)
    >>> out["output"]                     # a numpy array
    >>> cv.view(input=x, weight=w, p=1, s=2)   # shown in Jupyter as the animation

Every operation's body takes the API's own fields (PyTorch's names, docs/API.md);
any numpy array in it travels as compact base64 float32, and every array in the
answer comes back as a float32 numpy array (the request asks ``?encoding=base64``).
An error answer raises :class:`ConvvizError` carrying the server's messages.
Streams (gradient descent, X/O training) are iterators of ``(event, data)``.

Needs ``httpx2`` (``pip install 'convviz[client]'``); a ``httpx2.Client`` can be
passed in, such as Starlette's ``TestClient(app)`` to run against the app in process.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import numpy as np

_COMPACT = {"dtype", "shape", "base64"}


class ConvvizError(Exception):
    """An error answer: ``status``, the server's ``detail`` list, ``retry_after`` for 503."""

    def __init__(self, status: int, detail: list[dict[str, Any]], retry_after: str | None) -> None:
        self.status, self.detail, self.retry_after = status, detail, retry_after
        messages = "; ".join(str(d.get("msg", d)) for d in detail) or f"HTTP {status}"
        super().__init__(f"{status}: {messages}")


def encode(value: Any) -> Any:
    """A request body with every numpy array in the compact form (little-endian float32)."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value, dtype="<f4")
        return {
            "dtype": "float32",
            "shape": list(data.shape),
            "base64": base64.b64encode(data.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """An answer with every compact array turned into a float32 numpy array."""
    if isinstance(value, dict):
        if value.keys() == _COMPACT and value["dtype"] == "float32":
            raw = base64.b64decode(value["base64"])
            return np.frombuffer(raw, dtype="<f4").reshape(value["shape"]).copy()
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def lists_to_arrays(value: Any, key: str = "") -> Any:
    """Stream events carry arrays as nested lists (SSE has no compact form): each
    rectangular list of numbers becomes a float32 array; shapes stay lists."""
    if isinstance(value, dict):
        return {k: lists_to_arrays(v, k) for k, v in value.items()}
    if isinstance(value, list) and value and not key.endswith("shape"):
        try:
            array = np.asarray(value, dtype=np.float32)
        except (ValueError, TypeError):
            return [lists_to_arrays(v) for v in value]
        return array
    return value


def _js_string(x: float) -> str:
    """``String(x)`` of JavaScript for a finite double (ECMAScript Number::toString)."""
    if x == 0:
        return "0"
    _, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), int(exponent) + len(digits)
    head = "-" if x < 0 else ""
    if k <= n <= 21:
        return head + digits + "0" * (n - k)
    if 0 < n <= 21:
        return head + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return head + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _num(v: float) -> str:
    """A number as static/js/core/state.js writes it (numStr): 6 significant digits."""
    return _js_string(float(f"{float(v):.6g}"))


def tensor_text(array: np.ndarray, rank: int) -> str:
    """A tensor in the page's link form, ``1x3x3:0,1*4,2`` (state.js, encodeTensor)."""
    a = np.asarray(array, dtype=float)
    a = a.reshape((1,) * (rank - a.ndim) + a.shape) if a.ndim < rank else a
    if a.ndim != rank:
        raise ValueError(f"expected at most {rank} dimensions, got {array.ndim}")
    flat = [_num(v) for v in a.ravel()]
    parts: list[str] = []
    i = 0
    while i < len(flat):
        j = i
        while j < len(flat) and flat[j] == flat[i]:
            j += 1
        parts += [f"{flat[i]}*{j - i}"] if j - i >= 3 else flat[i:j]
        i = j
    return "x".join(map(str, a.shape)) + ":" + ",".join(parts)


class View:
    """A view of the visualizer; in Jupyter, the embed view in an iframe."""

    def __init__(self, base_url: str, query: str, width: int = 800, height: int = 450) -> None:
        self.query = query
        self.url = f"{base_url}/embed{query}"
        self.page_url = f"{base_url}/{query}"
        self.width, self.height = width, height

    def _repr_html_(self) -> str:
        src = html.escape(self.url, quote=True)
        return (
            f'<iframe src="{src}" width="{self.width}" height="{self.height}"'
            ' style="border:0" title="convviz" loading="lazy"></iframe>'
        )

    def __repr__(self) -> str:
        return f"View({self.page_url!r})"


#: Friendly names for the view's tensors and their rank in the page's link.
_VIEW_TENSORS = {"input": ("in", 3), "weight": ("k", 4), "target": ("tg", 3)}


class Client:
    """One convviz server. ``http``: a ready ``httpx2.Client`` (its base URL is used)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        http: httpx2.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.http = http or httpx2.Client(base_url=base_url, timeout=timeout)
        self.base_url = str(self.http.base_url).rstrip("/") if http else base_url.rstrip("/")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    # ---- the wire

    def _check(self, res: httpx2.Response) -> httpx2.Response:
        if res.status_code >= 400:
            try:
                detail = res.json().get("detail", [])
            except ValueError:
                detail = [{"msg": res.text[:500]}]
            if not isinstance(detail, list):
                detail = [{"msg": str(detail)}]
            raise ConvvizError(res.status_code, detail, res.headers.get("retry-after"))
        return res

    def call(self, path: str, body: Mapping[str, Any] | None = None, **fields: Any) -> Any:
        """POST an operation (``/api/...``): numpy arrays in ``body`` or ``fields`` go
        compact, arrays in the answer come back as numpy."""
        payload = encode({**(body or {}), **fields})
        res = self.http.post(path, json=payload, params={"encoding": "base64"})
        return decode(self._check(res).json())

    def get(self, path: str, **params: Any) -> Any:
        res = self.http.get(path, params={"encoding": "base64", **params})
        return decode(self._check(res).json())

    def stream(
        self, path: str, body: Mapping[str, Any] | None = None, **fields: Any
    ) -> Iterator[tuple[str, Any]]:
        """A server-sent-event operation: ``(event name, data)`` as they arrive."""
        payload = encode({**(body or {}), **fields})
        with self.http.stream("POST", path, json=payload) as res:
            if res.status_code >= 400:
                res.read()
                self._check(res)
            name, data = "message", []
            for line in res.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif not line and data:
                    yield name, lists_to_arrays(decode(json.loads("\n".join(data))))
                    name, data = "message", []

    # ---- every operation of docs/API.md

    def conv2d(self, input: Any, weight: Any, bias: Any = None, **params: Any) -> dict[str, Any]:
        return self.call("/api/conv2d", input=input, weight=weight, bias=bias, **params)

    def conv_transpose2d(
        self, input: Any, weight: Any, bias: Any = None, **params: Any
    ) -> dict[str, Any]:
        return self.call("/api/conv_transpose2d", input=input, weight=weight, bias=bias, **params)

    def max_pool2d(self, input: Any, kernel_size: Any, **params: Any) -> dict[str, Any]:
        return self.call("/api/max_pool2d", input=input, kernel_size=kernel_size, **params)

    def avg_pool2d(self, input: Any, kernel_size: Any, **params: Any) -> dict[str, Any]:
        return self.call("/api/avg_pool2d", input=input, kernel_size=kernel_size, **params)

    def activation(self, input: Any, function: str, **params: Any) -> dict[str, Any]:
        return self.call("/api/activation", input=input, function=function, **params)

    def backprop(self, input: Any, weight: Any, **params: Any) -> dict[str, Any]:
        return self.call("/api/backprop", input=input, weight=weight, **params)

    def descent(self, inputs: list[Any], weight: Any, **params: Any) -> dict[str, Any]:
        return self.call("/api/descent", inputs=inputs, weight=weight, **params)

    def descent_stream(
        self, inputs: list[Any], weight: Any, **params: Any
    ) -> Iterator[tuple[str, Any]]:
        return self.stream("/api/descent/stream", inputs=inputs, weight=weight, **params)

    def xo_forward(self, input: Any, **params: Any) -> dict[str, Any]:
        return self.call("/api/xo/forward", input=input, **params)

    def xo_train(self, **params: Any) -> Iterator[tuple[str, Any]]:
        return self.stream("/api/xo/train", **params)

    def xo_samples(self, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/api/xo/samples", **params)
        return result

    def presets(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/api/presets")
        return result

    def image(self, file: str | Path | bytes, mode: str = "grey", max_side: int = 64) -> np.ndarray:
        """An image file decoded by the server to ``(C, H, W)``, values 0..255."""
        data = file if isinstance(file, bytes) else Path(file).read_bytes()
        res = self.http.post(
            "/api/images",
            files={"file": ("image", data)},
            data={"mode": mode, "max_side": str(max_side)},
            params={"encoding": "base64"},
        )
        answer = decode(self._check(res).json())
        return np.asarray(answer["input"], dtype=np.float32)

    def export(self, kind: str, body: Mapping[str, Any] | None = None, **fields: Any) -> Any:
        """``gif`` or ``png``: the file's bytes; ``json``, ``code``: the answer."""
        payload = encode({**(body or {}), **fields})
        res = self._check(self.http.post(f"/api/export/{kind}", json=payload))
        return res.content if kind in ("gif", "png") else decode(res.json())

    # ---- views

    def view(self, query: str = "", **state: Any) -> View:
        """A view of the visualizer: its link's query, or its state by URL key (``s=2``,
        ``act="relu"``, ``step=4``) with numpy ``input``, ``weight`` or ``target``."""
        pairs: list[tuple[str, str]] = []
        for name, value in state.items():
            key, rank = _VIEW_TENSORS.get(name, (name, 0))
            if isinstance(value, np.ndarray):
                pairs.append((key, tensor_text(value, rank or value.ndim)))
            elif isinstance(value, bool):
                pairs.append((key, "1" if value else "0"))
            elif isinstance(value, list | tuple):
                pairs.append((key, ",".join(map(str, value))))
            else:
                pairs.append((key, str(value)))
        extra = urlencode(pairs, safe=",:*~")
        base = query.lstrip("?")
        joined = "&".join(p for p in (base, extra) if p)
        return View(self.base_url, f"?{joined}" if joined else "")
