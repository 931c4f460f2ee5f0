"""Reading a server-sent event stream the way a browser does, strictly."""

from __future__ import annotations

import json
from typing import Any


def parse_events(text: str) -> list[dict[str, Any]]:
    """``[{"event", "id", "data"}]`` from an SSE body; fails on anything malformed.

    Every event must end with a blank line and carry exactly one ``event:`` and one
    ``data:`` line holding JSON; ``id:`` is optional and must be an integer.
    """
    assert text.endswith("\n\n"), "the stream must end with a complete event"
    events = []
    for block in text[:-2].split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, sep, value = line.partition(": ")
            assert sep and name in ("event", "id", "data"), f"bad line {line!r}"
            assert name not in fields, f"repeated {name} in {block!r}"
            fields[name] = value
        assert "event" in fields and "data" in fields, block
        events.append(
            {
                "event": fields["event"],
                "id": int(fields["id"]) if "id" in fields else None,
                "data": json.loads(fields["data"]),
            }
        )
    return events
