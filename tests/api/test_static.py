"""Static files travel compressed; API answers do not."""

from fastapi.testclient import TestClient


def test_static_files_are_gzipped_when_the_browser_accepts_it(client: TestClient) -> None:
    r = client.get("/static/js/render.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < len(r.content) / 2
    plain = client.get("/static/js/render.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == r.content


def test_api_answers_are_not_compressed(client: TestClient) -> None:
    r = client.post(
        "/api/conv2d",
        json={"input": [[1.0] * 40] * 40, "weight": [[1.0]]},
        headers={"accept-encoding": "gzip"},
    )
    assert r.status_code == 200
    assert "content-encoding" not in r.headers
