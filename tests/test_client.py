"""convviz.client against the app in process: numpy in and out for each operation,
the server's messages in exceptions, the view's iframe, and the link form of
tensors checked against the page's own state.js."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from app.main import app
from convviz.client import Client, ConvvizError, decode, encode, tensor_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cv() -> Iterator[Client]:
    with TestClient(app) as http:
        yield Client(http=http)


def test_encode_and_decode_round_trip_float32() -> None:
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7
    wire = encode({"input": a, "stride": (2, 1), "bias": None})
    assert wire["input"]["dtype"] == "float32" and wire["input"]["shape"] == [2, 3, 4]
    assert wire["stride"] == [2, 1] and "bias" not in wire
    back = decode(json.loads(json.dumps(wire)))["input"]
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, a.astype(np.float32))


@settings(max_examples=15, deadline=None)
@given(
    x=arrays(np.float32, (2, 7, 6), elements=st.floats(-4, 4, width=32)),
    w=arrays(np.float32, (3, 2, 3, 2), elements=st.floats(-2, 2, width=32)),
    stride=st.integers(1, 2),
    padding=st.integers(0, 2),
)
def test_conv2d_matches_pytorch(
    cv: Client, x: np.ndarray, w: np.ndarray, stride: int, padding: int
) -> None:
    out = cv.conv2d(x, w, stride=stride, padding=padding, trace=False)
    expected = F.conv2d(
        torch.from_numpy(x)[None], torch.from_numpy(w), stride=stride, padding=padding
    )
    assert isinstance(out["output"], np.ndarray)
    np.testing.assert_allclose(out["output"], expected[0].numpy(), rtol=1e-5, atol=1e-5)


def test_the_lecture_padding_slide(cv: Client) -> None:
    x = np.array(
        [[2, 2, 3, 3, 3], [0, 1, 3, 0, 3], [2, 3, 0, 1, 3], [3, 3, 2, 1, 2], [3, 3, 0, 2, 3]],
        dtype=np.float32,
    )
    w = np.array([[2, 0, 1], [1, 0, 0], [0, 1, 1]], dtype=np.float32)
    out = cv.conv2d(x, w, padding=1, stride=2, trace=False)["output"]
    np.testing.assert_array_equal(out, [[1, 5, 6], [7, 8, 3], [3, 10, 4]])


def test_every_other_operation_returns_numpy(cv: Client) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 6)).astype(np.float32)
    t = torch.from_numpy(x)[None]
    pooled = cv.max_pool2d(x, 2)
    np.testing.assert_allclose(pooled["output"], F.max_pool2d(t, 2)[0].numpy())
    np.testing.assert_allclose(
        cv.avg_pool2d(x, 3, stride=1)["output"], F.avg_pool2d(t, 3, 1)[0].numpy(), rtol=1e-6
    )
    np.testing.assert_allclose(cv.activation(x, "relu")["output"], F.relu(t)[0].numpy(), rtol=1e-6)
    wt = rng.standard_normal((2, 1, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(
        cv.conv_transpose2d(x, wt, stride=2, trace=False)["output"],
        F.conv_transpose2d(t, torch.from_numpy(wt), stride=2)[0].numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    glyph = np.where(np.eye(9) + np.fliplr(np.eye(9)) > 0, 1.0, -1.0).astype(np.float32)
    votes = cv.xo_forward(glyph)
    assert votes["prediction"] == "X" and isinstance(votes["probabilities"], np.ndarray)
    np.testing.assert_allclose(votes["probabilities"].sum(), 1.0, rtol=1e-5)
    w = np.eye(3, dtype=np.float32)
    bp = cv.backprop(glyph, w, loss="sum")
    wt_ = torch.from_numpy(w)[None, None].requires_grad_()
    F.conv2d(torch.from_numpy(glyph)[None, None], wt_).sum().backward()
    np.testing.assert_allclose(bp["grad_weight"], wt_.grad[0, 0].numpy(), rtol=1e-5)
    samples = cv.xo_samples(count=2)["glyphs"]
    assert len(samples) == 2 and all(np.asarray(g).shape == (9, 9) for g in samples)
    assert "kernels" in cv.presets()


def test_streams_yield_numpy_events(cv: Client) -> None:
    glyph = np.where(np.eye(5) > 0, 1.0, -1.0).astype(np.float32)
    events = list(
        cv.descent_stream(
            [glyph], np.zeros((3, 3), np.float32), loss="sum", lr=0.1, max_iterations=3
        )
    )
    names = [name for name, _ in events]
    assert names[:4] == ["step"] * 4 and names[-1] == "done"
    assert isinstance(events[0][1]["weight"], np.ndarray)


def test_images_and_exports(cv: Client) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(6, 8)).save(buf, format="PNG")
    img = cv.image(buf.getvalue(), max_side=8)
    assert img.shape == (1, 6, 8)
    np.testing.assert_array_equal(img[0], np.arange(48).reshape(6, 8))
    png = cv.export("png", input=img, weight=np.ones((3, 3), np.float32))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_carry_the_servers_message(cv: Client) -> None:
    with pytest.raises(ConvvizError) as caught:
        cv.conv2d(np.ones((4, 4)), np.ones((2, 2)), stride=0)
    assert caught.value.status == 422
    assert "stride" in str(caught.value) and caught.value.detail[0]["loc"] == ["stride"]
    with pytest.raises(ConvvizError, match="NaN|finite"):
        cv.conv2d(np.array([[np.nan, 1.0]]), np.ones((1, 1)))


def test_a_view_is_an_iframe_of_the_embed_view(cv: Client) -> None:
    x = np.array([[1, 1, 1, 0], [0, 0, 0, 0]], dtype=np.float32)
    view = cv.view(input=x, weight=np.eye(2), s=2, act="relu", step=3)
    assert view.query == "?in=1x2x4:1*3,0*5&k=1x1x2x2:1,0,0,1&s=2&act=relu&step=3"
    markup = view._repr_html_()
    assert markup.startswith('<iframe src="http://testserver/embed?in=1x2x4:1*3,0*5&amp;k=')
    assert 'title="convviz"' in markup
    assert cv.http.get(view.url).status_code == 200
    assert cv.view("?p=1").query == "?p=1"


def test_the_link_form_matches_state_js() -> None:
    rng = np.random.default_rng(1)
    cases = [
        np.array([[[0.1111111, -0.0, 2.0, 2.0, 2.0, 1e-7, 123456789.0]]]),
        rng.integers(-2, 3, (2, 3, 3)).astype(float),
        rng.standard_normal((1, 2, 3)),
        # Every magnitude JavaScript writes differently (exponents below 1e-6 and from 1e21).
        rng.standard_normal((1, 6, 8)) * 10.0 ** rng.integers(-12, 26, (1, 6, 8)),
    ]
    script = (
        "import { encodeTensor } from './static/js/core/state.js';"
        "const cases = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(cases.map(encodeTensor)));"
    )
    data = json.dumps([c.tolist() for c in cases])
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, data],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == [tensor_text(c, 3) for c in cases]


def test_the_notebook_example_in_docs_runs(
    cv: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/CLIENT.md's session, run as written against the app in process."""
    text = (ROOT / "docs" / "CLIENT.md").read_text("utf-8")
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    Image.fromarray(np.full((4, 4), 200, np.uint8)).save(tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    import convviz.client

    monkeypatch.setattr(convviz.client, "Client", lambda *a, **k: cv)
    exec(compile(block, "docs/CLIENT.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "422: stride: Input should be greater than or equal to 1" in printed
