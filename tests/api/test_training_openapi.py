"""The backprop, descent and X/O endpoints are documented in OpenAPI, with examples."""

from __future__ import annotations

from fastapi.testclient import TestClient

PATHS = {
    "/api/backprop": "post",
    "/api/descent": "post",
    "/api/descent/stream": "post",
    "/api/descent/scenarios/diagonal-detector": "get",
    "/api/xo/forward": "post",
    "/api/xo/train": "post",
    "/api/xo/samples": "get",
}


def test_every_endpoint_is_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, method in PATHS.items():
        operation = spec["paths"][path][method]
        assert len(operation["description"]) > 80, path
    streams = ("/api/descent/stream", "/api/xo/train")
    for path in streams:
        content = spec["paths"][path]["post"]["responses"]["200"]["content"]
        assert "text/event-stream" in content
        assert "503" in spec["paths"][path]["post"]["responses"]


def test_request_examples_are_valid_requests(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name, path in [
        ("BackpropRequest", "/api/backprop"),
        ("DescentRequest", "/api/descent"),
        ("XOForwardRequest", "/api/xo/forward"),
    ]:
        examples = schemas[name]["examples"]
        assert examples, name
        for example in examples:
            r = client.post(path, json=example)
            assert r.status_code == 200, (name, r.text)
