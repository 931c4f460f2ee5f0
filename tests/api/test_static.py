"""Static files travel compressed (and ES modules minified); API answers do not."""

import shutil
import subprocess
from pathlib import Path

import pytest
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


STATIC = Path(__file__).resolve().parents[2] / "static"


def _modules() -> list[str]:
    return sorted(p.relative_to(STATIC).as_posix() for p in (STATIC / "js").rglob("*.js"))


def test_modules_are_served_without_comments_and_still_parse(client: TestClient) -> None:
    """Every ES module is served minified (app/static_files.py), smaller than its
    source, and still a module Node accepts (the browser tests run the pages on them)."""
    for name in _modules():
        source = (STATIC / name).read_bytes()
        served = client.get(f"/static/{name}", headers={"accept-encoding": "identity"}).content
        assert len(served) < len(source), name
        assert b"/**" not in served, name
        check = subprocess.run(
            ["node", "--experimental-default-type=module", "--check", "-"],
            input=served,
            capture_output=True,
            check=False,
        )
        assert check.returncode == 0, (name, check.stderr.decode()[:400])


def test_the_unit_tests_pass_on_the_modules_as_served(client: TestClient, tmp_path: Path) -> None:
    """tests/js run against the served (minified) modules, not the sources: a
    minifier that cut inside a string or template literal would fail them."""
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "tests" / "js", tmp_path / "tests" / "js")
    shutil.copytree(STATIC, tmp_path / "static")
    shutil.copytree(root / "templates", tmp_path / "templates")
    for name in _modules():
        served = client.get(f"/static/{name}", headers={"accept-encoding": "identity"}).content
        (tmp_path / "static" / name).write_bytes(served)
    run = subprocess.run(
        ["node", "--test", "tests/js/"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-2000:]


def test_minifying_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app.static_files import _minified

    source = b"/** why */\nexport const a = 1; // because\n"
    assert _minified(source) == b"export const a=1;"
    monkeypatch.setenv("CONVVIZ_MINIFY", "0")
    assert _minified(source) == source
