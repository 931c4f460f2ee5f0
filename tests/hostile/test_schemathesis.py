"""Property-based requests from the OpenAPI schema, in-process: no 5xx, ever.

Schemathesis generates valid and invalid requests for every operation in
``/openapi.json`` and checks each answer: not a server error, a documented status,
the documented content type and headers, a body matching the response schema, and
invalid data refused. One check is left out everywhere: ``positive_data_acceptance``
(a request the schema allows must succeed) cannot hold here, because the schema
cannot say that tensors must agree in shape (a 5x5 kernel on a 3x3 input is
schema-valid and rightly refused with 422).

Bounded for CI (under a minute and a half on 2 cores): a fixed seed, so a failure
reproduces, and few examples for the operations that cost seconds each (GIF and PNG
export, training streams paced by ``delay_ms``).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, response_schema_conformance

from app.api import limits
from app.main import app

SLOW = r"^/api/(export/|xo/train|descent/stream)"

# Its answer is a DescentRequest, a component also used as a request body:
# schemathesis rewrites that shared component's tuples (prefixItems) to the old
# draft's form for generating requests, then finds it invalid when it validates the
# response against Draft 2020-12 ("Invalid Schema Object in response definition").
SHARED_COMPONENT = {"/api/descent/scenarios/diagonal-detector"}

fast_operations = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex=SLOW)
slow_operations = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=SLOW)
# The coverage phase's boundary cases would be their largest, multi-second exports and
# training runs; the schema's own examples and generated requests remain.
slow_operations.config.phases.coverage.enabled = False

COMMON = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


def _excluded(case: schemathesis.Case) -> list[object]:
    checks: list[object] = [positive_data_acceptance]
    responses = case.operation.definition.raw.get("responses", {})
    streams = any("text/event-stream" in r.get("content", {}) for r in responses.values())
    if streams or case.operation.path in SHARED_COMPONENT:
        # Streams: schemathesis validates each server-sent event, parsed into
        # {event, data, id}, against the declared schema, which says only "text".
        checks.append(response_schema_conformance)
    return checks


def _check(case: schemathesis.Case) -> None:
    body = case.body
    delay = body.get("delay_ms") if isinstance(body, dict) else None
    if isinstance(delay, int) and 0 <= delay <= limits.MAX_STREAM_DELAY_MS:
        # A valid pacing only sleeps between events; keep it short so the run stays
        # bounded (an invalid one is left alone: it must still be refused).
        body["delay_ms"] = min(delay, 5)  # type: ignore[index]
    case.call_and_validate(excluded_checks=_excluded(case))  # type: ignore[arg-type]


@fast_operations.parametrize()
@settings(max_examples=60, **COMMON)  # type: ignore[arg-type]
def test_the_api_never_answers_5xx_and_matches_its_schema(case: schemathesis.Case) -> None:
    _check(case)


@slow_operations.parametrize()
@settings(max_examples=30, **COMMON)  # type: ignore[arg-type]
def test_slow_operations_never_answer_5xx(case: schemathesis.Case) -> None:
    _check(case)
