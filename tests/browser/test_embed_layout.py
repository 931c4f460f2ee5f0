"""The embed for a hall (issue 12, item 6): the font scale grows the text and never
shrinks a grid; grids fill a 1280x720 frame and none overflows, for one channel, three
channels with two filters, and a 64x64 photo; nothing overflows at other frame sizes
(a phone too); channel labels are never cut (short forms carry the full name)."""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.browser

W, H = 1280, 720


def _tensor(shape: tuple[int, ...], values: list[int]) -> str:
    return "x".join(map(str, shape)) + ":" + ",".join(map(str, values))


rng = random.Random(1)
THREE_BY_TWO = (
    f"in={_tensor((3, 7, 7), [rng.choice([0, 1]) for _ in range(147)])}"
    f"&k={_tensor((2, 3, 3, 3), [rng.choice([-1, 0, 1]) for _ in range(54)])}"
)
PHOTO = "in=" + _tensor((1, 64, 64), [(i * 7 + (i // 64) * 3) % 256 for i in range(4096)])
PHOTO += "&sch=byte&k=sobel_x&r=sum"
MEASURE = """() => {
  const views = [...document.querySelectorAll('.gv')].map((el) => {
    const r = el.getBoundingClientRect();
    const canvas = el.querySelector('canvas.heat');
    return { id: el.dataset.view, x: r.left, y: r.top, r: r.right, b: r.bottom,
             cell: r.width / canvas.width };
  });
  const css = (sel) => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize);
  return { views, sum: css('#sum'), caption: css('figcaption') };
}"""


def _open(page, server: str, query: str, size: tuple[int, int] = (W, H)) -> dict:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{server}/embed?{query}")
    page.wait_for_selector("html[data-ready='1']", state="attached")
    page.wait_for_timeout(200)  # the ResizeObserver's layout settles
    return page.evaluate(MEASURE)


@pytest.mark.parametrize(
    "query", ["step=5", THREE_BY_TWO + "&step=5&lang=ru"], ids=["1x1", "3x2-ru"]
)
def test_font_scale_grows_text_and_keeps_the_grids(page, server, query: str) -> None:
    one = _open(page, server, query)
    big = _open(page, server, query + "&fs=1.5")
    assert big["sum"] == pytest.approx(1.5 * one["sum"], rel=0.05)
    assert big["caption"] == pytest.approx(1.5 * one["caption"], rel=0.05)
    assert one["sum"] >= 24 and one["caption"] >= 24
    cells = {v["id"]: v["cell"] for v in one["views"]}
    for v in big["views"]:
        assert v["cell"] >= cells[v["id"]] - 0.01, v["id"]


@pytest.mark.parametrize(
    ("name", "query", "share"),
    [("1x1", "step=5", 0.45), ("3x2", THREE_BY_TWO + "&step=5", 0.4), ("photo", PHOTO, 0.45)],
    ids=["1x1", "3x2", "photo"],
)
@pytest.mark.parametrize("fs", ["1", "1.5"])
def test_grids_fill_the_frame_and_none_overflows(
    page, server, name: str, query: str, share: float, fs: str
) -> None:
    got = _open(page, server, f"{query}&fs={fs}&lang=ru")
    views = got["views"]
    for v in views:
        assert v["x"] >= 0 and v["y"] >= 0 and v["r"] <= W and v["b"] <= H, v
    # The grids' common bounding box: how much of the frame the picture takes.
    box = (max(v["r"] for v in views) - min(v["x"] for v in views)) * (
        max(v["b"] for v in views) - min(v["y"] for v in views)
    )
    assert box / (W * H) > share, name
    kernels = [v for v in views if v["id"].startswith("kernel:")]
    assert all(v["b"] - v["y"] >= 40 or v["cell"] >= 12 for v in kernels), kernels
    _assert_nothing_overflows(page)


def _assert_nothing_overflows(page) -> None:
    got = page.evaluate(OVERFLOW)
    assert not got["grids"], got
    assert not got["out"], got
    assert not got["cut"], got
    for label in got["titled"]:
        # A short label ("f1 ch2") names its channel in full on hover, as its grid's name does.
        assert len(label["title"]) > len(label["text"]) and label["title"] in label["grid"], label


OVERFLOW = """() => {
  const g = document.getElementById('grids');
  const views = [...document.querySelectorAll('.gv')].map((el) => el.getBoundingClientRect());
  const labels = [...document.querySelectorAll('.chan-label')].filter((l) => !l.hidden);
  return {
    grids: g.scrollWidth > g.clientWidth + 1 || g.scrollHeight > g.clientHeight + 1,
    out: views
      .filter((r) => r.left < 0 || r.top < 0
        || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
      .map((r) => [r.left, r.top, r.right, r.bottom]),
    cut: labels.filter((l) => l.scrollWidth > l.clientWidth + 1).map((l) => l.textContent),
    titled: labels.filter((l) => l.title).map((l) => ({
      text: l.textContent, title: l.title,
      grid: l.nextElementSibling.getAttribute('aria-label') })),
  };
}"""


@pytest.mark.parametrize(
    "size", [(1280, 800), (1920, 1080), (390, 844)], ids=lambda s: f"{s[0]}x{s[1]}"
)
@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    ("name", "query"), [("3x2", THREE_BY_TWO + "&step=5"), ("photo", PHOTO)], ids=["3x2", "photo"]
)
def test_other_frames_nothing_overflows(
    page, server, size, lang: str, name: str, query: str
) -> None:
    got = _open(page, server, f"{query}&lang={lang}", size)
    assert got["views"], name
    _assert_nothing_overflows(page)


def test_three_channels_use_the_height_of_the_frame(page, server) -> None:
    """1280x720, three channels and two filters: the figures are not all in one thin
    row any more; the grids' box reaches the lower half of the frame."""
    got = _open(page, server, THREE_BY_TWO + "&step=5&lang=ru")
    bottom = max(v["b"] for v in got["views"])
    assert bottom > 0.75 * H, bottom
    layout = page.evaluate("() => document.getElementById('grids').dataset.layout")
    ms = float(layout.split()[-2])
    assert ms < 1500, layout  # the search only sets box sizes (about 100-200 ms, loaded machine)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_lectures_three_filters_with_relu_and_pooling_read(page, server, lang: str) -> None:
    """Slide 5's three filters, ReLU and max pooling in a 1280x720 embed: six
    figures and a three-line sum. Room kept for text at 1.5 would leave 12 px
    cells; the layout gives that room up for cells one can read."""
    query = "k=diagonal~centre_x~anti_diagonal&act=relu&pool=max&pc=1&step=5"
    got = _open(page, server, f"{query}&lang={lang}")
    maps = [v for v in got["views"] if not v["id"].startswith(("kernel:", "products"))]
    assert min(v["cell"] for v in maps) >= 20, [(v["id"], v["cell"]) for v in maps]
    _assert_nothing_overflows(page)
