"""Static files travel compressed; API answers do not."""

from fastapi.testclient import TestClient


def test_static_files_are_gzipped_when_the_browser_accepts_it(client: TestClient) -> None:
    r = client.get("/static/js/view/render.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < len(r.content) / 2
    plain = client.get("/static/js/view/render.js", headers={"accept-encoding": "identity"})
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


def test_a_browser_with_the_file_gets_304_and_no_body(client: TestClient) -> None:
    first = client.get("/static/js/view/render.js", headers={"accept-encoding": "gzip"})
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"  # names carry no version: ask each time
    again = client.get(
        "/static/js/view/render.js", headers={"accept-encoding": "gzip", "if-none-match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_head_gives_the_length_without_the_body(client: TestClient) -> None:
    get = client.get("/static/js/view/render.js", headers={"accept-encoding": "identity"})
    head = client.head("/static/js/view/render.js", headers={"accept-encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(get.content)


def test_gzip_refused_with_q_0_is_not_sent(client: TestClient) -> None:
    r = client.get("/static/js/view/render.js", headers={"accept-encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in r.headers


def test_nothing_outside_the_folder_is_served(client: TestClient) -> None:
    for path in ("/static/../app/main.py", "/static/%2e%2e/app/main.py", "/static//etc/passwd"):
        assert client.get(path).status_code == 404, path
