"""POST /api/v1/calculate/ with 1,000 lines, in-process through Django and DRF, against the engine
alone (calculate + as_json) on the same parsed body, measured in the same run."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal

from bench.common import django_setup, report, timed
from bench.workload import mixed_batch

LINES = 1_000


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        django_setup(f"{folder}/bench.sqlite3")
        from django.test import Client

        from accounting import calculate
        from mrv.services.users import user_create_with_token

        _, token = user_create_with_token(
            username="bench-http", role="operator", organisation_name="Bench Co"
        )
        client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_HOST="localhost")
        body = json.dumps({"methodology": "cn-mee-2024", "lines": mixed_batch(LINES)})
        parsed = json.loads(body, parse_float=Decimal, parse_int=Decimal)

        def post() -> int:
            response = client.post("/api/v1/calculate/", body, content_type="application/json")
            assert response.status_code == 200, response.content[:500]
            return len(response.content)

        http_s, size = timed(post, repeat=15, warmup=3)
        engine_s, _ = timed(lambda: calculate(parsed).as_json(), repeat=15, warmup=3)
        ratio = http_s / engine_s
        report(
            f"HTTP: POST /api/v1/calculate/ with {LINES} lines (in-process Django test client)",
            [
                (
                    "request (parse, auth, engine, render)",
                    f"{http_s * 1000:7.1f} ms  ({size / 1024:.0f} KiB response)",
                ),
                ("engine alone (calculate + as_json)", f"{engine_s * 1000:7.1f} ms"),
                ("HTTP / engine", f"{ratio:7.2f} x  (goal <= 3 x)"),
            ],
        )
        return {"http_over_engine": ratio}
